"""A plan out to a gateway: a LiteLLM proxy ``config.yaml`` or a Portkey config JSON.

Neither gateway can hold the whole policy (docs/gateways.md maps every part):

- **Per tier** (both): the tier's capacity in tokens a minute
  (``budget.model.capacity.tier_capacity_tpm``), its daily quota in tokens (the
  spec's row total, control reserve included) and that quota's price a day in
  USD at ``policy.token_price_per_million`` (:func:`tier_limits`).
- **LiteLLM**: one ``model_list`` entry per tier, named after it, with ``tpm``,
  ``tpd`` (tokens a UTC day; enforced, with ``tpm``, by the
  ``enforce_model_rate_limits`` pre-call check) and ``max_budget`` +
  ``budget_duration: 1d`` (the USD form of the same quota, for LiteLLM's
  deployment budgets). ``router_settings``: ``allowed_fails``
  (:data:`ALLOWED_FAILS`), ``cooldown_time`` (``policy.relapse_min`` minutes:
  a tier that failed stays out as long as the model says a failing tier stays
  down) and the global ``fallbacks``: each tier falls back only to the more
  expensive tiers below the top one, so the global chain never reaches the top
  tier (:func:`global_fallbacks`). P0/P1 callers reach it per request
  (client-side ``fallbacks``), as the config's comments show.
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

from budget.calibration import DEFAULT_PRICES
from budget.errors import BudgetError
from budget.files import GATEWAYS
from budget.model import BudgetSpec, tier_capacity_tpm
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


def global_fallbacks(spec: BudgetSpec) -> list[dict[str, list[str]]]:
    """LiteLLM's global chain: each tier to the more expensive tiers short of the top one."""
    middle = list(spec.tiers[1:-1])
    out = []
    for i, tier in enumerate(spec.tiers[:-1]):
        targets = [t for t in middle if spec.tiers.index(t) > i]
        if targets:
            out.append({tier: targets})
    return out


def reachable(fallbacks: list[dict[str, list[str]]], start: str) -> set[str]:
    """Every model group a request for ``start`` can end on (LiteLLM follows fallbacks of fallbacks)."""
    edges: dict[str, list[str]] = {}
    for entry in fallbacks:
        for src, targets in entry.items():
            edges.setdefault(src, []).extend(targets)
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check(spec: BudgetSpec) -> None:
    if len(spec.tiers) < 2:
        raise BudgetError(f"{spec.source}: export needs at least two tiers (work and review), got {spec.tiers[0]}")


def _env(tier: str, what: str) -> str:
    return "os.environ/" + re.sub(r"[^A-Z0-9]+", "_", tier.upper()).strip("_") + f"_{what}"


