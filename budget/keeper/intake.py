"""Intake: alert records checked and made into a day's incidents, the loops that run once a record.

:mod:`budget.drill.alerts` knows the formats, their fields and their messages; the
work it does for every record lives here, so that it is compiled with the
keeper (budget/native.py) and reads a day of 100,000 alerts at the speed of
the JSON decoder:

- :func:`generic` turns one generic record (``timestamp``, ``severity``,
  ``service``, ``blast_radius``, ``confidence_gap``, ``id``) into a :class:`Raw`;
- :func:`generic_lines` reads a JSON-lines stream of them, line by line;
- :func:`day_incidents` makes the records of one day into incidents.

A line of a JSON-lines stream is read by :func:`read_line`: the plain C
decoder, and :func:`budget.files.jsonscan.loads_line` (the strict reader) whenever the
plain value might differ from the strict one, so every value and every error
is the strict reader's.
"""

from __future__ import annotations

import dataclasses
import json
import json.scanner
import math
import re
from datetime import UTC, datetime
from typing import Any

from budget.files import MAX_INT_DIGITS, jsonscan, short_repr
from budget.model import Incident

MAX_EPOCH_SEC = 253_402_300_799  # 9999-12-31T23:59:59Z: the last second a datetime can hold
MAX_FIELD_CHARS = 200  # an id or service name; longer ones are cut
DEFAULT_BLAST = {"P0": 4, "P1": 3, "P2": 2, "P3": 1}
_INT_LIMIT = 10**MAX_INT_DIGITS  # the strict reader refuses integers of more digits


class Skip(Exception):
    """A record that cannot be read: skipped and reported with its line and this reason."""


def severity_key(value: Any) -> str:
    """A severity word as the map keys it: lower case, without spaces, ``-`` or ``_``."""
    return re.sub(r"[\s_\-]+", "", str(value).strip().lower())


class SeverityMap:
    """Severity words (keyed by :func:`severity_key`) and PagerDuty priorities, each to P0-P3."""

    def __init__(self, words: dict[str, str], pagerduty: dict[str, str]) -> None:
        self.words = words
        self.pagerduty = pagerduty

    def word(self, value: Any) -> str | None:
        if value is None:
            return None
        if type(value) is str and value in self.words:  # already a key as the map writes it: the common case
            return self.words[value]
        return self.words.get(severity_key(value))


class Raw:
    """One record as read: its line, time (UTC), severity, and what it gave of the rest."""

    __slots__ = ("line", "at", "severity", "service", "blast", "gap", "ident")

    def __init__(
        self,
        line: int,
        at: datetime,
        severity: str,
        service: str | None,
        blast: Any = None,  # float, or the severity's whole-number default (Any: kept as given when compiled)
        gap: float | None = None,
        ident: str | None = None,
    ) -> None:
        self.line = line
        self.at = at
        self.severity = severity
        self.service = service
        self.blast = blast
        self.gap = gap
        self.ident = ident


