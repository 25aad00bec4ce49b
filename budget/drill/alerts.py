"""Alert streams in: CSV, JSONL, Prometheus Alertmanager, Grafana and PagerDuty, normalised to incidents.

Every importer yields :class:`budget.model.scenario.Incident` (severity P0-P3, blast
radius, arrival in seconds after 00:00 UTC of the stream's first day, confidence
gap, service). Records that cannot be read are counted and reported with their
line (or item) number; they never stop the import silently.

Severity mapping (``DEFAULT_SEVERITY_MAP``, overridable with a YAML file
``{severity: {word: P0..P3}, pagerduty_priority: {P1: P0, ...}}``):

- generic words, from the vocabularies alerting setups use (case, spaces,
  ``-`` and ``_`` ignored: ``Sev-1``, ``sev_1`` and ``SEV1`` are one word):

  - P0: critical, crit, emergency, emerg, alert, fatal, disaster, blocker,
    urgent, highest, sev0, p0 (syslog's three top levels, Zabbix's disaster,
    Jira's blocker/highest, help desks' urgent);
  - P1: page, high, error, err, major, severe, sev1, p1 (``page``: the
    Alertmanager convention of ``page``/``ticket`` — wake the on-call, so P1
    with its 30-minute SLA and failover; a setup that grades ``critical``
    above ``page`` keeps critical as P0);
  - P2: warning, warn, medium, average, moderate, normal, sev2, p2;
  - P3: ticket, low, info, informational, information, notice, minor,
    trivial, lowest, debug, none, not classified, sev3, sev4, sev5, p3, p4, p5
    (``ticket``: handled in working hours, the 8-hour SLA);

  a word not listed is skipped as "unknown severity" and reported;
- PagerDuty priorities (P1 is PagerDuty's highest): P1 -> P0, P2 -> P1,
  P3 -> P2, P4/P5 -> P3; without a priority, urgency high -> P1, low -> P3;
  ``major: true`` (analytics) -> P0.

Blast radius: the record's ``blast_radius`` (or label) when present, otherwise
by severity (P0 4, P1 3, P2 2, P3 1). Confidence gap: the record's
``confidence_gap`` when present, otherwise 0.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import itertools
import json
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from budget.errors import BudgetError
from budget.files import (
    ALERT_FORMATS,
    MAX_ALERT_FILE_BYTES,
    MAX_ALERTS,
    MAX_CSV_FIELD_CHARS,
    load_document,
    parse_json_text,
    paused,
    read_text,
    short_repr,
)
from budget.keeper.intake import (
    DEFAULT_BLAST,
    SeverityMap,
    day_incidents,
    generic_item,
    generic_lines,
    line_value,
    severity_key,
)
from budget.keeper.intake import Raw as _Raw
from budget.keeper.intake import Skip as _Skip
from budget.keeper.intake import generic as _generic
from budget.keeper.intake import num as _num
from budget.keeper.intake import text as _text
from budget.keeper.intake import ts as _ts
from budget.model import Incident

FORMATS = ALERT_FORMATS
DETECT_LINES = 1000  # lines read to tell the format of a line-by-line stream
SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "P0": ("critical", "crit", "emergency", "emerg", "alert", "fatal", "disaster", "blocker", "urgent", "highest")
    + ("sev0", "p0"),
    "P1": ("page", "high", "error", "err", "major", "severe", "sev1", "p1"),
    "P2": ("warning", "warn", "medium", "average", "moderate", "normal", "sev2", "p2"),
    "P3": ("ticket", "low", "info", "informational", "information", "notice", "minor", "trivial", "lowest")
    + ("debug", "none", "not classified", "sev3", "sev4", "sev5", "p3", "p4", "p5"),
}


DEFAULT_SEVERITY_MAP: dict[str, str] = {
    severity_key(word): level for level, words in SEVERITY_WORDS.items() for word in words
}
DEFAULT_PD_PRIORITY: dict[str, str] = {"p1": "P0", "p2": "P1", "p3": "P2", "p4": "P3", "p5": "P3"}


@dataclass
class ImportReport:
    """What an import read: the format, how many records, what it skipped and why."""

    source: str
    format: str
    records: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    outside_day: int = 0
    day: str = ""

    @property
    def imported(self) -> int:
        return self.records - len(self.skipped) - self.duplicates - self.outside_day

    def summary(self) -> str:
        parts = [f"{self.source}: {self.format}, {self.records:,} records, {self.imported:,} incidents"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} re-sent duplicates dropped")
        if self.outside_day:
            parts.append(f"{self.outside_day:,} after the first day left out")
        if self.skipped:
            first = "; ".join(f"line {n}: {why}" for n, why in self.skipped[:3])
            more = f" (+{len(self.skipped) - 3} more)" if len(self.skipped) > 3 else ""
            parts.append(f"{len(self.skipped):,} skipped ({first}{more})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "day": self.day,
            "records": self.records,
            "incidents": self.imported,
            "duplicates": self.duplicates,
            "outside_day": self.outside_day,
            "skipped": [{"line": n, "reason": why} for n, why in self.skipped],
        }


def load_severity_map(path: str | Path | None) -> SeverityMap:
    words = dict(DEFAULT_SEVERITY_MAP)
    pd = dict(DEFAULT_PD_PRIORITY)
    if path is None:
        return SeverityMap(words, pd)
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "must be a mapping with severity: and/or pagerduty_priority:")
    for section, target in (("severity", words), ("pagerduty_priority", pd)):
        block = doc.data.get(section, {})
        if not isinstance(block, dict):
            raise doc.error((section,), "must map a word to P0, P1, P2 or P3")
        for k, v in block.items():
            if v not in ("P0", "P1", "P2", "P3"):
                raise doc.error((section, k), f"must be P0, P1, P2 or P3, got {v!r}")
            target[severity_key(k) if section == "severity" else str(k).strip().lower()] = v
    unknown = set(doc.data) - {"severity", "pagerduty_priority"}
    if unknown:
        raise doc.error((sorted(map(str, unknown))[0],), "unknown section (use severity, pagerduty_priority)")
    return SeverityMap(words, pd)


def _am_alert(alert: dict[str, Any], line: int, sev: SeverityMap) -> tuple[_Raw, tuple[str, str]]:
    if not isinstance(alert, dict):
        raise _Skip("alert is not an object")
    labels = alert.get("labels") or {}
    if not isinstance(labels, dict):
        raise _Skip("labels is not an object")
    at = _ts(alert.get("startsAt"), "startsAt")
    raw_sev = labels.get("severity")
    severity = sev.word(raw_sev)
    if severity is None:
        raise _Skip(f"unknown severity {raw_sev!r}" if raw_sev else "missing labels.severity")
    service = _text(labels.get("service") or labels.get("job") or labels.get("alertname"))
    fingerprint = (
        _text(alert.get("fingerprint"))
        or hashlib.sha1(json.dumps(labels, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()[
            :16
        ]
    )
    blast = _num(labels.get("blast_radius"), DEFAULT_BLAST[severity], "blast_radius", 0, 1000)
    gap = _num(labels.get("confidence_gap"), 0.0, "confidence_gap", 0, 1)
    return _Raw(line, at, severity, service, blast, gap, fingerprint), (fingerprint, str(alert["startsAt"]))


def _pd_severity(rec: dict[str, Any], sev: SeverityMap, analytics: bool) -> str:
    if analytics and rec.get("major") is True:
        return "P0"
    raw = rec.get("priority_name") if analytics else rec.get("priority")
    prio = raw.get("summary") if isinstance(raw, dict) else raw  # {"summary": "P1"} or just "P1"
    if prio is not None and not isinstance(prio, (str, int)) or isinstance(prio, bool):
        raise _Skip(f"priority: not a name: {short_repr(prio, 40)}")
    if prio:
        mapped = sev.pagerduty.get(str(prio).strip().lower()) or sev.word(prio)
        if mapped is None:
            raise _Skip(f"unknown priority {prio!r}")
        return mapped
    urgency = str(rec.get("urgency") or "").lower()
    if urgency == "high":
        return "P1"
    if urgency == "low":
        return "P3"
    raise _Skip("no priority and no urgency")


def _pd(rec: dict[str, Any], line: int, sev: SeverityMap, analytics: bool) -> _Raw:
    if not isinstance(rec, dict):
        raise _Skip("incident is not an object")
    at = _ts(rec.get("created_at"), "created_at")
    severity = _pd_severity(rec, sev, analytics)
    if analytics:
        service = _text(rec.get("service_name"))
    else:
        service = _text(rec["service"].get("summary")) if isinstance(rec.get("service"), dict) else None
    ident = _text(rec.get("id")) or _text(rec.get("incident_number"))
    return _Raw(line, at, severity, service, DEFAULT_BLAST[severity], 0.0, ident)


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, value or skip) of every non-blank line, read as it is reached (the format's detection
    reads only the first)."""
    for n, line in enumerate(_split_lines(text), 1):
        if line.strip():
            yield n, line_value(line)


