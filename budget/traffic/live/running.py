"""The keeper of one live day, run on minute by minute as the day's log grows.

A request asks where its incident stands *now*. Rebuilding the day from its log and running the
keeper from the day's first minute on every new incident costs a run of the whole day so far (tens of
milliseconds late in a busy day). :class:`RunningDay` keeps one keeper instead, the *base*, that has
run every minute before the current one, and feeds it each fact as it becomes due:

- an incident joins the keeper's tasks before the tick that admits it (its first tick at or after the
  second it was first seen), and the plan's forecast (``accounting.forecast``) then counts every
  incident seen so far: the live keeper learns the day's demand as it comes, it is not told it;
- an outage joins the keeper's outages when the tier is noted down (from its tick on) and gets its
  end when the tier is noted back up.

The decision for the current minute is read from a copy of the base (``Keeper.clone``) that runs the
current tick with what is known now; the copy is reused while the minute and the facts stay the same.
The base only ever runs minutes that are over, so what it ran is never revised. A fact that arrives for
a minute the base has already run (two workers writing the same second at a minute's turn) restarts
the base from the day's first minute with every fact in place: the same keeper, a little later.

Everything here is the simulator's keeper (``budget.keeper``): its ticks, its admission, its forecast;
this module only decides when each fact is handed to it. The state is a function of the day's log
alone, so every worker that reads the same log decides the same.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from budget.keeper.accounting import forecast
from budget.keeper.simulate import advance, start_run
from budget.keeper.state import Keeper
from budget.keeper.task import Task
from budget.keeper.workload import disputed_flags, needs_review
from budget.model import BudgetSpec, Incident, format_clock, scenario_from_dict
from budget.traffic.live.day import DAY_MIN, incident_of, tick_of

OPEN = 10**9  # the end of an outage that has not ended yet: a minute no day reaches


@dataclass(eq=False)
class Outage:
    """A tier down from a minute (its tick) to the minute it came back (None: still down)."""

    start: int
    end: int | None
    tier: str
    noted: int = 0  # the minute it was noted in (its tick is the next minute, or this one on the minute)
    since: float | None = None  # when it was noted (epoch seconds; None: down since before the day)
    by: str = "operator"  # who noted it: "upstream" (a call failed) or "operator"

    def entry(self) -> tuple[int, int, str]:
        """As the keeper holds it in ``Keeper.outages``."""
        return (self.start, OPEN if self.end is None else self.end, self.tier)


class RunningDay:
    """The live keeper of one UTC day: facts in with :meth:`note`, the keeper now with :meth:`keeper_at`."""

    def __init__(self, spec: BudgetSpec, manual_timeout_sec: float, recovery: str) -> None:
        self.spec = spec
        self.manual_timeout_sec = manual_timeout_sec
        self.recovery = recovery
        self.incidents: list[Incident] = []  # every incident seen, in (arrival, id) order
        self._keys: list[tuple[int, str]] = []  # their (arrival, id), for bisect
        self.outages: list[Outage] = []  # in the order noted
        self._open: dict[str, Outage] = {}  # the tiers down now -> their outage
        self.base: Keeper | None = None
        self._fed = 0  # incidents (a prefix of ``incidents``) in the base's tasks
        self._in_base: dict[int, tuple[int, int, str]] = {}  # outage (by id) -> its entry in base.outages
        self._preview: tuple[tuple[Any, ...], Keeper] | None = None
        self.restarts = 0  # times the base started over (the first start included)

    # -- facts ---------------------------------------------------------------------------------------
    def note(self, kind: str, body: dict[str, Any]) -> None:
        """One fact of the day's log, in log order: ``seen``, ``down`` or ``up``."""
        if kind == "seen":
            inc = incident_of(body)
            key = (inc.arrival_sec, inc.id)
            at = bisect.bisect_right(self._keys, key)
            self._keys.insert(at, key)
            self.incidents.insert(at, inc)
            if at < self._fed:  # sorts before an incident the base already holds: its order would be wrong
                self.base = None
        elif kind == "down":
            tier = str(body["tier"])
            if tier not in self._open:
                since = body.get("t")
                by = "upstream" if body.get("by") == "upstream" else "operator"
                outage = Outage(tick_of(body["second"]), None, tier, int(body["second"]) // 60, since, by)
                self.outages.append(outage)
                self._open[tier] = outage
                self._to_base(outage)
        elif kind == "up":
            tier = str(body["tier"])
            ended = self._open.pop(tier, None)
            if ended is None:  # an up with no down today: the tier was down since before the day began
                ended = Outage(0, None, tier)
                self.outages.append(ended)
            ended.end = max(ended.start + 1, tick_of(body["second"]))
            self._to_base(ended)

    def down_now(self) -> list[Outage]:
        """The outages still open, in the order noted."""
        return [o for o in self.outages if o.end is None]

    def carry(self, tier: str, since: float | None = None, by: str = "operator") -> None:
        """A tier down since before the day began (and still down): down from the day's first minute; noted
        at ``since`` by ``by`` (a tier its upstream took down is still probed)."""
        if tier not in self._open:
            outage = Outage(0, None, tier, 0, since, by)
            self.outages.append(outage)
            self._open[tier] = outage
            self._to_base(outage)

    def _to_base(self, outage: Outage) -> None:
        """Hand the outage (new, or now ended) to the base, unless it changes a minute the base has run."""
        k = self.base
        if k is None:
            return
        entry = outage.entry()
        old = self._in_base.get(id(outage))
        if (old is None and outage.start < self._next(k)) or entry[1] < self._next(k):
            self.base = None  # too late for the minutes already run: start again with it in place
            return
        if old is None:
            k.outages.append(entry)
        else:
            k.outages[k.outages.index(old)] = entry
        self._in_base[id(outage)] = entry
        if k.sc.down_tier is None:
            k.sc = self._scenario(entry)

    # -- the keeper ----------------------------------------------------------------------------------
    def keeper_at(self, second: float) -> Keeper:
        """The keeper run to its tick for ``second`` (included), with every fact noted so far."""
        now_tick = tick_of(second)
        key = (now_tick, len(self.incidents), tuple(o.entry() for o in self.outages))
        if self._preview is not None and self._preview[0] == key:
            return self._preview[1]
        base = self._base(now_tick)
        k = base.clone()
        self._feed(k, now_tick)
        advance(k, until_minute=now_tick + 1)
        self._preview = (key, k)
        return k

    def _base(self, now_tick: int) -> Keeper:
        """The base, run up to ``now_tick`` (not included)."""
        k = self.base
        if (
            k is None
            or k.first != self._first()
            or (self._fed < len(self.incidents) and self._due(self._fed) < self._next(k))
        ):
            self._start()
        k = self.base
        assert k is not None
        while self._next(k) < now_tick:
            due = self._due(self._fed) if self._fed < len(self.incidents) else now_tick
            if due > self._next(k):
                advance(k, until_minute=min(due, now_tick))
                continue
            self._feed(k, self._next(k))
            advance(k, until_minute=self._next(k) + 1)
        return k

    def _start(self) -> None:
        """A keeper from the day's first minute (its first incident's or outage's), every outage in place."""
        self.restarts += 1
        first = self._first()
        outages = sorted(self.outages, key=lambda o: (o.start, o.tier))
        sc = self._scenario(None)
        k = start_run(self.spec, sc)
        k.first, k.last, k.tick, k.nxt = first, DAY_MIN + self.spec.policy.drain_min, 0, 0
        self.base, self._fed, self._in_base = k, 0, {}
        for o in outages:
            self._to_base(o)

    def _first(self) -> int:
        """The day's first minute: the minute its first fact (an incident, a tier down) was noted in."""
        marks = [o.noted for o in self.outages] + [i.arrival_sec // 60 for i in self.incidents[:1]]
        return min(marks) if marks else 0

    def _scenario(self, outage: tuple[int, int, str] | None) -> Any:
        base: dict[str, Any] = {"queue": 0, "manual_timeout_sec": self.manual_timeout_sec, "recovery": self.recovery}
        if outage is not None:
            start, end, tier = outage
            base.update(down_tier=tier, start=format_clock(start), duration_min=max(1, min(end, DAY_MIN) - start))
        return scenario_from_dict(base, self.spec, name="<live day>").model_copy(update={"incidents": ()})

    def _feed(self, k: Keeper, minute: int) -> None:
        """Hand ``k`` every incident its tick ``minute`` admits that it does not hold yet, then re-forecast."""
        held = len(k.tasks)
        n = held
        while n < len(self.incidents) and self._due(n) <= minute:
            n += 1
        if n == held:
            return
        seen = self.incidents[:n]
        flags = disputed_flags(seen, self.spec.policy)
        for rank in range(held, n):
            inc = seen[rank]
            if k.tasks and (inc.arrival_sec, inc.id) == (k.tasks[-1].inc.arrival_sec, k.tasks[-1].inc.id):
                k.ranks_distinct = False
            k.tasks.append(Task(inc, needs_review(inc, flags[rank]), rank, k.include_decisions))
        if held == 0:
            k.ranks_distinct = len(set(self._keys[:n])) == n
        forecast(k, seen, flags)
        if k is self.base:
            self._fed = n

    def _due(self, n: int) -> int:
        """The tick that admits the ``n``-th incident: its first minute at or after its arrival."""
        return tick_of(self.incidents[n].arrival_sec)

    @staticmethod
    def _next(k: Keeper) -> int:
        """The next minute ``k`` runs."""
        return k.first + k.tick