def ts(value: Any, field_name: str) -> datetime:
    """A UTC time from ISO 8601 text or epoch seconds; anything a datetime cannot hold is skipped."""
    if type(value) is str and value:  # the common case first: what the checks below let through to the parse
        return _iso(value, field_name)
    if value is None or value == "":
        raise Skip(f"missing {field_name}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Skip(f"{field_name}: not a time: {short_repr(value, 40)}")
    if not isinstance(value, str):
        if not (math.isfinite(value) and 0 <= value <= MAX_EPOCH_SEC):
            raise Skip(f"{field_name}: epoch seconds {value!r} out of range (0 to {MAX_EPOCH_SEC})")
        return datetime.fromtimestamp(float(value), tz=UTC)
    return _iso(value, field_name)


def _iso(value: str, field_name: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip()[:64])
        if dt.tzinfo is UTC:  # "...Z" or "+00:00": already the time to return
            return dt
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601, a day that does not exist, or past year 9999 in UTC
        raise Skip(f"{field_name}: not an ISO 8601 time: {short_repr(value, 40)}") from None


def num(value: Any, default: Any, name: str, lo: float, hi: float) -> Any:
    """A number within lo-hi from a number or its text (a float); ``default`` when missing, as it is given
    (typed Any: compiled, a float-typed result would turn a whole-number default into a float)."""
    if type(value) is float:  # the common case first (float() of a float is the float itself)
        if not lo <= value <= hi:  # also refuses NaN
            raise Skip(f"{name}: {short_repr(value, 40)} is outside {lo:g}-{hi:g}")
        return value
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Skip(f"{name}: not a number: {short_repr(value, 40)}")
    try:
        x = float(value)
    except ValueError:
        raise Skip(f"{name}: not a number: {short_repr(value, 40)}") from None
    if not lo <= x <= hi:  # also refuses NaN
        raise Skip(f"{name}: {short_repr(value, 40)} is outside {lo:g}-{hi:g}")
    return x


def text(value: Any) -> str | None:
    """An id or a service name: text or a whole number, cut to MAX_FIELD_CHARS; anything else is left out."""
    if type(value) is str:  # the common case first
        return value[:MAX_FIELD_CHARS] if value else None
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (str, int)):
        return str(value)[:MAX_FIELD_CHARS]
    return None


def generic(rec: dict[str, Any], line: int, sev: SeverityMap) -> Raw:
    """A generic record (a JSON-lines object or a CSV row)."""
    at = ts(rec.get("timestamp"), "timestamp")
    raw_sev = rec.get("severity")
    severity = sev.word(raw_sev)
    if severity is None:
        raise Skip(f"unknown severity {raw_sev!r}" if raw_sev not in (None, "") else "missing severity")
    blast = num(rec.get("blast_radius"), DEFAULT_BLAST[severity], "blast_radius", 0, 1000)
    gap = num(rec.get("confidence_gap"), 0.0, "confidence_gap", 0, 1)
    return Raw(line, at, severity, text(rec.get("service")), blast, gap, text(rec.get("id")))


_PLAIN_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # the C scanner


def read_line(line: str) -> Any:
    """One line of a JSON-lines stream, as :func:`budget.files.jsonscan.loads_line` reads it (value or error).

    The plain C decoder reads the line; its value is taken only when the strict reader's would be the
    same (:func:`_as_strict`), otherwise the strict reader reads the line again.
    """
    try:
        value, end = _PLAIN_SCAN(line, 0)
    except (StopIteration, ValueError, RecursionError):
        return jsonscan.loads_line(line)  # leading space, or not JSON: the strict reader's value or error
    if end != len(line) and line[end:].strip(" \t\n\r"):
        return jsonscan.loads_line(line)
    if type(value) is dict and _as_strict(value, line):
        return value
    return jsonscan.loads_line(line)


def _as_strict(obj: dict[str, Any], line: str) -> bool:
    """Whether the strict reader gives ``obj`` for ``line`` too: a flat object with no duplicate key and
    no value it refuses (NaN, infinity, an integer over MAX_INT_DIGITS digits).

    Duplicates: an object's members are separated by one comma each, and a flat object's other commas
    can only be inside its strings, so the line holds at least (members - 1) commas; the members are
    at least the object's keys (a key given twice is one key). Exactly (keys - 1) commas therefore
    means no key twice (and no comma in a string: a line with one goes to the strict reader).
    """
    if line.count(",") != len(obj) - 1:
        return False
    for v in obj.values():
        if isinstance(v, float):
            if not math.isfinite(v):
                return False
        elif isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        elif isinstance(v, int):
            if not -_INT_LIMIT < v < _INT_LIMIT:
                return False
        else:  # a list or an object: the strict reader checks what is inside
            return False
    return True


