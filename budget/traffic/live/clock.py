"""Where the live keeper's time comes from: the wall clock, or a file an operator or a test moves.

``BUDGET_KEEPER_CLOCK`` names a file holding the current time as epoch seconds (one number); every
read of the clock reads the file, so a test replays a 45-minute outage in seconds by writing it.
Unset, the keeper reads the system clock. The keeper's day is the UTC day of that time.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

from budget.errors import BudgetError

CLOCK_ENV = "BUDGET_KEEPER_CLOCK"
DAY_SEC = 86400

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


def file_clock(path: str) -> Clock:
    """A clock that reads epoch seconds from ``path`` at every call."""

    def read() -> float:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(64)
        except OSError as exc:
            raise BudgetError(f"{CLOCK_ENV}={path}: cannot read the clock file ({exc.strerror})") from None
        try:
            value = float(text.strip())
        except ValueError:
            raise BudgetError(f"{CLOCK_ENV}={path}: must hold epoch seconds, got {text.strip()[:30]!r}") from None
        if not math.isfinite(value) or value < 0:
            raise BudgetError(f"{CLOCK_ENV}={path}: must hold epoch seconds, got {text.strip()[:30]!r}")
        return value

    return read


def clock_from_env(env: dict[str, str] | None = None) -> Clock:
    path = (os.environ if env is None else env).get(CLOCK_ENV, "")
    return file_clock(path) if path else system_clock


def day_and_second(t: float) -> tuple[str, int]:
    """The UTC day of epoch time ``t`` (``YYYY-MM-DD``) and the whole seconds since its midnight."""
    whole = int(t)
    day = time.strftime("%Y-%m-%d", time.gmtime(whole))
    return day, whole % DAY_SEC
