"""The environment variables that name each tier's upstream in an exported gateway config.

A tier ``local-coder`` reads ``LOCAL_CODER_API_KEY``, ``LOCAL_CODER_API_BASE`` and so on: the tier's
name in capitals, every run of other characters one underscore. Two tiers must never read one
variable, so names that cannot be told apart this way (``local-coder`` beside ``local_coder``, or
names with no ASCII letter or digit such as ``ローカル``) are refused with the reason, before any file
is written.
"""

from __future__ import annotations

import re

from budget.errors import BudgetError
from budget.model import BudgetSpec

_OTHER = re.compile(r"[^A-Z0-9]+")


def endpoint_prefix(tier: str) -> str:
    """``local-coder`` -> ``LOCAL_CODER``; empty when the name has no ASCII letter or digit."""
    return _OTHER.sub("_", tier.upper()).strip("_")


def endpoint_prefixes(spec: BudgetSpec) -> dict[str, str]:
    """Each tier's variable prefix, distinct for distinct tiers (else a one-line error naming both)."""
    seen: dict[str, str] = {}
    for tier in spec.tiers:
        prefix = endpoint_prefix(tier)
        if not prefix:
            raise BudgetError(
                f"{spec.source}: tier {tier!r} has no ASCII letter or digit to name its environment variables "
                "(<TIER>_API_KEY ...): rename it for export"
            )
        if prefix[0].isdigit():
            prefix = "TIER_" + prefix
        if prefix in seen:
            raise BudgetError(
                f"{spec.source}: tiers {seen[prefix]!r} and {tier!r} would both read {prefix}_API_KEY: "
                "rename one of them for export"
            )
        seen[prefix] = tier
    return {tier: prefix for prefix, tier in seen.items()}