def line_value(line: str) -> Any:
    """:func:`read_line`, or the :class:`Skip` (with the reason) of a line that is not valid JSON."""
    try:
        return read_line(line)
    except RecursionError:
        return Skip("not valid JSON (nested too deeply)")
    except ValueError as exc:  # JSONDecodeError, or a value the strict reader refuses
        return Skip(f"not valid JSON ({getattr(exc, 'msg', None) or exc})")


def generic_lines(text: str, sev: SeverityMap, skipped: list[tuple[int, str]], limit: int) -> tuple[list[Raw], int]:
    """The records of a JSON-lines stream of generic objects, and how many records it read.

    Blank lines are not records. A record that cannot be read is added to ``skipped`` with its line.
    Reading stops at record ``limit + 1`` (the count returned is then over ``limit``).
    """
    raws: list[Raw] = []
    records = 0
    n = 0
    for line in text.split("\n"):
        n += 1
        if not line.strip():
            continue
        records += 1
        if records > limit:
            break
        raw = generic_item(line_value(line), n, sev, skipped)
        if raw is not None:
            raws.append(raw)
    return raws, records


def generic_item(obj: Any, line: int, sev: SeverityMap, skipped: list[tuple[int, str]]) -> Raw | None:
    """A parsed generic record (a line's value, or :class:`Skip` for a line that is not JSON; an item of a
    JSON array) as a :class:`Raw`, or None when it cannot be read: then it is added to ``skipped``."""
    try:
        if isinstance(obj, Skip):
            raise obj
        if not isinstance(obj, dict):
            raise Skip("not an object")
        return generic(obj, line, sev)
    except Skip as exc:
        skipped.append((line, str(exc)))
        return None


def day_incidents(raws: list[Raw], day0: datetime) -> tuple[Incident, ...]:
    """The incidents of the records that fall on the day starting at ``day0``, sorted by arrival (then line),
    with stable ids: the record's own, or ``a<line>-<n>`` when it has none or an earlier one took it."""
    incidents: list[Incident] = []
    used: set[str] = set()
    for r in raws if _in_order(raws) else sorted(raws, key=_at_line):
        sec = int((r.at - day0).total_seconds())
        if not 0 <= sec < 86400:
            continue
        ident = r.ident if r.ident and r.ident not in used else f"a{r.line}-{len(incidents) + 1}"
        used.add(ident)
        blast = r.blast if r.blast is not None else DEFAULT_BLAST[r.severity]
        gap = r.gap if r.gap else 0.0
        # every field was checked above: id, severity, arrival_sec, blast_radius, confidence_gap, service
        inc = _NEW(Incident)
        _SET_ID(inc, ident)
        _SET_SEVERITY(inc, r.severity)
        _SET_ARRIVAL(inc, sec)
        _SET_BLAST(inc, blast)
        _SET_GAP(inc, gap)
        _SET_SERVICE(inc, r.service)
        incidents.append(inc)
    return tuple(incidents)


# A day's incidents are built slot by slot, as the frozen dataclass's __init__ does but without its call of
# object.__setattr__ for each field (a third of the day's import); this holds only for these six fields.
_FIELDS = ("id", "severity", "arrival_sec", "blast_radius", "confidence_gap", "service")
if tuple(f.name for f in dataclasses.fields(Incident)) != _FIELDS or hasattr(Incident, "__post_init__"):
    raise ImportError("budget.keeper.intake builds an Incident slot by slot: update it with the class's fields")
_NEW: Any = object.__new__
_SET_ID, _SET_SEVERITY, _SET_ARRIVAL, _SET_BLAST, _SET_GAP, _SET_SERVICE = (
    Incident.__dict__[name].__set__ for name in _FIELDS
)


def _at_line(r: Raw) -> tuple[datetime, int]:
    return (r.at, r.line)


def _in_order(raws: list[Raw]) -> bool:
    """Whether the records are already in (time, line) order (a stream usually is): no sort needed."""
    for i in range(1, len(raws)):
        a, b = raws[i - 1], raws[i]
        if b.at < a.at or (b.at == a.at and b.line < a.line):
            return False
    return True
