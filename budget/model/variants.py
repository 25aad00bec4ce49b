"""A sweep's variant of a plan: its frontier share, reserve, manual timeout and guard, and its price.

Every variant keeps the base spec's daily budget and phase proportions; it moves
the most expensive tier's share of the day to ``frontier_share`` and the
cheapest tier's control reserve to ``reserve``, and the cheap tiers' phase quotas
take the rest in their base proportions (whole thousands, adding up exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

from budget.errors import BudgetError
from budget.model.phases import Phase
from budget.model.spec import BudgetSpec

DEFAULT_PRICES = {"cheapest": 0.10, "middle": 0.60, "most_expensive": 3.00}


@dataclass(frozen=True)
class Variant:
    frontier_share: float
    reserve: int
    manual_timeout_sec: float
    alert_threshold: float


def price_of(spec: BudgetSpec) -> float:
    """The plan's price a day: every tier's tokens at its price per million."""
    prices = spec.policy.token_price_per_million
    total = 0.0
    for i, tier in enumerate(spec.tiers):
        if tier in prices:
            p = prices[tier]
        elif i == 0:
            p = DEFAULT_PRICES["cheapest"]
        elif i == len(spec.tiers) - 1:
            p = DEFAULT_PRICES["most_expensive"]
        else:
            p = DEFAULT_PRICES["middle"]
        total += spec.tier_total(tier) / 1e6 * p
    return total


def spread(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to ``weights`` that add up to ``total`` exactly."""
    s = sum(weights)
    if s <= 0:
        weights = [1.0] * len(weights)
        s = float(len(weights))
    raw = [total * w / s for w in weights]
    out = [int(x // 1000 * 1000) for x in raw]  # round quotas down to thousands
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    out[order[0]] += rest
    return out


def variant_spec(base: BudgetSpec, v: Variant) -> BudgetSpec:
    """The base spec with the variant's frontier share, reserve and guard (same daily budget)."""
    if not 0 < v.frontier_share < 1:
        raise BudgetError(f"frontier share {v.frontier_share}: must be between 0 and 1")
    daily = base.daily_budget_tokens
    top, cheap = base.most_expensive, base.cheapest
    names = list(base.phases)
    frontier_total = int(round(daily * v.frontier_share))
    if v.reserve < 0 or v.reserve + frontier_total >= daily:
        raise BudgetError(f"reserve {v.reserve:,}: leaves nothing for the cheap tiers' phases")
    top_w = [float(base.phases[n].quotas.get(top, 0)) for n in names]
    if sum(top_w) == 0:
        top_w = [float(sum(base.phases[n].quotas.values())) for n in names]
    top_q = spread(frontier_total, top_w)
    others = [t for t in base.tiers if t != top]
    keys = [(n, t) for n in names for t in others]
    other_q = spread(daily - frontier_total - v.reserve, [float(base.phases[n].quotas.get(t, 0)) for n, t in keys])
    quotas: dict[str, dict[str, int]] = {n: {} for n in names}
    for (n, t), q in zip(keys, other_q, strict=True):
        quotas[n][t] = q
    for n, q in zip(names, top_q, strict=True):
        quotas[n][top] = q
    phases = {n: Phase(quotas={t: quotas[n][t] for t in base.tiers}, sla_p95=base.phases[n].sla_p95) for n in names}
    reserve = {t: 0 for t in base.tiers}
    reserve[cheap] = v.reserve
    policy = base.policy.model_copy(update={"alert_threshold": v.alert_threshold})
    return base.model_copy(
        update={"phases": phases, "reserve": reserve, "policy": policy, "policy_declared": True, "split": None}
    )
