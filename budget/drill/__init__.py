"""The drill: real alert streams in, a day replayed with the cheap tier switched off.

Alert formats (``alerts``: CSV, JSONL, Alertmanager, Grafana, PagerDuty), the seeded generator of a day
(``alertgen``), a history split into UTC days (``days``), one day's drill (``replay``) and its history
file (``history``), the drill over several days (``multiday``) and the review signals read from a
history (``review``; the seven ``signals``, each a ``signal``).

May import: ``budget.keeper``, ``budget.model``, ``budget.files``, ``budget.errors``. Never the gateway,
calibration, traffic or the workbench.
"""

from budget.drill.alertgen import AM_RULES, DAY, alertmanager_day, generate_day, rate, to_jsonl
from budget.drill.alerts import (
    DEFAULT_SEVERITY_MAP,
    FORMATS,
    ImportReport,
    SeverityMap,
    first_day,
    flow_per_hour,
    import_alerts,
    load_alerts,
    load_severity_map,
)
from budget.drill.days import load_days
from budget.drill.history import History, apply_history, history_entry, read_history
from budget.drill.multiday import days_csv, days_json, summary_lines
from budget.drill.replay import (
    DrillResult,
    check_drill,
    drill_csv,
    drill_result,
    drill_runs,
    run_drill,
    sorted_incidents,
)
from budget.drill.review import FIRES, NO_DATA, QUIET, count_of, history_from_text, load_history, review

__all__ = [
    "AM_RULES",
    "DAY",
    "DEFAULT_SEVERITY_MAP",
    "DrillResult",
    "FIRES",
    "FORMATS",
    "History",
    "ImportReport",
    "NO_DATA",
    "QUIET",
    "SeverityMap",
    "alertmanager_day",
    "apply_history",
    "check_drill",
    "count_of",
    "days_csv",
    "days_json",
    "drill_csv",
    "drill_result",
    "drill_runs",
    "first_day",
    "flow_per_hour",
    "generate_day",
    "history_entry",
    "history_from_text",
    "import_alerts",
    "load_alerts",
    "load_days",
    "load_history",
    "load_severity_map",
    "rate",
    "read_history",
    "review",
    "run_drill",
    "sorted_incidents",
    "summary_lines",
    "to_jsonl",
]
