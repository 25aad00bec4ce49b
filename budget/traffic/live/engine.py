"""The live keeper: per request, what the simulator's keeper decides for this incident now.

:meth:`LiveKeeper.decide` notes the incident the first time it is seen (its age is the keeper's own),
runs the keeper of ``budget.keeper`` over the day so far (``running.RunningDay``: the same admission,
ranked failover, allowance, guard, degraded queue, manual timeout, red button and return as
``budget simulate``, run on minute by minute as facts arrive) and reads where the incident's task stands:

- ``serve``: the phase's tier is up and the task is not waiting or handed to humans;
- ``review``: ``purpose: review`` on the top tier, while it is up;
- ``failover``: the phase's tier is down and the keeper failed the task over (to the tier it chose);
- ``queued``: the tier is down and the task waits for the keeper's ranking (younger than the policy's age);
- ``degraded`` / ``manual``: the task is in the degraded queue / the manual channel;
- ``refused``: the request breaks the contract (``contract.py``).

A served request then reserves its estimated tokens (one atomic step in the store) against
quota[phase][tier] (a failover: the tier's failover allowance), the tier's day and its tokens a minute;
a reservation that does not fit turns the decision into ``degraded``. The upstream's usage reconciles it.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field, fields
from typing import Any

from budget.errors import BudgetError
from budget.keeper.state import Keeper
from budget.keeper.task import Task, clock
from budget.model import BudgetSpec, spec_from_text, tier_capacity_tpm
from budget.model.scenario import DEFAULT_MANUAL_TIMEOUT_SEC
from budget.traffic.live.backends import open_store
from budget.traffic.live.clock import DAY_SEC, Clock, clock_from_env, day_and_second
from budget.traffic.live.contract import Request, parse_request, phase_tier
from budget.traffic.live.day import SERVED, DayLog, alert_lines, live_result, read_log, spend_rows
from budget.traffic.live.running import RunningDay
from budget.traffic.live.store import Store

SPEC_ENV = "BUDGET_KEEPER_SPEC"
TIMEOUT_ENV = "BUDGET_KEEPER_MANUAL_TIMEOUT_SEC"
RECOVERY_ENV = "BUDGET_KEEPER_RECOVERY"
PROBE_ENV = "BUDGET_KEEPER_PROBE_SEC"
DEFAULT_PROBE_SEC = 60.0  # a tier its upstream took down is asked again once a minute (0: only the operator)
RECOVERIES = ("instant", "immediate", "staged")
DEFAULT_COMPLETION_TOKENS = 512  # the reservation's completion part when the request sets no max_tokens


@dataclass
class Decision:
    id: str
    decision: str
    tier: str | None
    reason: str
    time: str
    second: int
    day: str
    incident: str | None = None
    severity: str | None = None
    phase: str | None = None
    model: str | None = None
    reserved: list[tuple[str, float]] = field(default_factory=list)
    probe: str | None = None  # a tier down since its upstream failed that is due to be asked again (``probed``)
    worker: int = field(default_factory=os.getpid)  # the proxy worker (process) that decided

    @property
    def served(self) -> bool:
        return self.decision in SERVED

    def to_dict(self) -> dict[str, Any]:
        # field by field (``dataclasses.asdict`` deep-copies recursively: a tenth of a millisecond a request)
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reserved"] = [[key, amount] for key, amount in self.reserved]
        return out


class LiveKeeper:
    def __init__(
        self,
        spec: BudgetSpec,
        store: Store,
        clock_fn: Clock,
        manual_timeout_sec: float = DEFAULT_MANUAL_TIMEOUT_SEC,
        recovery: str = "instant",
        spec_text: str | None = None,
        probe_sec: float = DEFAULT_PROBE_SEC,
    ) -> None:
        if recovery not in RECOVERIES:
            raise BudgetError(f"{RECOVERY_ENV}: must be one of {', '.join(RECOVERIES)}, got {recovery!r}")
        self.spec = spec
        self.store = store
        self.clock = clock_fn
        self.manual_timeout_sec = manual_timeout_sec
        self.recovery = recovery
        self.probe_sec = probe_sec
        self._probes_seen: set[str] = set()
        self.work_tier, self.allowance, self.quota_total = _plan_figures(spec)
        self.tpm = {t: float(v) for t, v in tier_capacity_tpm(spec).items()}
        self._running: tuple[str, int, RunningDay] | None = None  # (day, facts read, its running keeper)
        self._lock = threading.Lock()
        if spec_text is not None:
            store.set_meta("spec", spec_text)
            store.set_meta("manual_timeout_sec", repr(float(manual_timeout_sec)))
            store.set_meta("recovery", recovery)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LiveKeeper:
        e = os.environ if env is None else env
        path = e.get(SPEC_ENV, "")
        if not path:
            raise BudgetError(f"{SPEC_ENV} is not set (the plan the keeper runs, e.g. specs/budget_network.yaml)")
        from budget.files import read_text

        text = read_text(path)
        spec = spec_from_text(text, name=path)
        timeout = _number(e.get(TIMEOUT_ENV, ""), TIMEOUT_ENV, DEFAULT_MANUAL_TIMEOUT_SEC)
        probe = 0.0 if e.get(PROBE_ENV, "") == "0" else _number(e.get(PROBE_ENV, ""), PROBE_ENV, DEFAULT_PROBE_SEC)
        return cls(
            spec,
            open_store(e.get("BUDGET_KEEPER_STATE"), keeper=True),
            clock_from_env(dict(e)),
            timeout,
            e.get(RECOVERY_ENV, "instant"),
            spec_text=text,
            probe_sec=probe,
        )

    def day_log(self, day: str, facts_only: bool = False) -> DayLog:
        start = _day_start(day)
        carried = {t: s for t, s in self.store.tiers_down().items() if s < start}
        return read_log(self.store.events(day, facts_only), carried)

    def keeper_now(self, day: str, second: int) -> Keeper:
        """The keeper run up to its tick for ``second``, with every fact of the day logged so far: the day's
        running keeper (``running.RunningDay``) reads only the facts logged since its last request."""
        with self._lock:
            if self._running is None or self._running[0] != day:
                running = RunningDay(self.spec, self.manual_timeout_sec, self.recovery)
                start = _day_start(day)
                for tier, since in sorted(self.store.tiers_down().items()):
                    if since < start:
                        running.carry(tier, since, self._down_by(tier, since))
                self._running = (day, 0, running)
            _, cursor, running = self._running
            facts, cursor = self.store.facts(day, cursor)
            for kind, body in facts:
                running.note(kind, body)
            self._running = (day, cursor, running)
            return running.keeper_at(second)

    def decide(self, model: Any, metadata: Any, estimate: float) -> Decision:
        """The keeper's decision for one request, logged and (when served) with its tokens reserved."""
        now = self.clock()
        day, second = day_and_second(now)
        d = Decision("kd-" + uuid.uuid4().hex[:16], "refused", None, "", clock(second), second, day)
        d.model = str(model)[:60]
        try:
            req = parse_request(self.spec, self.work_tier, model, metadata)
        except BudgetError as exc:
            d.reason = str(exc)
            self.store.log(day, "decision", d.to_dict())
            return d
        d.incident, d.phase = req.incident, req.phase
        seen = self.store.first_seen(
            day,
            req.incident,
            {
                "id": req.incident,
                "severity": req.severity,
                "blast_radius": req.blast_radius,
                "second": second,
                "t": now,
            },
        )
        d.severity = str(seen["severity"])
        k = self.keeper_now(day, second)
        task = next((t for t in k.tasks if t.inc.id == req.incident), None)
        d.decision, d.tier, d.reason = route(k, task, req, self.spec, self.work_tier)
        d.probe = self._probe_due(day, now)
        if d.served and d.tier is not None:
            items = self._reservation(d, req, estimate, now)
            self.store.reserve_and_log(day, items, lambda refused: self._outcome(d, items, refused))
        else:
            self.store.log(day, "decision", d.to_dict())
        return d

    def _down_by(self, tier: str, since: float) -> str:
        """Who took down a tier that is down since an earlier day: its down record on that day says."""
        day, _ = day_and_second(since)
        by = "operator"
        for kind, body in self.store.events(day, facts_only=True):
            if kind == "down" and body.get("tier") == tier:
                by = "upstream" if body.get("by") == "upstream" else "operator"
        return by

    def _probe_due(self, day: str, now: float) -> str | None:
        """A tier its upstream took down, ``probe_sec`` or more ago, whose probe for this interval no worker
        has taken yet (taken here: one atomic reservation of 1 against a limit of 1, shared by every worker)."""
        running = self._running[2] if self._running is not None and self._running[0] == day else None
        if self.probe_sec <= 0 or running is None:
            return None
        for outage in running.down_now():
            if outage.by != "upstream" or outage.since is None:
                continue
            slot = int((now - outage.since) // self.probe_sec)
            key = f"probe:{outage.tier}:{outage.since!r}:{slot}"
            if slot < 1 or key in self._probes_seen:
                continue
            if len(self._probes_seen) > 10_000:  # a few days of one-minute probes: forget the old ones
                self._probes_seen.clear()
            self._probes_seen.add(key)  # taken, here or by another worker: not asked again for this interval
            if self.store.reserve(day, [(key, 1, 1)]) is None:
                return outage.tier
        return None

    def probed(self, tier: str, answered: bool, why: str, tokens: float = 0.0) -> bool:
        """The probe of a down tier came back: logged; an answer brings the tier back up (the return policy
        then applies), a failure leaves it down until the next probe. True when the tier came back."""
        now = self.clock()
        day, second = day_and_second(now)
        record = {"tier": tier, "second": second, "t": now, "answered": answered, "reason": why}
        self.store.log(day, "probe", record)
        if tokens:
            self.store.log(day, "usage", {"id": None, "tier": tier, "total_tokens": float(tokens), "failed": False})
        return answered and self.set_tier(tier, False, f"probe answered: {why}", by="probe")

    def _reservation(self, d: Decision, req: Request, estimate: float, now: float) -> list[tuple[str, float, float]]:
        """What a served request reserves: quota[phase][tier] (a failover: the tier's failover allowance), the
        tier's day and its tokens this minute."""
        tier = d.tier or ""
        if d.decision == "failover":
            first = (f"failover:{tier}", self.allowance[tier])
        else:
            first = (f"quota:{req.phase}:{tier}", float(self.spec.phases[req.phase].quotas.get(tier, 0)))
        return [
            (first[0], estimate, first[1]),
            (f"tier:{tier}", estimate, self.quota_total[tier]),
            (f"tpm:{tier}:{int(now // 60)}", estimate, self.tpm[tier]),
        ]

    @staticmethod
    def _outcome(d: Decision, items: list[tuple[str, float, float]], refused: str | None) -> dict[str, Any]:
        """The decision once its reservation is made (or found no room: then it is ``degraded``)."""
        if refused is not None:
            d.reason = f"{d.reason}; no room: {refused} cannot take {items[0][1]:,.0f} more tokens"
            d.decision, d.tier = "degraded", None
        else:
            d.reserved = [(key, amount) for key, amount, _ in items]
        return d.to_dict()

    def reconcile(self, decision: dict[str, Any], total_tokens: float | None, tier: str | None) -> None:
        """The upstream's reported usage replaces the reservation (``None``: the call failed, release it)."""
        day = str(decision.get("day", ""))
        reserved = [(str(k), float(v)) for k, v in decision.get("reserved", [])]
        used = 0.0 if total_tokens is None else float(total_tokens)
        record = {"id": decision.get("id"), "tier": tier, "total_tokens": used, "failed": total_tokens is None}
        self.store.reconcile(day, [(key, used - amount) for key, amount in reserved], record)

    def set_tier(self, tier: str, down: bool, reason: str, by: str = "operator") -> bool:
        """Note a tier down or back up, ``by`` its upstream (a failed call, a probe) or an operator; True
        when it changed. Only a tier its upstream took down is probed (``probe_sec``)."""
        if tier not in self.spec.tiers:
            raise BudgetError(f"unknown tier {tier!r} (the plan's tiers: {', '.join(self.spec.tiers)})")
        now = self.clock()
        day, second = day_and_second(now)
        record = {"tier": tier, "second": second, "t": now, "reason": reason, "by": by}
        return self.store.set_tier(day, tier, down, record)

    def spend_log(self, day: str | None = None) -> list[dict[str, Any]]:
        """The day's served requests as LiteLLM spend-log rows, for ``budget fit``."""
        from budget.traffic.export import tier_price

        day = day or self._last_day()
        return spend_rows(day, self.day_log(day), {t: tier_price(self.spec, t) for t in self.spec.tiers})

    def alerts(self, day: str | None = None) -> str:
        """The day's incidents as JSON-lines alerts, for ``budget drill --alerts``."""
        day = day or self._last_day()
        return alert_lines(day, self.day_log(day, facts_only=True))

    def _last_day(self) -> str:
        days = self.store.days()
        if not days:
            raise BudgetError("the keeper state holds no day yet")
        return days[-1]

    def result(self, day: str | None = None) -> dict[str, Any]:
        return live_result(self.spec, self.day_log(day or self._last_day()), self.manual_timeout_sec, self.recovery)


def route(
    k: Keeper, task: Task | None, req: Request, spec: BudgetSpec, work_tier: list[str]
) -> tuple[str, str | None, str]:
    """(decision, tier, reason) for the request, read from the keeper's task for its incident."""
    if task is None:
        return "queued", None, "not admitted yet"
    last = task.events[-1][2] if task.events else ""
    if task.state == "manual" and not task.manual_closed:
        return "manual", None, f"manual channel: {last}"
    if req.review:
        if k.top in k.down:
            return "degraded", None, f"{k.top} is down: the review waits"
        return "review", k.top, "review on the top tier"
    tier = phase_tier(spec, work_tier, req.phase)
    if tier not in k.down:
        if task.state == "degraded":
            return "degraded", None, f"degraded queue: {last}"
        return "serve", tier, f"normal routing on {tier}"
    if task.failover and task.state == "running" and task.tier is not None and task.tier not in k.down:
        return "failover", task.tier, f"failover: {last}"
    if task.state == "degraded":
        return "degraded", None, f"degraded queue: {last}"
    if task.state == "pending":  # the keeper's own words say why it waits, when they name the down tier
        return "queued", None, last if last.startswith(f"{tier} is down") else f"{tier} is down: waits ({last})"
    return "degraded", None, f"{tier} is down and the keeper did not fail this task over"


def _plan_figures(spec: BudgetSpec) -> tuple[list[str], dict[str, float], dict[str, float]]:
    from budget.keeper.workload import work_tiers

    work = work_tiers(spec)
    share = spec.policy.failover_allowance_share
    total = {t: float(spec.tier_total(t)) for t in spec.tiers}  # as the keeper's quota_total (state.py)
    return work, {t: share * total[t] for t in spec.tiers}, total


def _number(text: str, name: str, default: float) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BudgetError(f"{name}: must be a number of seconds, got {text[:30]!r}") from None
    if not 0 < value <= DAY_SEC:
        raise BudgetError(f"{name}: must be from 1 to {DAY_SEC} seconds, got {text[:30]!r}")
    return value


def _day_start(day: str) -> float:
    import calendar
    import time

    return float(calendar.timegm(time.strptime(day, "%Y-%m-%d")))


def is_live_state(path: str) -> bool:
    """Whether ``path`` names a live keeper's state (a redis:// URL or a SQLite file) rather than a result JSON."""
    if path.startswith("redis://"):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def live_day(target: str, day: str | None = None) -> tuple[BudgetSpec, dict[str, Any]]:
    """The plan the keeper ran and its live day's result, from a keeper state alone (what it stored in it)."""
    from budget.traffic.live.clock import system_clock
    from budget.traffic.live.store import SqliteStore

    store: Store = open_store(target) if target.startswith("redis://") else SqliteStore(target, create=False)
    try:
        text = store.get_meta("spec")
        if text is None:
            raise BudgetError(f"{target}: the keeper state holds no plan (no request reached the keeper yet)")
        spec = spec_from_text(text, name=f"{target} (the plan the keeper ran)")
        timeout = float(store.get_meta("manual_timeout_sec") or DEFAULT_MANUAL_TIMEOUT_SEC)
        keeper = LiveKeeper(spec, store, system_clock, timeout, store.get_meta("recovery") or "instant")
        return spec, keeper.result(day)
    finally:
        store.close()


def result_from_state(target: str, day: str | None = None) -> dict[str, Any]:
    """The live day's result from a keeper state alone (the plan and settings the keeper stored in it)."""
    return live_day(target, day)[1]
