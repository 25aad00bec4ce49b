"""Strict JSON: parsed at C speed, with line numbers found only when an error must name one.

:func:`loads` is ``json.loads`` with hooks that refuse what the workbench never
accepts: ``NaN``/``Infinity``, numbers that overflow to infinity (``1e400``),
integers longer than :data:`budget.files.limits.MAX_INT_DIGITS` digits, and duplicate
keys. The hooks do not know where they are; only when one fires (or a field
error needs a line) does :func:`locate` / :func:`find_problem` walk the text to
find it, letting the C decoder skip every member that is not on the way. A
valid 2 MB result therefore parses without any walk.
"""

from __future__ import annotations

import json
import json.scanner
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from budget.files.limits import MAX_INPUT_BYTES, MAX_INT_DIGITS

WALK_LIMIT_CHARS = MAX_INPUT_BYTES + 1024  # past this (a big result), an error is reported without its line


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


_WS = re.compile(r"[ \t\n\r]*")
# members no hook can refuse: plain strings, short integers, decimals without exponent, true/false/null
_SAFE_RUN = re.compile(
    r'(?:(?:"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,30})?|true|false|null)[ \t\n\r]*,[ \t\n\r]*)+'
)
_STRICT = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float, parse_int=_int, parse_constant=_constant)
_PLAIN = json.JSONDecoder()
# the C scanner json.loads calls, without its Python wrappers
_SCAN = json.scanner.make_scanner(_STRICT)  # type: ignore[arg-type]  # typeshed has the class, not its argument


def loads_line(line: str) -> Any:
    """One line of a JSON-lines file: :func:`loads`, calling the C scanner directly (twice as fast a line).

    Whatever the scanner does not take as it is (leading whitespace, a BOM, trailing data, text that is
    not JSON) goes through :func:`loads`, so the value and every error are exactly :func:`loads`'.
    """
    try:
        value, end = _SCAN(line, 0)
    except StopIteration:
        return loads(line)
    if end != len(line) and line[end:].strip(" \t\n\r"):
        return loads(line)
    return value


def line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _key(text: str, pos: int) -> tuple[str, int]:
    """An object key at ``pos`` and the position of its value."""
    key, end = scanstring(text, pos + 1)
    end = _ws(text, end)
    if text[end : end + 1] != ":":
        raise ValueError("expected ':'")
    return key, _ws(text, end + 1)


def _next(text: str, end: int) -> int | None:
    """The position of the next member after a value ending at ``end``, or None at the container's end."""
    pos = _ws(text, end)
    return _ws(text, pos + 1) if text[pos : pos + 1] == "," else None


_SAFE_VALUE = re.compile(r'(?:"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,30})?|true|false|null)[ \t\n\r]*,')


def _problem_in(text: str, pos: int, path: tuple[Any, ...] = ()) -> tuple[int, str, tuple[Any, ...]] | None:
    """The first refused value inside the value at ``pos`` (which the strict decoder refused), with its key path."""
    opener = text[pos : pos + 1]
    if opener not in ("{", "["):
        try:
            _STRICT.raw_decode(text, pos)
        except StrictJSONError as exc:
            return pos, str(exc), path
        return None
    keys: dict[str, int] = {}
    index = 0
    p: int | None = _ws(text, pos + 1)
    while p is not None and p <= WALK_LIMIT_CHARS and text[p : p + 1] not in ("}", "]", ""):
        step: Any = index
        if opener == "[":
            run = _SAFE_RUN.match(text, p)
            if run:
                index += sum(1 for _ in _SAFE_VALUE.finditer(run.group(0)))
                p = run.end()
                continue
        else:
            kpos = p
            key, p = _key(text, p)
            if key in keys:
                return kpos, f"duplicate key {key!r} (also on line {line_at(text, keys[key])})", (*path, key)
            keys[key] = kpos
            step = key
        try:
            _, end = _STRICT.raw_decode(text, p)
        except StrictJSONError:
            return _problem_in(text, p, (*path, step))
        p = _next(text, end)
        index += 1
    return None


def find_problem(text: str) -> tuple[int, str] | None:
    """(line, message) of the first value :func:`loads` refuses, or None (also when the text is too big to walk).

    The message starts with the value's key path (``policy.review_share: NaN is not a number ...``)
    when it has one.
    """
    try:
        found = _problem_in(text, _ws(text, 0))
    except (ValueError, RecursionError):
        return None
    if found is None:
        return None
    where = ".".join(str(step) for step in found[2])
    return line_at(text, found[0]), (f"{where}: {found[1]}" if where else found[1])


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the value at ``loc`` (a key's line for object members), or of its deepest parent.

    Members off the path are skipped by the C decoder, so this costs little more than one parse.
    """
    pos = _ws(text, 0)
    line = line_at(text, pos)
    try:
        for step in loc:
            opener = text[pos : pos + 1]
            p: int | None = _ws(text, pos + 1)
            index = 0
            found = None
            while p is not None and text[p : p + 1] not in ("}", "]", "") and opener in ("{", "["):
                if opener == "{":
                    kpos = p
                    key, p = _key(text, p)
                    if key == str(step):
                        found = (kpos, p)
                        break
                elif str(index) == str(step):
                    found = (p, p)
                    break
                _, end = _PLAIN.raw_decode(text, p)
                p, index = _next(text, end), index + 1
            if found is None:
                return line
            line, pos = line_at(text, found[0]), found[1]
    except (ValueError, RecursionError):
        pass
    return line
