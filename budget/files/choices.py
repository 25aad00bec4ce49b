"""The names and defaults the command line offers before any command runs.

``budget --help`` builds every subcommand's parser, and a parser needs its
choices (alert formats, routing policies, gateways) and defaults up front.
They live here, in a module that imports nothing, so that the help and a
usage error cost a bare interpreter start; the modules that own each idea
import their names from here (``budget.drill.alerts.FORMATS`` is ``ALERT_FORMATS``).
"""

from __future__ import annotations

ALERT_FORMATS = ("csv", "jsonl", "alertmanager", "grafana", "pagerduty", "pagerduty-analytics")
SPEND_LOG_FORMATS = ("json", "csv")
ROUTING_POLICIES = ("ranked", "all_to_frontier", "hold_all", "close_silently")
GATEWAYS = ("litellm", "portkey")
# the anti-Goodhart table's line for silent P0: above 2 % of P0 closed without escalation blocks a release
DEFAULT_MAX_SILENT_P0 = 0.02
