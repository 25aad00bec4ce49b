"""``budget review``: the signals to revisit the thresholds, read from a drill history.

The calibration appendix's five signals and the drill's two, each evaluated on
the history's records of one spec (one record per day: a day drilled twice
counts its last run). Every signal is ``fires``, ``quiet`` or ``not enough
data`` (the history is too short, or its records predate the field the signal
reads), never a pass by default; each names its evidence (days, outages, task
ids). docs/model.md gives every rule. The signals are in ``signals``, their
building blocks (``Signal``, ``Day``, the rules) in ``signal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from budget.drill.signal import FIRES, NO_DATA, QUIET, Day, Signal
from budget.drill.signals import SIGNALS
from budget.errors import BudgetError, UsageError
from budget.files import MAX_HISTORY_BYTES, count_of, parse_json_text, read_text

__all__ = ["FIRES", "NO_DATA", "QUIET", "Review", "count_of", "history_from_text", "load_history", "review"]


@dataclass
class Review:
    history: str
    spec: str
    days: list[Day]
    signals: list[Signal]
    notes: list[str] = field(default_factory=list)

    @property
    def fired(self) -> list[Signal]:
        return [s for s in self.signals if s.status == FIRES]

    @property
    def evaluated(self) -> list[Signal]:
        return [s for s in self.signals if s.status != NO_DATA]

    def lines(self) -> list[str]:
        span = f"{self.days[0].label} .. {self.days[-1].label}" if self.days else "no dated day"
        out = [f"review of {self.history}: {self.spec}, {count_of(len(self.days), 'day')} ({span})", *self.notes]
        for s in self.signals:
            out.append(s.headline())
            if s.status != QUIET:
                out.append(f"    {s.finding}")
            out.extend(f"    - {e}" for e in s.evidence)
        n = len(self.fired)
        out.append(
            f"{n} of {len(self.signals)} signals {'fires' if n == 1 else 'fire'}"
            + (": " + ", ".join(s.key for s in self.fired) if n else "")
            + f"; {len(self.signals) - len(self.evaluated)} without enough data"
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "spec": self.spec,
            "days": [d.label for d in self.days],
            "notes": self.notes,
            "signals": [s.to_dict() for s in self.signals],
        }


# --- reading the history ---------------------------------------------------------------------


def history_from_text(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    """The history's records with their line numbers (JSON Lines, one drill run a line)."""
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        doc = parse_json_text(line, f"{name}:{n}")
        if not isinstance(doc.data, dict):
            raise BudgetError(f"{name}:{n}: a history record must be a JSON object")
        if not isinstance(doc.data.get("spec"), str):
            raise BudgetError(f"{name}:{n}: spec: missing (is this a drill history?)")
        records.append((n, doc.data))
    if not records:
        raise BudgetError(f"{name}: has no records")
    return records


def load_history(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    return history_from_text(read_text(path, MAX_HISTORY_BYTES), str(path))  # what drill --history may write


def _days(records: list[tuple[int, dict[str, Any]]], name: str) -> tuple[list[Day], int]:
    by_day: dict[date, Day] = {}
    undated = 0
    for line, rec in records:
        try:
            d = date.fromisoformat(str(rec.get("day", "")))
        except ValueError:
            undated += 1
            continue
        by_day[d] = Day(d, line, rec)  # the last run of a day stands for it
    return [by_day[d] for d in sorted(by_day)], undated


def review(records: list[tuple[int, dict[str, Any]]], name: str, spec: str | None = None) -> Review:
    """The seven signals on the records of ``spec`` (default: the spec of the last record)."""
    specs = [r["spec"] for _, r in records]
    chosen = spec if spec is not None else specs[-1]
    if chosen not in specs:
        raise UsageError(f"{name}: no record of spec {chosen!r} (specs: {', '.join(sorted(set(specs)))})")
    mine = [(n, r) for n, r in records if r["spec"] == chosen]
    days, undated = _days(mine, name)
    notes = []
    if len(mine) < len(records):
        notes.append(f"{count_of(len(records) - len(mine), 'record')} of other specs left out")
    if undated:
        notes.append(f"{count_of(undated, 'record')} without a day left out")
    return Review(name, chosen, days, [signal(days, name) for signal in SIGNALS], notes)
