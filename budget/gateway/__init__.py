"""The anti-Goodhart gateway: the checks a result must pass before a plan ships.

The inspect query language (``query``), the chapter's budget gate (``gate``), the chapter-10 validator's
format (``goodhart``), the verdict both formats share (``verdict``), the front door that reads either
(``validation``), ``budget assert`` (``assertion``) and the unit of each field a query names (``units``).

May import: ``budget.model``, ``budget.files``, ``budget.errors``. Never the keeper, a drill,
calibration, traffic or the workbench.
"""

from budget.gateway.assertion import assert_spec
from budget.gateway.gate import Check, checks_from_text, load_checks, validate
from budget.gateway.goodhart import edge_drift
from budget.gateway.query import Outcome, evaluate, fields_of, format_value, parse
from budget.gateway.units import seconds_with_unit, value_with_unit
from budget.gateway.validation import CHAPTER, CHAPTER_10, load_rules, rules_from_text, run

__all__ = [
    "CHAPTER",
    "CHAPTER_10",
    "Check",
    "Outcome",
    "assert_spec",
    "checks_from_text",
    "edge_drift",
    "evaluate",
    "fields_of",
    "format_value",
    "load_checks",
    "load_rules",
    "parse",
    "rules_from_text",
    "run",
    "seconds_with_unit",
    "validate",
    "value_with_unit",
]