def _split_lines(text: str) -> Iterator[str]:
    """The lines of ``text.split("\\n")``, one at a time."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start:end]
        start = end + 1


def _whole_json(text: str, name: str) -> Any:
    """The file as one JSON document (a webhook payload, an export), or None when it is not one (JSONL)."""
    if text.lstrip()[:1] not in ("[", "{"):
        return None
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return None  # not one document: read it line by line
    return parse_json_text(text, name).data


def detect_format(text: str, name: str, whole: Any = None) -> str:
    """Guess the format from the file's name and first record (``whole``: the file as one JSON document)."""
    if name.lower().endswith(".csv"):
        return "csv"
    head = text.lstrip()[:1]
    sample: Any = whole
    if whole is None:  # the first record that parses, among the first DETECT_LINES
        for _, obj in itertools.islice(_json_lines(text), DETECT_LINES):
            if not isinstance(obj, _Skip):
                sample = obj
                break
    if isinstance(sample, list):
        sample = next((x for x in sample if isinstance(x, dict)), {})
    if not isinstance(sample, dict):
        if head not in "[{" and "," in text.lstrip().split("\n", 1)[0]:
            return "csv"
        raise BudgetError(f"{name}: cannot tell the alert format; give --format ({', '.join(FORMATS)})")
    if "alerts" in sample:
        first = sample["alerts"][:1] if isinstance(sample["alerts"], list) else []
        grafana = "orgId" in sample or any(isinstance(a, dict) and "values" in a for a in first)
        return "grafana" if grafana else "alertmanager"
    if "incidents" in sample:
        return "pagerduty"
    if "data" in sample and isinstance(sample["data"], list):
        return "pagerduty-analytics"
    if "priority_name" in sample or "seconds_to_resolve" in sample or "service_name" in sample:
        return "pagerduty-analytics"
    if "created_at" in sample and ("urgency" in sample or "priority" in sample):
        return "pagerduty"
    if "timestamp" in sample or "severity" in sample or name.lower().endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise BudgetError(f"{name}: cannot tell the alert format; give --format ({', '.join(FORMATS)})")


