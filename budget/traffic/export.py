"""A plan out to a gateway: a LiteLLM proxy ``config.yaml`` or a Portkey config JSON.

Neither gateway can hold the whole policy (docs/gateways.md maps every part):

- **Per tier** (both): the tier's capacity in tokens a minute
  (``budget.model.capacity.tier_capacity_tpm``), its daily quota in tokens (the
  spec's row total, control reserve included) and that quota's price a day in
  USD at ``policy.token_price_per_million`` (:func:`tier_limits`).
- **LiteLLM**: one ``model_list`` entry per tier, named after it, its upstream
  from ``<TIER>_API_BASE`` / ``<TIER>_API_KEY`` and its price per token; the live
  keeper (``budget.traffic.live.litellm_hook``) as the callback that decides every
  request and holds the quotas, the allowance and the tokens a minute across
  workers; ``num_retries: 0`` and no fallbacks (the keeper marks a failed tier down
  and decides the failover), cooldowns off (the keeper's down is the cooldown), the
  master key from ``LITELLM_MASTER_KEY``. Every value goes through a YAML serializer.
- **Portkey**: a ``conditional`` strategy on the caller's metadata, written by
  :mod:`budget.traffic.portkey` (providers, keys and hosts from the environment).
  Portkey keeps rate limits and budgets on its providers, not in configs: the
  per-tier limits are printed (and written with ``--limits-out``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from budget.calibration import DEFAULT_PRICES
from budget.errors import BudgetError
from budget.files import GATEWAYS
from budget.model import BudgetSpec, tier_capacity_tpm
from budget.traffic.endpoints import endpoint_prefixes
from budget.traffic.portkey import portkey_json

ALLOWED_FAILS = 3
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


@dataclass(frozen=True)
class TierLimit:
    tier: str
    tpm: int
    tokens_per_day: int
    price_per_million: float
    usd_per_day: float


def tier_price(spec: BudgetSpec, tier: str) -> float:
    """USD a million tokens: ``policy.token_price_per_million`` or the documented default by cost rank."""
    prices = spec.policy.token_price_per_million
    if tier in prices:
        return float(prices[tier])
    if tier == spec.cheapest:
        return DEFAULT_PRICES["cheapest"]
    if tier == spec.most_expensive:
        return DEFAULT_PRICES["most_expensive"]
    return DEFAULT_PRICES["middle"]


def tier_limits(spec: BudgetSpec) -> list[TierLimit]:
    """Each tier's tokens a minute, tokens a day and USD a day, cheapest first."""
    tpm = tier_capacity_tpm(spec)
    out = []
    for tier in spec.tiers:
        price = tier_price(spec, tier)
        tokens = spec.tier_total(tier)
        out.append(TierLimit(tier, tpm[tier], tokens, price, round(tokens * price / 1e6, 4)))
    return out


def _check(spec: BudgetSpec) -> None:
    if len(spec.tiers) < 2:
        raise BudgetError(f"{spec.source}: export needs at least two tiers (work and review), got {spec.tiers[0]}")


def _env(stem: str, what: str) -> str:
    return f"os.environ/{stem}_{what}"


KEEPER_CALLBACK = "budget.traffic.live.litellm_hook.keeper"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"


def litellm_dict(spec: BudgetSpec) -> dict[str, Any]:
    """The LiteLLM proxy config as data: one model group per tier with its upstream and prices, the live
    keeper as the callback that decides every request, no retries and no fallbacks of the gateway's own."""
    _check(spec)
    stems = endpoint_prefixes(spec)
    models = []
    for lim in tier_limits(spec):
        price = float(f"{lim.price_per_million / 1e6:.12g}")
        models.append(
            {
                "model_name": lim.tier,
                "litellm_params": {
                    "model": f"openai/{lim.tier}",
                    "api_base": _env(stems[lim.tier], "API_BASE"),
                    "api_key": _env(stems[lim.tier], "API_KEY"),
                    "input_cost_per_token": price,
                    "output_cost_per_token": price,
                },
                "model_info": {"id": lim.tier, "input_cost_per_token": price, "output_cost_per_token": price},
            }
        )
    return {
        "model_list": models,
        "litellm_settings": {"callbacks": KEEPER_CALLBACK, "num_retries": 0, "request_timeout": 30},
        "router_settings": {"num_retries": 0, "disable_cooldowns": True},
        "general_settings": {"master_key": f"os.environ/{MASTER_KEY_ENV}"},
    }


