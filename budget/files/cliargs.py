"""Strict command-line values: every numeric flag finite, in its documented range, parsed before any work.

``type=`` factories for argparse (:func:`number`, :func:`integer`) turn a bad
value into a usage error (exit 2) that names the flag; the list forms
(``--outages 15,30,45``, sweep ranges, ``--targets``) are parsed here too, with
their limits from :mod:`budget.files.limits`.
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from budget.errors import UsageError
from budget.files.limits import MAX_DURATION_MIN, MAX_INT_DIGITS, MAX_OUTAGES, MAX_SWEEP_VALUES
from budget.files.text import short_repr

MAX_MESSAGE_CHARS = 1000
_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def _float(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _int(text: str) -> int:
    t = text.strip().replace("_", "")
    if len(t.lstrip("+-")) > MAX_INT_DIGITS:
        raise ValueError(text)
    return int(t)


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" from {lo:g} to {hi:g}"
    if lo is not None:
        return f" of at least {lo:g}"
    return f" of at most {hi:g}" if hi is not None else ""


def number(lo: float | None = None, hi: float | None = None, above: bool = False) -> Callable[[str], float]:
    """argparse type: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``above``)."""
    what = "a finite number" + (
        f" above {lo:g}" + (f" and at most {hi:g}" if hi is not None else "") if above else _range_text(lo, hi)
    )

    def convert(text: str) -> float:
        try:
            value = _float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {short_repr(text)}") from None
        if (lo is not None and (value <= lo if above else value < lo)) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, got {short_repr(text)}")
        return value

    return convert


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """argparse type: a whole number in ``[lo, hi]``."""
    what = "a whole number" + _range_text(lo, hi).replace(".0", "")

    def convert(text: str) -> int:
        try:
            value = _int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {short_repr(text)}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, got {short_repr(text)}")
        return value

    return convert


def outages(text: str, flag: str = "--outages") -> list[int]:
    """``15,30,45`` -> [15, 30, 45]: whole minutes 1-1440, duplicates merged, at most MAX_OUTAGES."""
    values: list[int] = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            m = _int(part.strip().removesuffix("m"))
        except ValueError:
            raise UsageError(f"{flag} {short_repr(text)}: must be whole minutes like 15,30,45") from None
        if not 1 <= m <= MAX_DURATION_MIN:
            raise UsageError(f"{flag}: {m} must be between 1 and {MAX_DURATION_MIN} minutes")
        if m not in values:
            values.append(m)
    if not values:
        raise UsageError(f"{flag}: give at least one outage length in minutes")
    if len(values) > MAX_OUTAGES:
        raise UsageError(f"{flag}: {len(values)} different outages, over the limit of {MAX_OUTAGES}")
    return values


def sweep_values(
    text: str, flag: str, lo: float, hi: float, cast: Callable[[float], Any] = float, above: bool = False
) -> list[Any]:
    """``0.05:0.25:0.05`` (start:stop:step, stop included) or ``a,b,c``: finite, in range, at most MAX_SWEEP_VALUES."""
    try:
        parts = (
            [_float(x) for x in text.split(":")] if ":" in text else [_float(x) for x in text.split(",") if x.strip()]
        )
        if ":" in text and len(parts) != 3:
            raise ValueError(text)
    except ValueError:
        raise UsageError(f"{flag} {short_repr(text)}: must be start:stop:step or a comma list of numbers") from None
    raw = parts
    if ":" in text:
        a, b, step = parts
        if step <= 0:
            raise UsageError(f"{flag} {short_repr(text)}: the step must be positive")
        steps = (b - a) / step if b >= a else -1.0
        if not steps < MAX_SWEEP_VALUES:  # also infinity
            raise UsageError(
                f"{flag} {short_repr(text)}: {steps + 1:,.0f} values, over the limit of {MAX_SWEEP_VALUES}"
            )
        count = int(round(steps)) + 1
        raw = [round(a + i * step, 10) for i in range(max(0, count))]
    if not raw:
        raise UsageError(f"{flag} {short_repr(text)}: the range is empty")
    if len(raw) > MAX_SWEEP_VALUES:
        raise UsageError(f"{flag}: {len(raw):,} values, over the limit of {MAX_SWEEP_VALUES}")
    for x in raw:
        if x > hi or (x <= lo if above else x < lo):
            bound = f"above {lo:g}" if above else f"at least {lo:g}"
            raise UsageError(f"{flag}: {x:g} is out of range (must be {bound} and at most {hi:g})")
    values: list[Any] = []
    for x in raw:
        v = cast(x)
        if v not in values:
            values.append(v)
    return values


def targets(text: str, flag: str = "--targets") -> dict[int, float]:
    """``15:0.70,30:0.50`` -> {15: 0.7, 30: 0.5}: minutes 1-1440 once each, floors from 0 to 1."""
    out: dict[int, float] = {}
    for part in text.split(","):
        try:
            minutes, floor = part.split(":")
            m, f = _int(minutes), _float(floor)
        except ValueError:
            raise UsageError(f"{flag} {short_repr(text)}: must be like 15:0.70,30:0.50") from None
        if not 1 <= m <= MAX_DURATION_MIN or not 0 <= f <= 1:
            raise UsageError(f"{flag} {short_repr(part)}: minutes must be 1-{MAX_DURATION_MIN} and the floor 0-1")
        if m in out:
            raise UsageError(f"{flag}: names {m} minutes twice")
        out[m] = f
    return out


def one_line(message: str) -> str:
    """A message as one printable line: line breaks and control characters escaped, length capped."""
    out = []
    for ch in message[: 4 * MAX_MESSAGE_CHARS]:
        if ch == "\t":
            out.append(" ")
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def say_error(message: str) -> None:
    print(one_line(message), file=sys.stderr)
