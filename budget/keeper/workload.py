"""The workload the plan implies: who does each phase, how an incident's tokens spread, who is disputed.

- Work tier of a phase: the tier with the largest quota in that phase among all
  tiers but the most expensive one (which reviews); the cheapest on a tie.
- Phase share ``s_p``: the policy's ``phase_shares`` when given (a fitted
  workload), else the plan's spread of its work tiers' quotas.
- Disputed: with ``policy.disputed_share`` set, that share of all incidents gets
  a frontier review, P0s first (every P0 is reviewed): the other ``round(share * n) - P0s``
  are the non-P0 incidents (``j``-th in arrival order) with the smallest
  ``frac((j + 1) * phi)`` (a golden-ratio Weyl sequence: exactly that many,
  evenly spread over the day, the same every run). This is the share a LiteLLM
  spend log shows (``budget fit``). Without it, an incident is disputed when its
  ``confidence_gap >= dispute_gap``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from budget.model import BudgetSpec, Incident, Policy

_PHI = (math.sqrt(5) - 1) / 2


def work_tiers(spec: BudgetSpec) -> list[str]:
    """The tier doing each phase's work, in the spec's phase order."""
    top = spec.most_expensive
    workers = [t for t in spec.tiers if t != top] or [top]
    out = []
    for phase in spec.phases.values():
        q = phase.quotas
        best = max(workers, key=lambda t: (q.get(t, 0), -workers.index(t)))
        out.append(best if q.get(best, 0) > 0 else workers[0])
    return out


def phase_shares(spec: BudgetSpec, tiers: Sequence[str]) -> list[float]:
    """Share of an incident's tokens spent in each phase (adds up to 1)."""
    names = list(spec.phases)
    given = spec.policy.phase_shares
    if given:
        total = sum(given.get(n, 0.0) for n in names)
        return [given.get(n, 0.0) / total for n in names]
    work_quota = [float(spec.phases[n].quotas.get(tiers[i], 0)) for i, n in enumerate(names)]
    total_work = sum(work_quota)
    if total_work > 0:
        return [q / total_work for q in work_quota]
    return [1.0 / len(names)] * len(names)


def disputed_flags(incidents: Sequence[Incident], policy: Policy) -> list[bool]:
    """Which incidents are disputed (get a frontier review besides every P0)."""
    share = policy.disputed_share
    if share is None:
        return [i.confidence_gap >= policy.dispute_gap for i in incidents]
    others = [n for n, inc in enumerate(incidents) if inc.severity != "P0"]
    extra = max(0, round(share * len(incidents)) - (len(incidents) - len(others)))
    # the non-P0 incidents whose Weyl value frac((j + 1) * phi) is among the `extra` smallest (ties by j:
    # the sort is stable)
    weyl = [((j + 1) * _PHI) % 1.0 for j in range(len(others))]
    flags = [False] * len(incidents)  # P0s are reviewed as P0s anyway
    for j in _smallest(weyl, extra):
        flags[others[j]] = True
    return flags


def _smallest(values: list[float], count: int) -> list[int]:
    """The indices of the ``count`` smallest values (ties by index): ``sorted(range(n), key=values)[:count]``.

    The values of a Weyl sequence are spread evenly over [0, 1), so about ``count`` of them lie below
    ``count / n``: only those below a bound a little above it are sorted. When fewer than ``count`` lie
    below the bound (never, for these values), every index is sorted.
    """
    n = len(values)
    if count <= 0 or n == 0:
        return []
    bound = (count + 64) / n
    below = [j for j in range(n) if values[j] < bound]  # if count of these >= count, they hold the smallest
    if len(below) < count:
        below = list(range(n))
    return sorted(below, key=values.__getitem__)[:count]


def needs_review(incident: Incident, disputed: bool) -> bool:
    return incident.severity == "P0" or disputed
