"""One revisit signal: the rule the chapter words, the day record it reads, and its verdict.

``Signal`` is ``fires``, ``quiet`` or ``not enough data``; ``Day`` is the record standing for one day of a drill
history. The seven signals themselves are in ``budget.drill.signals``; reading a history and the review
are in ``budget.drill.review``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from budget.errors import BudgetError

FIRES, QUIET, NO_DATA = "fires", "quiet", "not enough data"
HEALTH_FLOOR = 0.5  # token_health_min below this more than once a week: local tier too small
SPEND_FLOOR = 0.60  # less than this share of daily_budget_tokens spent in a day: shrink the budget
MONTH_DAYS = 30
WEEK_DAYS = 7
SHORT_OUTAGE_MIN = 15  # the drill's short outage
EVIDENCE_IDS = 10  # task ids a drill record keeps per list of evidence (the count is kept in full)


RULES = {  # key: (the rule as the chapter words it, what it means)
    "no_degraded_mode": ("no degraded_mode activation in a month", "the budget is too big"),
    "health_below_half": (
        f"token_health_min below {HEALTH_FLOOR} more than once a week",
        "the local tier is too small",
    ),
    "failover_stuck": ("failover_to_frontier stuck at 0 during local outages", "the gate is too strict"),
    "manual_growth": ("manual_queue after the timeout growing two months in a row", "manual_timeout_sec is too short"),
    "low_spend": (f"less than {SPEND_FLOOR:.0%} of daily_budget_tokens spent in a day", "shrink the budget"),
    "failover_too_wide": (
        "frontier-reviewer serving non-critical tasks during a short outage",
        "the failover is too wide",
    ),
    "manual_nervous": ("the manual channel opening at a moderate queue", "the SLA thresholds are too nervous"),
}


@dataclass
class Day:
    """The record that stands for one day of the history."""

    day: date
    line: int
    rec: dict[str, Any]

    @property
    def label(self) -> str:
        return self.day.isoformat()

    def runs(self, name: str) -> dict[int, dict[str, Any]]:
        """The outage runs' evidence by outage minutes (empty for records of an older drill)."""
        raw = self.rec.get("runs") or {}
        if not isinstance(raw, dict) or not all(str(k).isdigit() and isinstance(v, dict) for k, v in raw.items()):
            raise BudgetError(f"{name}:{self.line}: runs: must map outage minutes to a record of evidence")
        return {int(k): v for k, v in raw.items()}


@dataclass
class Signal:
    key: str
    rule: str
    meaning: str
    status: str = NO_DATA
    finding: str = ""
    evidence: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, key: str) -> Signal:
        return cls(key, *RULES[key])

    @property
    def symptom(self) -> str:
        """The rule in quotes: the symptom checked, which a quiet signal did not find."""
        return f'"{self.rule}" ({self.meaning})'

    def headline(self) -> str:
        """``FIRES: "rule" (meaning)``; a quiet one says on the same line what was found instead of the symptom."""
        if self.status == QUIET:
            return f"quiet: {self.symptom}: {self.finding}"
        return f"{self.status.upper() if self.status == FIRES else self.status}: {self.symptom}"

    def conclude(self, evidence: list[str], seen: int, fires: str, quiet: str, no_data: str) -> Signal:
        """Fires with its evidence, quiet when something was seen without any, else not enough data."""
        if evidence:
            self.status, self.finding, self.evidence = FIRES, fires, evidence
        elif seen:
            self.status, self.finding = QUIET, quiet
        else:
            self.finding = no_data
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.key,
            "rule": self.rule,
            "meaning": self.meaning,
            "status": self.status,
            "finding": self.finding,
            "evidence": self.evidence,
        }


def number(rec: dict[str, Any], where: str, *path: str) -> float | None:
    """The number at ``path`` in a record; None when absent; an error when it is not a finite number."""
    cur: Any = rec
    for p in path:
        if not isinstance(cur, dict) or p not in cur or cur[p] is None:
            return None
        cur = cur[p]
    if isinstance(cur, bool) or not isinstance(cur, (int, float)) or not math.isfinite(cur):
        raise BudgetError(f"{where}: {'.'.join(path)}: must be a finite number, got {cur!r}")
    return float(cur)
