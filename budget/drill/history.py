"""The drill's history file: one JSON line per drill run, the review rules a new run is held to.

Each run of ``budget drill --history`` appends a record (its spec, its token_health per outage, the flow
of alerts per hour, the evidence of its runs); a run whose figures moved past the review rules against the
previous record asks for a review of the proportions. ``budget review`` reads the same file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.drill.replay import FLOW_CHANGE_LIMIT, DrillResult
from budget.errors import BudgetError
from budget.files import MAX_ALERTS, MAX_HISTORY_BYTES, jsonscan, read_text
from budget.keeper import health_text


@dataclass(frozen=True)
class History:
    """A drill history file as read before the run: its lines, verbatim, and the last run of this spec."""

    path: str
    lines: tuple[str, ...]
    previous: dict[str, Any] | None


def _history_number(path: str, n: int, entry: dict[str, Any], key: str, lo: float, hi: float, default: float) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise BudgetError(f"{path}:{n}: {key}: must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


def read_history(history: str | Path, spec_name: str) -> History:
    """Read and check a history file (JSONL) before the drill runs; a missing file is an empty history."""
    path = str(history)
    if not os.path.lexists(path):
        return History(path, (), None)
    text = read_text(history, MAX_HISTORY_BYTES, empty_ok=True)
    lines = tuple(ln for ln in text.splitlines() if ln.strip())
    previous: dict[str, Any] | None = None
    for n, ln in enumerate(lines, 1):
        try:
            entry = jsonscan.loads(ln)
        except ValueError as exc:
            why = getattr(exc, "msg", None) or str(exc)
            raise BudgetError(f"{path}:{n}: not valid JSON ({why}); fix or move the history file") from None
        if not isinstance(entry, dict):
            raise BudgetError(f"{path}:{n}: must be a JSON object (one drill run a line)")
        if entry.get("spec") == spec_name:  # the rules compare runs of the same budget
            _history_number(path, n, entry, "token_health_min", 0, 1, 1.0)
            _history_number(path, n, entry, "flow", 0, MAX_ALERTS, 0)
            previous = entry
    return History(path, lines, previous)


def review_reasons(result: DrillResult, previous: dict[str, Any] | None) -> list[str]:
    """The chapter's review rules, comparing this run with the previous run of the same spec."""
    reasons: list[str] = []
    if previous is None:
        return reasons
    worst = result.worst
    prev_worst = float(previous.get("token_health_min", 1.0))
    if worst < result.fail_under and prev_worst < result.fail_under:
        reasons.append(
            f"token_health_min below {result.fail_under:.2f} on two consecutive runs "
            f"({health_text(prev_worst)}, then {health_text(worst)})"
        )
    prev_flow = int(previous.get("flow", 0))
    if prev_flow > 0:
        change = (result.flow - prev_flow) / prev_flow
        if abs(change) > FLOW_CHANGE_LIMIT:
            reasons.append(f"flow changed by {change:+.0%} ({prev_flow} -> {result.flow} alerts a day)")
    return reasons


def history_record(result: DrillResult, run: int) -> dict[str, Any]:
    """The line this run adds to the history: its number, then :func:`history_entry`."""
    return {"run": run, **history_entry(result.to_dict())}


def apply_history(result: DrillResult, history: History) -> str:
    """Set ``result.review`` from the history and return the history file's new text (nothing is written)."""
    reasons = review_reasons(result, history.previous)
    record = history_record(result, len(history.lines) + 1)
    result.review = {"required": bool(reasons), "reasons": reasons, "run": record["run"]}
    text = "\n".join([*history.lines, json.dumps(record, allow_nan=False)]) + "\n"
    if len(text.encode("utf-8")) > MAX_HISTORY_BYTES:  # what drill and review read back, never past it
        raise BudgetError(
            f"{history.path}: this run's record would take the history past the {MAX_HISTORY_BYTES:,}-byte limit; "
            "move it aside and start a new one (nothing was written)"
        )
    return text


EVIDENCE_KEYS = (
    "token_health_min",
    "failover_to_frontier",
    "failover_total",
    "manual_queue",
    "manual_after_timeout",
    "critical",
    "critical_waited",
    "critical_waited_ids",
    "frontier_noncritical",
    "frontier_noncritical_ids",
    "manual_opened",
)


def history_entry(data: Mapping[str, Any]) -> dict[str, Any]:
    """The history record of a drill result (``DrillResult.to_dict()``), without its run number.

    The first keys are the original record's (day, spec, flow, token_health_min,
    outages); the rest is what ``budget review`` reads. Pure: writing the file is
    :func:`apply_history`'s job.
    """
    runs = data["runs"]
    entry: dict[str, Any] = {
        "day": data.get("alerts", {}).get("day", ""),
        "spec": data["spec"],
        "flow": data["flow"],
        "token_health_min": data["token_health_min"],
        "outages": {str(r["outage_min"]): r["token_health_min"] for r in runs if r["outage_min"]},
        "fail_under": data["fail_under"],
        "down_tier": data["down_tier"],
        "start": data["start"],
    }
    budget = data.get("daily_budget_tokens") or 0
    if budget:
        entry["daily_budget_tokens"] = budget
        entry["queue_limit"] = data.get("queue_limit")
    base = next((r for r in runs if not r["outage_min"]), None)
    if base is not None and "spent_tokens" in base and budget:
        entry["baseline"] = {
            "token_health_min": base["token_health_min"],
            "degraded_queue": base["degraded_queue"],
            "spent_tokens": base["spent_tokens"],
            "spent_share": round(base["spent_tokens"] / budget, 4),
        }
    evidence = {
        str(r["outage_min"]): {k: r[k] for k in EVIDENCE_KEYS} for r in runs if r["outage_min"] and "critical" in r
    }
    if evidence:
        entry["runs"] = evidence
    return entry