def litellm_env_names(spec: BudgetSpec) -> list[str]:
    """Every environment variable the exported LiteLLM config and its keeper read."""
    stems = endpoint_prefixes(spec)
    names = [f"{stems[t]}_{what}" for t in spec.tiers for what in ("API_BASE", "API_KEY")]
    return [*names, MASTER_KEY_ENV, "BUDGET_KEEPER_STATE", "BUDGET_KEEPER_SPEC"]


def litellm_yaml(spec: BudgetSpec, source: str) -> str:
    """The LiteLLM proxy ``config.yaml`` (written by a YAML serializer), with a header for the people who deploy it."""
    data = litellm_dict(spec)
    header = [
        f"# LiteLLM proxy config for {source}, written by `budget export --to litellm` (docs/gateways.md).",
        "# Tested with litellm[proxy]==1.108.7. The live keeper decides every request (ranked failover,",
        "# the failover allowance, the guard, the degraded queue, the manual channel); refusals are 429s",
        "# with the decision in the x-budget-decision header. Start it with these variables set:",
        *(f"#   {name}" for name in litellm_env_names(spec)),
        "# (BUDGET_KEEPER_SPEC: this plan's file; BUDGET_KEEPER_STATE: a SQLite path or redis:// URL),",
        "# and `budget` importable by the proxy's Python, e.g.:",
        "#   LITELLM_LOCAL_MODEL_COST_MAP=True litellm --config config.yaml --num_workers 4 \\",
        "#     --timeout_worker_healthcheck 60",
        "# No retries and no fallbacks of LiteLLM's own: a failed upstream marks its tier down in the keeper,",
        "# which then decides every request for it. Prices are per token (policy.token_price_per_million).",
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def limits_json(spec: BudgetSpec) -> str:
    """The per-tier limits as JSON (``--limits-out``), for a gateway's own rate-limit and budget settings."""
    return json.dumps({lim.tier: asdict(lim) for lim in tier_limits(spec)}, indent=2) + "\n"


def export_text(spec: BudgetSpec, gateway: str, source: str) -> str:
    if gateway == "litellm":
        return litellm_yaml(spec, source)
    if gateway == "portkey":
        return portkey_json(spec)
    raise BudgetError(f"--to {gateway!r}: use one of {', '.join(GATEWAYS)}")


def summary_lines(spec: BudgetSpec, gateway: str) -> list[str]:
    """What ``budget export`` prints: the per-tier limits and how failover reaches the top tier."""
    p = spec.policy
    stems = endpoint_prefixes(spec)
    lines = [f"{'tier':20}{'tpm':>10}{'tokens/day':>14}{'USD/day':>10}  upstream from"]
    for lim in tier_limits(spec):
        lines.append(
            f"{lim.tier:20}{lim.tpm:>10,}{lim.tokens_per_day:>14,}{lim.usd_per_day:>10,.2f}  "
            f"${stems[lim.tier]}_API_BASE"
        )
    sev = "/".join(p.failover_severities)
    if gateway == "litellm":
        mids = [f"{'/'.join(p.mid_failover_severities)} to {t}" for t in spec.tiers[1:-1]]
        routes = ", ".join([*mids, f"{sev} to {spec.most_expensive}"])
        lines.append(
            f"the live keeper decides every request: older than {p.failover_min_age_sec:g} s, {routes} "
            f"(within {p.failover_allowance_share:.0%} of a tier's day); callers' fallbacks are dropped"
        )
        lines.append("needs: " + ", ".join(litellm_env_names(spec)))
    else:
        lines.append(
            f"{sev} with metadata.age_s > {p.failover_min_age_sec:g} fail over up to {spec.most_expensive}; "
            f"{'/'.join(p.mid_failover_severities)} as old to the middle tiers; everything else stays on its tier"
        )
        lines.append("Portkey keeps rate limits and budgets on providers: set the tpm and tokens/day above per tier")
    return lines
