"""Strict JSON: parsed at C speed, with line numbers found only when an error must name one.

:func:`loads` is ``json.loads`` with hooks that refuse what the workbench never
accepts: ``NaN``/``Infinity``, numbers that overflow to infinity (``1e400``),
integers longer than :data:`budget.limits.MAX_INT_DIGITS` digits, and duplicate
keys. The hooks do not know where they are; only when one fires (or a field
error needs a line) does :func:`locate` / :func:`find_problem` walk the text's
tokens once to find it. A valid 2 MB result therefore parses without any walk.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from budget.limits import MAX_INT_DIGITS


class StrictJSONError(ValueError):
    """A hook refused a value; :func:`find_problem` locates it in the text."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise StrictJSONError("duplicate key")
    return out


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"number {text[:40]} is too large (not finite)")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise StrictJSONError(f"integer of {len(text.lstrip('-')):,} digits is over the {MAX_INT_DIGITS}-digit limit")
    return int(text)


def _constant(text: str) -> Any:
    raise StrictJSONError(f"{text} is not a number (JSON has no NaN or Infinity)")


def loads(text: str) -> Any:
    """``json.loads`` that raises :class:`StrictJSONError` (duplicates, non-finite, huge ints)."""
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_float, parse_int=_int, parse_constant=_constant)


_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<punct>[{}\[\]:,])
    | (?P<num>-?(?:0|[1-9][0-9]*)(?P<frac>\.[0-9]+)?(?P<exp>[eE][-+]?[0-9]+)?)
    | (?P<word>true|false|null)
    | (?P<bad>NaN|-?Infinity)
    )""",
    re.VERBOSE,
)


def line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


@dataclass
class _Frame:
    kind: str  # "{" or "["
    index: int = 0
    key: Any = None
    expect_key: bool = True
    keys: dict[str, int] = field(default_factory=dict)

    @property
    def step(self) -> Any:
        return self.key if self.kind == "{" else self.index


@dataclass(frozen=True)
class _Event:
    kind: str  # "key" or "value"
    pos: int
    loc: tuple[Any, ...]
    match: re.Match[str]


def _events(text: str, stack: list[_Frame]) -> Iterator[_Event]:
    """Keys and value starts in text order, each with the path of the value it belongs to."""
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            return
        pos = m.end()
        start = m.start(m.lastgroup or 0)
        punct = m.group("punct")
        top = stack[-1] if stack else None
        if punct in ("{", "["):
            yield _Event("value", start, tuple(f.step for f in stack), m)
            stack.append(_Frame(punct))
        elif punct in ("}", "]"):
            if stack:
                stack.pop()
        elif punct == ",":
            if top is not None:
                top.index += 1
                top.expect_key = True
        elif punct == ":":
            continue
        elif m.group("str") is not None and top is not None and top.kind == "{" and top.expect_key:
            try:
                key = json.loads(m.group("str"))
            except ValueError:
                key = m.group("str")[1:-1]
            top.key, top.expect_key = key, False
            yield _Event("key", start, tuple(f.step for f in stack), m)
        else:
            yield _Event("value", start, tuple(f.step for f in stack), m)


def find_problem(text: str) -> tuple[int, str] | None:
    """(line, message) of the first value :func:`loads` refuses, or None."""
    stack: list[_Frame] = []
    for ev in _events(text, stack):
        m = ev.match
        if ev.kind == "key":
            top = stack[-1]
            if top.key in top.keys:
                first = line_at(text, top.keys[top.key])
                return line_at(text, ev.pos), f"duplicate key {top.key!r} (also on line {first})"
            top.keys[top.key] = ev.pos
        elif m.group("bad"):
            return line_at(text, ev.pos), f"{m.group('bad')} is not a number (JSON has no NaN or Infinity)"
        elif m.group("num"):
            num = m.group("num")
            try:
                if m.group("frac") or m.group("exp"):
                    _float(num)
                else:
                    _int(num)
            except StrictJSONError as exc:
                return line_at(text, ev.pos), str(exc)
    return None


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the value at ``loc`` (a key's line for object members), or of its deepest parent."""
    best: tuple[int, int] | None = None  # (depth matched, line)
    if not loc:
        return None
    stack: list[_Frame] = []
    for ev in _events(text, stack):
        path = ev.loc
        n = len(path)
        if n > len(loc) or tuple(str(p) for p in path) != tuple(str(p) for p in loc[:n]):
            continue
        if n == len(loc):
            return line_at(text, ev.pos)
        if best is None or n > best[0]:
            best = (n, line_at(text, ev.pos))
    return best[1] if best else None