def _count(report: ImportReport, name: str) -> None:
    report.records += 1
    if report.records > MAX_ALERTS:
        raise BudgetError(f"{name}: more than {MAX_ALERTS:,} alert records, over the limit for one stream")


def _csv_records(text: str, name: str, sev: SeverityMap, report: ImportReport) -> Iterator[_Raw]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [f.strip() for f in reader.fieldnames or []]
        if "timestamp" not in header:
            raise BudgetError(f"{name}:1: CSV needs a header with timestamp, severity, service")
        twice = sorted({f for f in header if header.count(f) > 1})
        if twice:
            raise BudgetError(f"{name}:1: the CSV header names {twice[0]!r} twice")
        for row in reader:
            _count(report, name)
            line = reader.line_num
            try:
                if None in row:
                    raise _Skip("more fields than the header")
                yield _generic({k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}, line, sev)
            except _Skip as exc:
                report.skipped.append((line, str(exc)))
    except csv.Error as exc:
        where = f"{name}:{reader.line_num + 1}" if reader.line_num else name
        if "field larger than field limit" in str(exc):
            raise BudgetError(f"{where}: a CSV field is over {MAX_CSV_FIELD_CHARS:,} characters") from None
        raise BudgetError(f"{where}: not valid CSV: {exc}") from None


