"""The unit of each result field a query names, and a value read by a clause shown with it.

``budget inspect``, the gate's lines of ``budget validate`` and the pages all show a clause's actual
value through here, so ``mttr_p95 < 5m`` reads ``840 s (14.0 min)`` wherever it is shown.
"""

from __future__ import annotations

import re
from typing import Any

from budget.gateway.query import format_value

# the unit of each result field a query names (fields not listed are counts of tasks or plain values)
FIELD_UNITS = {
    "mttr_p95": "s",
    "mttr_p95_critical": "s",
    "mttr_p95_s": "s",
    "degraded_mode_duration": "s",
    "manual_timeout_sec": "s",
    "duration_min": "min",
    "daily_budget_tokens": "tokens",
    "token_health_min": "(0-1)",
    "token_health_trend_5m": "(per 5 min)",
    "second_dip": "(0-1)",
    "escalation_share": "(share)",
    "escalation_ratio": "(share)",
    "silent_p0": "(share)",
    "unresolved_manual_ratio": "(share)",
    "postmortem_gap": "(share)",
    "queue_pressure": "(share of the limit)",
    "failover_to_frontier": "tasks",
    "degraded_queue": "tasks",
    "manual_queue": "tasks",
}
SECONDS = "s"
# a field name: not the unit letters of a number such as the ``m`` of ``5m``
_FIELD = re.compile(r"(?<![0-9.])[A-Za-z_][A-Za-z0-9_.]*")


def unit_of(clause: str) -> str | None:
    """The unit of the field a clause reads (its first name), or None for a count or a plain value."""
    m = _FIELD.search(clause)
    name = m.group(0).rsplit(".", 1)[-1] if m else ""
    if name.startswith("totals") or name in ("local", "frontier", "mid"):
        return "tokens"
    return FIELD_UNITS.get(name) or ("tasks" if name.startswith("manual_queue_after_") else None)


def value_with_unit(clause: str, value: Any) -> str:
    """``840`` read by ``mttr_p95 < 5m`` -> ``840 s (14.0 min)``: the value with the unit of the field named."""
    return _with(unit_of(clause), value)


def seconds_with_unit(clause: str, value: Any) -> str:
    """A value in seconds with its unit (``840 s (14.0 min)``), any other as it is (``15``, ``0.555``).

    The command line's verdict lines: a duration is compared with ``5m`` and cannot be read without its
    unit; a count or a share reads the same with or without one.
    """
    unit = unit_of(clause)
    return _with(unit, value) if unit == SECONDS else format_value(value)


def _with(unit: str | None, value: Any) -> str:
    text = format_value(value)
    if unit is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return text
    if unit == SECONDS and abs(value) >= 120:
        return f"{text} s ({value / 60:.1f} min)"
    return f"{text} {unit}"
