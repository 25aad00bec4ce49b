"""Small text helpers for messages, importing nothing (the CLI's parser uses them before any command runs)."""

from __future__ import annotations

from typing import Any


def short_repr(value: Any, width: int = 60) -> str:
    """``repr`` cut to ``width`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def count_of(n: int, word: str) -> str:
    """``1 day``, ``2 days``: a count with its noun in the right number."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
