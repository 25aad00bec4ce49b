"""A flag's value read by a function of the engine: whatever it refuses is a usage error (exit 2), not bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from budget.errors import BudgetError, UsageError

T = TypeVar("T")


def flag_value(flag: str, parse: Callable[..., T], *args: Any) -> T:
    """``parse(*args)``; a :class:`BudgetError` it raises becomes a :class:`UsageError` naming ``flag``."""
    try:
        return parse(*args)
    except UsageError:
        raise
    except BudgetError as exc:
        text = str(exc)
        raise UsageError(text if text.startswith(flag) else f"{flag}: {text}") from None
