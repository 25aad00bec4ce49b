"""One task in the pipeline: an incident and where it stands (phase, state, route, audit trail)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter

from budget.scenario import Incident
from budget.units import format_clock

TICK_SEC = 60  # one keeper tick is one minute
POSTMORTEM = "postmortem"


@dataclass(slots=True)
class Task:
    inc: Incident
    phase: int = 0  # index into the keeper's phase order
    elapsed: float = 0.0  # seconds done in the current phase
    state: str = "new"  # new, pending, running, degraded, manual, done
    tier: str | None = None  # tier running the task
    route: str = "normal"  # normal, failover, degraded, manual, closed
    failover: bool = False
    was_degraded: bool = False
    was_manual: bool = False
    quota_stalled: bool = False
    seen_eligible: bool = False
    degraded_since: int | None = None
    manual_since: int | None = None
    manual_closed: bool = False
    manual_reason: str = ""
    audited: bool = True
    reviewed: bool = False
    review_needed: bool = False  # P0 or disputed: a frontier review is part of its pipeline
    review: str = "none"  # none, queued, done, skipped, dropped
    review_left: float = 0.0  # review tokens still to serve
    review_since: int = 0  # when the review was requested (its place in the tier's line)
    phase_since: int = 0  # when the current phase began waiting for its tier (its place in line)
    rank: int = 0  # the incident's place in (arrival, id) order: its place in line among tasks of the same since
    work_done_at: int | None = None  # when the pipeline's resolve phases finished
    post_analysis: bool = False  # the review re-verifies a manual decision (not an escalation)
    escalated: bool = False
    wait_min: int = 0
    rework_owed: float = 0.0
    resolved_at: int | None = None
    postmortem_done: bool = False
    events: list[tuple[int, str, str]] | None = field(default_factory=list)

    def clone(self) -> Task:
        """A copy with its own decisions log (the incident is shared: it is immutable)."""
        twin = Task(*_task_values(self))
        if twin.events is not None:
            twin.events = list(twin.events)
        return twin

    @property
    def silent_p0(self) -> bool:
        """A P0 the automation resolved without escalation (not the manual channel's): what silent_p0 counts."""
        return (
            self.inc.severity == "P0" and self.resolved_at is not None and not self.escalated and self.route != "manual"
        )

    def log(self, now: int, action: str, reason: str) -> None:
        if self.events is not None:  # None when the caller asked for no decisions log
            self.events.append((now, action, reason))


_task_values = attrgetter(*[f.name for f in fields(Task)])


def clock(sec: int) -> str:
    """Seconds after midnight as ``HH:MM`` (``HH:MM:SS`` off the minute)."""
    minute, s = divmod(int(sec), 60)
    text = format_clock(minute)
    return text if s == 0 else f"{text}:{s:02d}"


def num(x: float) -> int | float:
    """A whole float as an int, for messages and JSON (``120.0`` -> ``120``)."""
    return int(x) if float(x).is_integer() else x
