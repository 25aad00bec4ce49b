"""Durations and clock times as the chapter writes them: ``30s``, ``10m``, ``2h``, ``11:00``."""

from __future__ import annotations

import functools
import math
import re

from budget.errors import BudgetError
from budget.files import MAX_DURATION_SEC

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_FACTOR = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_duration(value: object, field: str = "duration") -> float:
    """Seconds from ``30s``, ``10m``, ``2h``, ``1d`` or a plain number of seconds (0 to 30 days)."""
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise BudgetError(f"{field}: must be a non-negative number of seconds, got {value!r}")
        seconds = float(value)
    elif isinstance(value, str) and len(value) <= 40:
        m = _DURATION.fullmatch(value)
        if m:
            seconds = float(m.group(1)) * _FACTOR[m.group(2)]
    if seconds is None:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise BudgetError(f"{field}: must be a duration like 30s, 10m or 2h, got {shown}")
    if seconds > MAX_DURATION_SEC:
        raise BudgetError(f"{field}: {value!r} is longer than {MAX_DURATION_SEC // 86400} days")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form: 30 -> 30s, 600 -> 10m, 7200 -> 2h, 90 -> 90s."""
    s = int(round(seconds))
    if s and s % 3600 == 0:
        return f"{s // 3600}h"
    if s and s % 60 == 0 and s >= 600:
        return f"{s // 60}m"
    return f"{s}s"


def parse_clock(value: object, field: str = "start") -> int:
    """Minute of the day from ``HH:MM`` (``11:00`` -> 660)."""
    if isinstance(value, str):
        m = _CLOCK.fullmatch(value.strip())
        if m:
            return int(m.group(1)) * 60 + int(m.group(2))
    raise BudgetError(f"{field}: must be a time of day HH:MM (00:00-23:59), got {value!r}")


@functools.lru_cache(maxsize=4096)
def format_clock(minute: int) -> str:
    """``HH:MM`` for a minute of the day; minutes past midnight wrap to the next day as +1d."""
    day, rest = divmod(int(minute), 1440)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text}+{day}d"