def litellm_dict(spec: BudgetSpec) -> dict[str, Any]:
    """The LiteLLM proxy config as data (what :func:`litellm_yaml` writes, without its comments)."""
    _check(spec)
    models = []
    for lim in tier_limits(spec):
        models.append(
            {
                "model_name": lim.tier,
                "litellm_params": {
                    "model": f"openai/{lim.tier}",
                    "api_base": _env(lim.tier, "API_BASE"),
                    "api_key": _env(lim.tier, "API_KEY"),
                    "tpm": lim.tpm,
                    "tpd": lim.tokens_per_day,
                    "max_budget": lim.usd_per_day,
                    "budget_duration": "1d",
                },
                "model_info": {"id": lim.tier},
            }
        )
    return {
        "model_list": models,
        "router_settings": {
            "routing_strategy": "simple-shuffle",
            "optional_pre_call_checks": ["enforce_model_rate_limits"],
            "allowed_fails": ALLOWED_FAILS,
            "cooldown_time": spec.policy.relapse_min * 60,
            "fallbacks": global_fallbacks(spec),
        },
    }


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
        return text
    return json.dumps(text)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def litellm_yaml(spec: BudgetSpec, source: str) -> str:
    """The LiteLLM proxy ``config.yaml``, commented for the people who deploy it."""
    data = litellm_dict(spec)
    p = spec.policy
    top, cheap = spec.most_expensive, spec.cheapest
    allowance = int(p.failover_allowance_share * spec.tier_total(top))
    severities = "/".join(p.failover_severities)
    lines = [
        f"# LiteLLM proxy config for {source}, written by `budget export --to litellm` (docs/gateways.md).",
        "# One model group per tier, named after it. Replace each litellm_params.model with your",
        "# provider/model and set the environment variables it names.",
        "model_list:",
    ]
    for model, lim in zip(data["model_list"], tier_limits(spec), strict=True):
        lp = model["litellm_params"]
        lines += [
            f"  # {lim.tier}: {lim.tpm:,} tokens a minute (its capacity), {lim.tokens_per_day:,} tokens a day (its",
            f"  # quota); max_budget is that quota at {lim.price_per_million:g} USD a million tokens.",
            f"  - model_name: {_scalar(lim.tier)}",
            "    litellm_params:",
            *(f"      {k}: {_scalar(v)}" for k, v in lp.items()),
            "    model_info:",
            f"      id: {_scalar(model['model_info']['id'])}",
        ]
    rs = data["router_settings"]
    chain = rs["fallbacks"]
    lines += [
        "router_settings:",
        f"  routing_strategy: {rs['routing_strategy']}",
        "  # enforce_model_rate_limits makes each tier's tpm and tpd hard limits.",
        f"  optional_pre_call_checks: {_flow(rs['optional_pre_call_checks'])}",
        f"  allowed_fails: {rs['allowed_fails']}  # failed calls in a minute before a tier is cooled down",
        f"  cooldown_time: {rs['cooldown_time']}  # seconds a cooled-down tier stays out (policy.relapse_min)",
        f"  # The global chain moves a failed request only to cheaper-than-{top} tiers: no path of it",
        f"  # (LiteLLM follows fallbacks of fallbacks) sends {cheap} traffic to {top}.",
        "  fallbacks:" + ("" if chain else " []"),
        *(f"    - {_scalar(src)}: {_flow(dst)}" for entry in chain for src, dst in entry.items()),
        f"  # {severities} callers: a task older than {p.failover_min_age_sec:g} s (policy.failover_min_age_sec)",
        f"  # whose tier failed may reach {top}, per request, with client-side fallbacks:",
        f'  #   {{"model": "{cheap}", "fallbacks": {json.dumps(list(spec.tiers[1:]))},',
        '  #    "metadata": {"tags": ["incident:INC-123", "phase:triage"]}, "messages": [...]}',
        f'  # or by asking for "model": "{top}" directly. Every other caller sends no fallbacks.',
        f"  # LiteLLM cannot cap that failover at {p.failover_allowance_share:.0%} of {top}'s day "
        f"({allowance:,} tokens,",
        "  # policy.failover_allowance_share): the caller that adds the fallbacks keeps that count.",
    ]
    return "\n".join(lines) + "\n"


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
    chain = {src: dst for entry in global_fallbacks(spec) for src, dst in entry.items()}
    lines = [f"{'tier':20}{'tpm':>10}{'tokens/day':>14}{'USD/day':>10}  fallback for all traffic"]
    for lim in tier_limits(spec):
        lines.append(
            f"{lim.tier:20}{lim.tpm:>10,}{lim.tokens_per_day:>14,}{lim.usd_per_day:>10,.2f}  "
            + (", ".join(chain.get(lim.tier, [])) or "-")
        )
    sev = "/".join(p.failover_severities)
    if gateway == "litellm":
        lines.append(
            f"{sev} older than {p.failover_min_age_sec:g} s reach {spec.most_expensive} only through client-side "
            f"fallbacks (see the config's comments); the global chain never does"
        )
    else:
        lines.append(
            f"{sev} with metadata.age_s > {p.failover_min_age_sec:g} fail over up to {spec.most_expensive}; "
            f"{'/'.join(p.mid_failover_severities)} as old to the middle tiers; everything else stays on its tier"
        )
        lines.append("Portkey keeps rate limits and budgets on providers: set the tpm and tokens/day above per tier")
    return lines