def _records(
    text: str, fmt: str, name: str, sev: SeverityMap, report: ImportReport, whole: Any = None
) -> Iterator[_Raw]:
    if fmt == "csv":
        yield from _csv_records(text, name, sev, report)
        return
    if fmt == "jsonl" and whole is None:  # the common stream: every line read and checked in one compiled loop
        raws, records = generic_lines(text, sev, report.skipped, MAX_ALERTS)
        report.records += min(records, MAX_ALERTS)
        if records > MAX_ALERTS:
            _count(report, name)  # the record over the limit: the import stops here
        yield from raws
        return
    items: Iterable[tuple[int, Any]]
    if whole is None:  # one record a line, read as they come; past MAX_ALERTS the count stops the import
        items = _json_lines(text)
    elif isinstance(whole, list):
        items = [(i + 1, x) for i, x in enumerate(whole)]
    else:
        items = [(1, whole)]
    several = whole is None or isinstance(whole, list) and len(whole) > 1
    seen: set[tuple[str, str]] = set()
    for line, obj in items:
        if isinstance(obj, _Skip):
            _count(report, name)
            report.skipped.append((line, str(obj)))
            continue
        if fmt in ("alertmanager", "grafana"):
            if not isinstance(obj, dict) or not isinstance(obj.get("alerts"), list):
                _count(report, name)
                report.skipped.append((line, "not an Alertmanager payload (no alerts list)"))
                continue
            for alert in obj["alerts"]:
                _count(report, name)
                try:
                    raw, key = _am_alert(alert, line, sev)
                except _Skip as exc:
                    report.skipped.append((line, str(exc)))
                    continue
                if key in seen:
                    report.duplicates += 1
                    continue
                seen.add(key)
                yield raw
        elif fmt in ("pagerduty", "pagerduty-analytics"):
            analytics = fmt == "pagerduty-analytics"
            if isinstance(obj, dict) and isinstance(obj.get("incidents" if not analytics else "data"), list):
                inner = obj["incidents" if not analytics else "data"]
                for i, rec in enumerate(inner):
                    _count(report, name)
                    try:
                        yield _pd(rec, line if several else i + 1, sev, analytics)
                    except _Skip as exc:
                        report.skipped.append((line if several else i + 1, str(exc)))
            else:
                _count(report, name)
                try:
                    yield _pd(obj, line, sev, analytics)
                except _Skip as exc:
                    report.skipped.append((line, str(exc)))
        else:  # jsonl / generic objects
            _count(report, name)
            record = generic_item(obj, line, sev, report.skipped)
            if record is not None:
                yield record


def import_alerts(
    text: str,
    name: str = "<alerts>",
    fmt: str | None = None,
    severity_map: SeverityMap | None = None,
) -> tuple[tuple[Incident, ...], ImportReport]:
    """Normalise an alert stream; incidents are sorted by arrival and given stable ids."""
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    if fmt is not None and fmt not in FORMATS:
        raise BudgetError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    whole = None if fmt == "csv" or (fmt is None and name.lower().endswith(".csv")) else _whole_json(text, name)
    fmt = fmt or detect_format(text, name, whole)
    sev = severity_map or load_severity_map(None)
    report = ImportReport(source=name, format=fmt)
    with paused():
        raws = list(_records(text, fmt, name, sev, report, whole))
        return first_day(raws, report)


def first_day(raws: list[_Raw], report: ImportReport) -> tuple[tuple[Incident, ...], ImportReport]:
    """The incidents of the stream's first day (UTC), sorted by arrival, with stable ids; the rest is counted."""
    if not raws:
        raise BudgetError(f"{report.source}: no incident could be read ({report.summary()})")
    day0 = min(r.at for r in raws).replace(hour=0, minute=0, second=0, microsecond=0)
    report.day = day0.date().isoformat()
    incidents = day_incidents(raws, day0)
    report.outside_day += len(raws) - len(incidents)
    return incidents, report


def load_alerts(
    path: str | Path, fmt: str | None = None, severity_map: str | Path | None = None
) -> tuple[tuple[Incident, ...], ImportReport]:
    """The first day of the stream in ``path`` (:func:`load_records`, then :func:`first_day`)."""
    with paused():
        return first_day(*load_records(path, fmt, severity_map))


def load_records(
    path: str | Path, fmt: str | None = None, severity_map: str | Path | None = None
) -> tuple[list[_Raw], ImportReport]:
    """Every record of the file that could be read (every day), and the report."""
    text = read_text(path, MAX_ALERT_FILE_BYTES)
    name = str(path)
    if fmt is not None and fmt not in FORMATS:
        raise BudgetError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    whole = None if fmt == "csv" or (fmt is None and name.lower().endswith(".csv")) else _whole_json(text, name)
    fmt = fmt or detect_format(text, name, whole)
    report = ImportReport(source=name, format=fmt)
    with paused():
        return list(_records(text, fmt, name, load_severity_map(severity_map), report, whole)), report


def flow_per_hour(incidents: tuple[Incident, ...] | list[Incident]) -> list[int]:
    """Alerts per hour of the day (24 numbers), for the flow chart; hour 23 takes any later arrival."""
    arrivals = list(map(_ARRIVAL, incidents))
    if not all(map(operator.le, arrivals, itertools.islice(arrivals, 1, None))):
        arrivals.sort()
    # in arrival order, hour h is the run between the first arrival at or after h:00 and the first at (h+1):00
    edges = [0, *(bisect.bisect_left(arrivals, h * 3600) for h in range(1, 24)), len(arrivals)]
    return [b - a for a, b in itertools.pairwise(edges)]


_ARRIVAL = attrgetter("arrival_sec")
