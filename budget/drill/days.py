"""A history of alerts over several days: one or more streams, split into their days (UTC).

A drill or a sweep replays one day at a time (the keeper's day is 00:00-24:00
plus the drain), so a history is cut at each UTC midnight: every alert of the
streams lands on its own day, with its arrival counted from that midnight.
The days are drilled in date order. A single stream of a single day gives
exactly what ``budget.drill.alerts.load_alerts`` gives (the same report too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from budget.drill.alerts import ImportReport, _Raw, day_incidents, first_day, load_records
from budget.errors import BudgetError
from budget.model import Incident


@dataclass(frozen=True)
class AlertDay:
    """One day of the history: its date, its incidents (arrivals from its midnight) and its import report."""

    day: str
    incidents: tuple[Incident, ...]
    report: ImportReport


@dataclass(frozen=True)
class AlertHistory:
    """The days of the streams, in date order, and one import report per stream."""

    days: tuple[AlertDay, ...]
    files: tuple[ImportReport, ...]

    @property
    def several(self) -> bool:
        return len(self.days) > 1

    def summary_lines(self) -> list[str]:
        """One line per stream; with several days, one line naming them."""
        lines = [r.summary() for r in self.files]
        if self.several:
            counts = ", ".join(f"{d.day} {len(d.incidents):,}" for d in self.days)
            lines.append(f"{len(self.days)} days ({counts} incidents)")
        return lines


def load_days(
    paths: Sequence[str | Path], fmt: str | None = None, severity_map: str | Path | None = None
) -> AlertHistory:
    """Read every stream and split its alerts into days (see the module's doc)."""
    if not paths:
        raise BudgetError("--alerts: give at least one alert file")
    loaded = [load_records(p, fmt, severity_map) for p in paths]
    if len(loaded) == 1:
        raws, report = loaded[0]
        if not raws:
            first_day(raws, report)  # the error naming the file and what was skipped
        if len({_midnight(r) for r in raws}) == 1:
            incidents, report = first_day(raws, report)
            return AlertHistory((AlertDay(report.day, incidents, report),), (report,))
    for raws, report in loaded:
        if not raws:
            first_day(raws, report)
    pooled = [r for raws, _ in loaded for r in raws]
    by_day: dict[datetime, list[_Raw]] = {}
    for r in pooled:
        by_day.setdefault(_midnight(r), []).append(r)
    source = ", ".join(report.source for _, report in loaded)
    formats = ", ".join(dict.fromkeys(report.format for _, report in loaded))
    days = []
    for day0 in sorted(by_day):
        incidents = day_incidents(by_day[day0], day0)
        date = day0.date().isoformat()
        report = ImportReport(source=source, format=formats, records=len(incidents), day=date)
        days.append(AlertDay(date, incidents, report))
    return AlertHistory(tuple(days), tuple(report for _, report in loaded))


def _midnight(r: _Raw) -> datetime:
    return r.at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
