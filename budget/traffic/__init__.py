"""Traffic: real LLM traffic in, a plan out to a real gateway.

LiteLLM spend logs (``spendlog``) and their seeded generator (``spendgen``), the workload fitted from
them (``fit``), a plan exported as a LiteLLM proxy or Portkey config (``export``), and the live
keeper that decides real requests in the LiteLLM proxy (``live``).

May import: ``budget.calibration`` (its prices), ``budget.drill``, ``budget.gateway``, ``budget.keeper``,
``budget.model``, ``budget.files``, ``budget.errors``. Never the workbench.
"""

from budget.traffic.endpoints import endpoint_prefix, endpoint_prefixes
from budget.traffic.export import (
    export_text,
    limits_json,
    litellm_dict,
    litellm_env_names,
    litellm_yaml,
    summary_lines,
    tier_limits,
)
from budget.traffic.fit import fit_spend_log, parse_tier_map
from budget.traffic.live import is_live_state, live_day, result_from_state
from budget.traffic.portkey import portkey_dict, portkey_json
from budget.traffic.spendgen import Workload, generate, to_csv, to_json
from budget.traffic.spendlog import parse_spend_log, read_spend_log

__all__ = [
    "Workload",
    "export_text",
    "fit_spend_log",
    "generate",
    "is_live_state",
    "limits_json",
    "litellm_dict",
    "litellm_env_names",
    "litellm_yaml",
    "parse_spend_log",
    "parse_tier_map",
    "portkey_dict",
    "portkey_json",
    "endpoint_prefix",
    "endpoint_prefixes",
    "result_from_state",
    "live_day",
    "read_spend_log",
    "summary_lines",
    "tier_limits",
    "to_csv",
    "to_json",
]
