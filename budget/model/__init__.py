"""The model: a budget spec and what it describes, with no run of it.

The spec (``spec``, its ``policy`` block in ``policy``), the compiled plan (``plan``), outage scenarios
(``scenario``), a tier's per-minute capacity (``capacity``), the chapter's durations and clock times
(``units``) and a sweep's variant of a plan (``variants``).

May import: ``budget.files`` and ``budget.errors``. Never the keeper, a drill, the gateway, calibration,
traffic or the workbench.
"""

from budget.model.capacity import tier_capacity_tpm
from budget.model.phases import RESERVE, SLA_KEY
from budget.model.plan import load_plan, plan_json, proportion_check, proportion_line, summary_line
from budget.model.policy import SEVERITIES, Policy
from budget.model.scenario import (
    DEFAULT_MANUAL_TIMEOUT_SEC,
    DEFAULT_ROUTING,
    ROUTING_POLICIES,
    Incident,
    Scenario,
    day_incidents,
    day_scenario,
    load_scenario,
    parse_failure,
    scenario_from_dict,
    scenario_from_document,
    scenario_from_text,
)
from budget.model.spec import (
    BudgetSpec,
    load_spec,
    parse_split,
    scale_spec,
    spec_from_text,
    split_parts,
    tier_totals,
)
from budget.model.units import format_clock, parse_clock, parse_duration
from budget.model.variants import DEFAULT_PRICES, Variant, price_of, spread, variant_spec

__all__ = [
    "BudgetSpec",
    "DEFAULT_MANUAL_TIMEOUT_SEC",
    "DEFAULT_PRICES",
    "DEFAULT_ROUTING",
    "Incident",
    "Policy",
    "RESERVE",
    "ROUTING_POLICIES",
    "SEVERITIES",
    "SLA_KEY",
    "Scenario",
    "Variant",
    "day_incidents",
    "day_scenario",
    "format_clock",
    "load_plan",
    "load_scenario",
    "load_spec",
    "parse_clock",
    "parse_duration",
    "parse_failure",
    "parse_split",
    "split_parts",
    "plan_json",
    "price_of",
    "proportion_check",
    "proportion_line",
    "scale_spec",
    "scenario_from_dict",
    "scenario_from_document",
    "scenario_from_text",
    "spec_from_text",
    "spread",
    "summary_line",
    "tier_capacity_tpm",
    "tier_totals",
    "variant_spec",
]
