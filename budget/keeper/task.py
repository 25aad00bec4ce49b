"""One task in the pipeline: an incident and where it stands (phase, state, route, audit trail)."""

from __future__ import annotations

from budget.model import Incident, format_clock

TICK_SEC = 60  # one keeper tick is one minute
POSTMORTEM = "postmortem"


class Task:
    """One incident in the pipeline and where it stands.

    A plain class with its constructor written out (not a dataclass), so that the compiled keeper
    builds and copies its 100,000 tasks in compiled code.
    """

    __slots__ = (
        "inc",
        "severity",
        "arrival_sec",
        "phase",
        "elapsed",
        "state",
        "tier",
        "route",
        "failover",
        "was_degraded",
        "was_manual",
        "quota_stalled",
        "seen_eligible",
        "degraded_since",
        "manual_since",
        "manual_closed",
        "manual_reason",
        "audited",
        "reviewed",
        "review_needed",
        "review",
        "review_left",
        "review_since",
        "phase_since",
        "rank",
        "work_done_at",
        "post_analysis",
        "escalated",
        "wait_min",
        "rework_owed",
        "resolved_at",
        "postmortem_done",
        "events",
    )

    def __init__(self, inc: Incident, review_needed: bool = False, rank: int = 0, log: bool = True) -> None:
        self.inc: Incident = inc
        # the incident's severity and arrival, read by every pass over the open tasks: kept on the task
        self.severity: str = inc.severity
        self.arrival_sec: int = inc.arrival_sec
        self.phase: int = 0  # index into the keeper's phase order
        self.elapsed: float = 0.0  # seconds done in the current phase
        self.state: str = "new"  # new, pending, running, degraded, manual, done
        self.tier: str | None = None  # tier running the task
        self.route: str = "normal"  # normal, failover, degraded, manual, closed
        self.failover: bool = False
        self.was_degraded: bool = False
        self.was_manual: bool = False
        self.quota_stalled: bool = False
        self.seen_eligible: bool = False
        self.degraded_since: int | None = None
        self.manual_since: int | None = None
        self.manual_closed: bool = False
        self.manual_reason: str = ""
        self.audited: bool = True
        self.reviewed: bool = False
        self.review_needed: bool = review_needed  # P0 or disputed: a frontier review is part of its pipeline
        self.review: str = "none"  # none, queued, done, skipped, dropped
        self.review_left: float = 0.0  # review tokens still to serve
        self.review_since: int = 0  # when the review was requested (its place in the tier's line)
        self.phase_since: int = 0  # when the current phase began waiting for its tier (its place in line)
        # the incident's place in (arrival, id) order: its place in line among tasks of the same since
        self.rank: int = rank
        self.work_done_at: int | None = None  # when the pipeline's resolve phases finished
        self.post_analysis: bool = False  # the review re-verifies a manual decision (not an escalation)
        self.escalated: bool = False
        self.wait_min: int = 0
        self.rework_owed: float = 0.0
        self.resolved_at: int | None = None
        self.postmortem_done: bool = False
        self.events: list[tuple[int, str, str]] | None = [] if log else None

    def clone(self) -> Task:
        """A copy with its own decisions log (the incident is shared: it is immutable)."""
        twin = Task(self.inc, self.review_needed, self.rank, False)
        twin.phase = self.phase
        twin.elapsed = self.elapsed
        twin.state = self.state
        twin.tier = self.tier
        twin.route = self.route
        twin.failover = self.failover
        twin.was_degraded = self.was_degraded
        twin.was_manual = self.was_manual
        twin.quota_stalled = self.quota_stalled
        twin.seen_eligible = self.seen_eligible
        twin.degraded_since = self.degraded_since
        twin.manual_since = self.manual_since
        twin.manual_closed = self.manual_closed
        twin.manual_reason = self.manual_reason
        twin.audited = self.audited
        twin.reviewed = self.reviewed
        twin.review = self.review
        twin.review_left = self.review_left
        twin.review_since = self.review_since
        twin.phase_since = self.phase_since
        twin.work_done_at = self.work_done_at
        twin.post_analysis = self.post_analysis
        twin.escalated = self.escalated
        twin.wait_min = self.wait_min
        twin.rework_owed = self.rework_owed
        twin.resolved_at = self.resolved_at
        twin.postmortem_done = self.postmortem_done
        twin.events = None if self.events is None else list(self.events)
        return twin

    @property
    def silent_p0(self) -> bool:
        """A P0 the automation resolved without escalation (not the manual channel's): what silent_p0 counts."""
        return self.severity == "P0" and self.resolved_at is not None and not self.escalated and self.route != "manual"

    def log(self, now: int, action: str, reason: str) -> None:
        if self.events is not None:  # None when the caller asked for no decisions log
            self.events.append((now, action, reason))


def clock(sec: int) -> str:
    """Seconds after midnight as ``HH:MM`` (``HH:MM:SS`` off the minute)."""
    minute, s = divmod(int(sec), 60)
    text = format_clock(minute)
    return text if s == 0 else f"{text}:{s:02d}"


def num(x: float) -> int | float:
    """A whole float as an int, for messages and JSON (``120.0`` -> ``120``)."""
    return int(x) if float(x).is_integer() else x
