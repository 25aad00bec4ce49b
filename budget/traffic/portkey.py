"""A plan out to the open-source Portkey gateway: a config JSON it accepts and runs as it is.

Portkey's open-source gateway takes its config from the caller, in the ``x-portkey-config`` header,
and validates it: each leaf target needs a ``provider`` and an ``api_key`` (``virtual_key`` is a
feature of the hosted control plane only and is refused there with "Invalid config passed"), and
``custom_host`` points a target at any OpenAI-compatible upstream. The export reads them per tier
from the environment when it runs (``<TIER>_API_KEY``, optional ``<TIER>_API_BASE`` and
``<TIER>_PROVIDER``, default ``openai``; ``<TIER>_MODEL`` names the upstream's model, default the
tier), so the file it writes holds the keys: keep it as you keep them.

The routing is a ``conditional`` strategy on the caller's metadata (``x-portkey-metadata``): the
keeper's own failover rule (``budget.keeper.routing.failover_targets``) written out per tier and
severity. A request for tier ``T`` (``metadata.tier``; the cheapest when absent) whose
``metadata.age_s`` is above ``policy.failover_min_age_sec`` goes to a fallback chain: ``T``, then every
tier above it that takes its ``metadata.severity`` (the top tier takes ``policy.failover_severities``,
a middle tier ``policy.mid_failover_severities``), cheapest first. Every other request goes to ``T``
alone: when ``T`` is down its caller gets the error back and waits, as the keeper's degraded queue
does. Fallbacks move on 429 and 5xx, once each (Portkey retries nothing unless told to).

Target names are ``@<i>:<tier>`` and ``@<i>:<tier>><severities>``, ``i`` the tier's rank: distinct for
distinct tiers whatever their names (``routine``, ``failover``, ``x`` beside ``x-failover``). What
Portkey cannot hold (the allowance, the guard, the red button, the manual channel, an age the caller
cannot lie about) is in docs/gateways.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from budget.errors import BudgetError
from budget.model import SEVERITIES, BudgetSpec
from budget.traffic.endpoints import endpoint_prefixes

FALLBACK_STATUS_CODES = [429, 500, 502, 503, 504]


def _leaf(tier: str, prefix: str, env: Mapping[str, str]) -> dict[str, Any]:
    target: dict[str, Any] = {
        "provider": env.get(f"{prefix}_PROVIDER") or "openai",
        "api_key": env[f"{prefix}_API_KEY"],
    }
    if env.get(f"{prefix}_API_BASE"):
        target["custom_host"] = env[f"{prefix}_API_BASE"]
    target["override_params"] = {"model": env.get(f"{prefix}_MODEL") or tier}
    return target


def _chain(name: str, tiers: list[str], leaves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if len(tiers) == 1:
        return {"name": name, **leaves[tiers[0]]}
    return {
        "name": name,
        "strategy": {"mode": "fallback", "on_status_codes": FALLBACK_STATUS_CODES},
        "targets": [leaves[t] for t in tiers],
    }


def failover_chains(spec: BudgetSpec, tier: str) -> list[tuple[tuple[str, ...], list[str]]]:
    """For a request on ``tier`` old enough to fail over: (severities, the chain they get), one per chain."""
    p = spec.policy
    tiers = list(spec.tiers)
    above = tiers[tiers.index(tier) + 1 :]
    chains: dict[tuple[str, ...], list[str]] = {}
    for severity in SEVERITIES:
        chain = tuple(
            t for t in above if severity in (p.failover_severities if t == tiers[-1] else p.mid_failover_severities)
        )
        if chain:
            chains.setdefault(chain, []).append(severity)
    return [(tuple(sevs), [tier, *chain]) for chain, sevs in chains.items()]


def missing_keys(spec: BudgetSpec, env: Mapping[str, str]) -> list[str]:
    """The ``<TIER>_API_KEY`` variables the environment lacks (Portkey needs a key in every target)."""
    return [f"{p}_API_KEY" for p in endpoint_prefixes(spec).values() if not env.get(f"{p}_API_KEY")]


def portkey_dict(spec: BudgetSpec, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Portkey config: conditional routing by severity, age and tier (see the module docstring)."""
    env = os.environ if env is None else env
    if len(spec.tiers) < 2:
        raise BudgetError(f"{spec.source}: export needs at least two tiers (work and review), got {spec.tiers[0]}")
    missing = missing_keys(spec, env)
    if missing:
        raise BudgetError(
            f"{spec.source}: export --to portkey: set {', '.join(missing)} (the open-source Portkey gateway "
            "needs a provider and an api_key in every target; <TIER>_API_BASE sets an upstream's host)"
        )
    prefixes = endpoint_prefixes(spec)
    leaves = {t: _leaf(t, prefixes[t], env) for t in spec.tiers}
    old = {"metadata.age_s": {"$gt": spec.policy.failover_min_age_sec}}
    conditions: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    # the middle tiers and the top tier first (they are named), the cheapest last (it is the default)
    order = [*range(1, len(spec.tiers)), 0]
    for i in order:
        tier = spec.tiers[i]
        alone = f"@{i}:{tier}"
        own = [] if i == 0 else [{"metadata.tier": {"$eq": tier}}]
        for severities, chain in failover_chains(spec, tier):
            name = f"{alone}>{','.join(severities)}"
            conditions.append(
                {"query": {"$and": [*own, {"metadata.severity": {"$in": list(severities)}}, old]}, "then": name}
            )
            targets.append(_chain(name, chain, leaves))
        if own:
            conditions.append({"query": own[0], "then": alone})
        targets.append(_chain(alone, [tier], leaves))
    default = f"@0:{spec.tiers[0]}"
    return {"strategy": {"mode": "conditional", "conditions": conditions, "default": default}, "targets": targets}


def portkey_json(spec: BudgetSpec, env: Mapping[str, str] | None = None) -> str:
    return json.dumps(portkey_dict(spec, env), indent=2, ensure_ascii=False) + "\n"
