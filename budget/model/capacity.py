"""Per-minute capacity of each tier: the tokens a tier can serve in one minute.

Like a gateway's tokens-per-minute (``tpm``) limit. A spec sets it per tier in
``policy.capacity_tpm``; a tier not named there gets the capacity derived from
its daily quota: ``ceil(capacity_peak_factor * quota / 1440)``, its average
minute of the day times the peak factor (docs/model.md).
"""

from __future__ import annotations

import math

from budget.model.spec import BudgetSpec

MINUTES_PER_DAY = 1440


def tier_capacity_tpm(spec: BudgetSpec) -> dict[str, int]:
    """Tokens per minute per tier, cheapest first: the spec's ``capacity_tpm`` or the derived default."""
    p = spec.policy
    out: dict[str, int] = {}
    for tier in spec.tiers:
        if tier in p.capacity_tpm:
            out[tier] = int(p.capacity_tpm[tier])
        else:
            out[tier] = math.ceil(p.capacity_peak_factor * spec.tier_total(tier) / MINUTES_PER_DAY)
    return out
