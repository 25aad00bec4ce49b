"""The keeper's state: the plan's derived quantities, the budget ledgers and the run's bookkeeping.

Everything the other modules of the keeper read and change lives on one
:class:`Keeper`; each of them holds one idea (accounting, routing, work,
health, red button, recovery) as functions over it.
"""

from __future__ import annotations

import copy
from typing import Any

from budget.keeper.task import POSTMORTEM, Task
from budget.keeper.workload import phase_shares, work_tiers
from budget.model import SEVERITIES, BudgetSpec, Policy, Scenario, tier_capacity_tpm

# a change of token_health smaller than this from one window to the next is noise, not a trend:
# the red button's "risk grew" condition and the staged return's "stable window" both use it
HEALTH_STEP = 0.005


class Keeper:
    def __init__(self, spec: BudgetSpec, scenario: Scenario, policy: Policy) -> None:
        self.spec = spec
        self.sc = scenario
        self.p = policy
        self.W = float(policy.tokens_per_incident)
        self.tiers = spec.tiers
        names = list(spec.phases)
        self.pm_index = names.index(POSTMORTEM) if POSTMORTEM in names else None
        # the phases that must finish before an incident counts as resolved
        self.resolve_phases = [i for i, n in enumerate(names) if n != POSTMORTEM]
        self.order = self.resolve_phases + ([self.pm_index] if self.pm_index is not None else [])
        self.phase_names = names
        self.dur = []
        for n in names:
            sla = spec.phases[n].sla_seconds
            self.dur.append(max(1.0, (sla if sla is not None else 60.0) * policy.phase_time_share))
        # who does each phase and how an incident's W tokens spread over the phases (workload.py)
        self.top = spec.most_expensive
        self.work_tier = work_tiers(spec)
        self.share = phase_shares(spec, self.work_tier)
        self.rate = [self.W * self.share[i] / self.dur[i] for i in range(len(names))]  # tokens a second per phase
        # the ledgers of quota[phase][tier], one slot per phase and tier (slot = phase x tiers + tier's index)
        self.tier_index = {t: i for i, t in enumerate(self.tiers)}
        self.remaining = [float(spec.phases[n].quotas.get(t, 0)) for n in names for t in self.tiers]
        self.spent = [0.0] * len(self.remaining)
        # the slot each phase's work is charged to on its work tier
        self.work_slot = [i * len(self.tiers) + self.tier_index[t] for i, t in enumerate(self.work_tier)]
        self.work_tier_i = [self.tier_index[t] for t in self.work_tier]  # each phase's work tier, by index
        # per-tier figures are lists indexed by the tier's place in the plan (tier_index)
        self.spent_tier = [0.0] * len(self.tiers)  # running totals of spent, per tier
        self.reserve_left = {t: float(spec.reserve.get(t, 0)) for t in self.tiers}
        self.reserve_used = {t: 0.0 for t in self.tiers}
        self.quota_total = {t: float(spec.tier_total(t)) for t in self.tiers}
        self.reserve_total = float(sum(spec.reserve.values()))
        self.allowance = {t: policy.failover_allowance_share * self.quota_total[t] for t in self.tiers}
        self.unplanned = {t: 0.0 for t in self.tiers}  # tokens committed to failover work
        self.fo_spent = [0.0] * len(self.tiers)  # of which already spent
        self.planned_spent = [0.0] * len(self.tiers)  # spent on planned work: normal routing and reviews
        self.demand = {t: 0.0 for t in self.tiers}  # planned (normal-routing) tokens of the run
        self.spare = dict(self.quota_total)
        self.eligible = {t: 0.0 for t in self.tiers}  # work of tasks eligible for failover this outage
        # what absorbs rework: a full queue's worth of work, or the control reserve if larger
        self.absorb = max(self.reserve_total, policy.queue_limit * self.W)
        self.down: set[str] = set()
        self.tasks: list[Task] = []
        self.active: list[Task] = []
        self.owed: list[Task] = []  # manual tasks awaiting audit
        self.health_hist: list[float] = []
        self.window_health: list[float] = []
        self.red_active = False
        self.red_conditions: tuple[str, ...] = ()
        self.red_events: list[dict[str, Any]] = []
        self.red_minutes = 0
        self.red_activated = False
        self.frontier_for_low = False
        self.guard_breaches: list[str] = []
        self.guard_below = False
        self.counts = {"failover": 0, "degraded": 0, "manual_timeout": 0, "manual_guard": 0, "manual_intake": 0}
        self.failover_by: dict[str, int] = {t: 0 for t in self.tiers[1:]}  # failovers per target tier
        self.max_open = 0
        self.degraded_minutes = 0
        self.timeline: list[dict[str, Any]] = []
        self.health = 1.0
        self.h_parts = (1.0, 1.0, 1.0)  # h_frontier, h_plan, h_backlog
        self.outages: list[tuple[int, int, str]] = []  # (down from, up at, tier) in minutes
        self.recovered_at: dict[str, int] = {}
        self.first_recovery: int | None = None
        self.stage = 0  # staged return: 0 none, 1 (30%), 2 (60%), 3 full
        self.stage_since = 0
        self.stage_events: list[dict[str, Any]] = []
        self.relapses: list[dict[str, Any]] = []
        self.starts: dict[str, int] = {}  # tasks started this minute, per tier
        self.silent_hist: list[int] = []
        self.oq = 0  # open queue, counted once a tick and kept up to date on admission
        self.snap_open = 0  # open queue after this tick's work (see health.scan)
        self.snap_owed = 0.0  # rework owed after this tick
        self.snap_breach: str | None = None  # the first open P0/P1 past its SLA after this tick, as a condition
        self.snap_states: dict[str, int] = {}
        self.snap_phase: dict[str, int] = {}
        self.sla = {sev: policy.sla_seconds(sev) for sev in SEVERITIES}
        # per-minute capacity (tokens a minute) and what each tier served this minute
        capacity = tier_capacity_tpm(spec)
        self.cap = [float(capacity[t]) for t in self.tiers]
        self.cap_left = list(self.cap)
        self.peak_use = [0.0] * len(self.tiers)  # highest share of capacity used in a minute
        self.review_queue: list[Task] = []  # tasks whose frontier review is requested and not decided
        self.review_tokens = policy.review_share * self.W
        # where the run stands (simulate.start_run / advance): its minutes, the next tick, the next arrival
        self.first = 0
        self.last = 0
        self.staged = scenario.recovery == "staged"  # the staged return (simulate._tick keeps it current)
        self.ranks_distinct = False  # no two incidents share arrival and id (simulate.arrival_ranks)
        self.tick = 0
        self.nxt = 0
        self.include_decisions = True
        self.include_timeline = True

    # lists whose items are never changed once appended: a copy of the list is a copy of the history
    _APPEND_ONLY = ("timeline", "health_hist", "window_health", "silent_hist", "guard_breaches")
    _SHARED = ("spec", "sc", "p")  # immutable inputs

    def clone(self) -> Keeper:
        """An independent copy that runs on from here exactly as this keeper would.

        Every task that can still change and every ledger is copied (a task keeps its place in
        ``tasks``, ``active``, ``owed`` and ``review_queue``); a settled task (:meth:`settled`)
        is shared, as are the spec, the scenario, the policy and the incidents, being
        immutable. ``simulate.fork`` uses it to run several outages from one simulated
        pre-outage stretch.
        """
        twin = Keeper(self.spec, self.sc, self.p)  # then every attribute is replaced by this keeper's
        live = self._live()
        copies: dict[int, Any] = {}  # the live tasks' copies, by the original's id
        tasks: list[Task] = []
        for i, t in enumerate(self.tasks):
            if i >= self.nxt:  # not arrived yet: it changes when it arrives
                tasks.append(t.clone())
            elif id(t) in live:
                c = copies[id(t)] = t.clone()
                tasks.append(c)
            else:  # settled: shared
                tasks.append(t)
        memo: dict[int, Any] = {}  # one memo for every container: what two of them share stays shared
        for name in _attributes(self):
            value = getattr(self, name)
            if name in self._SHARED or not isinstance(value, (list, dict, set)):
                setattr(twin, name, value)
            elif name in self._APPEND_ONLY:
                setattr(twin, name, list(value))
            elif name == "tasks":
                setattr(twin, name, tasks)
            elif name in self._LIVE:  # only live tasks are in these lists
                setattr(twin, name, [copies[id(t)] for t in value])
            else:  # ledgers and records (no task in them: tests/test_snapshot.py checks every attribute)
                setattr(twin, name, copy.deepcopy(value, memo))
        return twin

    _LIVE = ("active", "owed", "review_queue")  # the lists that lead the keeper to a task that can change

    def _live(self) -> set[int]:
        return {id(t) for t in self.active} | {id(t) for t in self.owed} | {id(t) for t in self.review_queue}

    def settled(self) -> set[int]:
        """The ids of the tasks that no tick changes any more: arrived, and neither open (``active``), waiting
        for an audit (``owed``) nor for a review (``review_queue``). Only those lists lead the keeper to a task."""
        live = self._live()
        return {id(t) for t in self.tasks[: self.nxt] if id(t) not in live}

    def slot(self, phase: int, tier: str) -> int:
        """Where quota[phase][tier] sits in the ledgers ``remaining`` and ``spent``."""
        return phase * len(self.tiers) + self.tier_index[tier]

    def needed_tier(self, task: Task) -> str:
        """The tier the task needs next: its failover tier, or its current phase's work tier."""
        if task.failover and task.tier is not None:
            return task.tier
        idx = min(task.phase, len(self.order) - 1)
        return self.work_tier[self.order[idx]]

    def open_queue(self) -> int:
        return sum(
            1
            for t in self.active
            if t.state in ("pending", "degraded") or (t.state == "manual" and not t.manual_closed)
        )


def _attributes(k: Keeper) -> tuple[str, ...]:
    """The keeper's attribute names: its ``__dict__`` as Python, the class's fields when compiled (budget/native.py)."""
    names: tuple[str, ...] = getattr(type(k), "__mypyc_attrs__", ()) or tuple(vars(k))
    return tuple(n for n in names if not n.startswith("__"))
