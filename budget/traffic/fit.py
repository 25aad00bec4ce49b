"""Fitting the workload of a spec's ``policy:`` from a LiteLLM spend log.

What a fit reads (docs/litellm-spend-logs.md has the tagging convention):

- Only successful requests tagged with an incident count. Failed requests
  (``status: failure``) and requests without an incident tag (other traffic on
  the same proxy) are left out and counted; a log in which no request carries
  an incident tag is an error.
- Tiers: a request's ``model_group`` mapped through ``--tier-map`` (a group not
  in the map is a tier of the same name). Cheapest first: the ``--tiers`` list,
  else the tiers of the spec given with ``--budget-spec``, else the price per
  token the log itself shows (``spend / total_tokens`` of each tier's requests);
  two tiers at the same observed price (a log without spend, say) are an error
  that asks for ``--tiers``. When the tiers are given, a request on any other
  tier is an error naming it.
- The **top tier** is the most expensive one: it reviews. The **work tiers** are
  all the others (docs/model.md: an incident's work runs on the work tiers, and
  the most expensive tier reviews P0 and disputed tasks).

What it writes, each from documented statistics:

- ``tokens_per_incident``: the median over incidents of the incident's work-tier
  tokens.
- ``review_share``: the median, over the incidents the top tier reviewed, of
  the incident's top-tier tokens as a share of its work-tier tokens (a review
  costs a share of the incident it reviews: docs/model.md).
- ``disputed_share``: the share of incidents the top tier reviewed (any
  successful top-tier request).
- ``capacity_tpm``: per tier, the peak tokens per minute (requests counted in
  the minute they started); its spread is over the minutes with traffic on
  that tier.
- ``phase_shares``: each phase's share of the work-tier tokens of all incidents
  (requests without a phase tag count for ``tokens_per_incident`` only).

Spreads are p10/p50/p90 (``statistics.quantiles``, inclusive method).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from pydantic import ValidationError

from budget.errors import BudgetError, UsageError
from budget.files import one_line
from budget.model import BudgetSpec, Policy
from budget.traffic.spendlog import SpendLog, SpendRecord

SHARE_DECIMALS = 4


@dataclass(frozen=True)
class Spread:
    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if len(values) == 1:
            return cls(values[0], values[0], values[0])
        q = statistics.quantiles(values, n=10, method="inclusive")
        return cls(q[0], statistics.median(values), q[8])


@dataclass
class Fit:
    """The fitted workload, with what was read and left out."""

    source: str
    format: str
    tiers: tuple[str, ...]
    order_source: str
    records: int = 0
    failed: int = 0
    untagged: int = 0
    without_phase: int = 0
    incidents: int = 0
    reviewed: int = 0
    first: datetime | None = None
    last: datetime | None = None
    tokens_per_incident: int = 0
    tokens_spread: Spread | None = None
    review_share: float | None = None
    review_spread: Spread | None = None
    disputed_share: float | None = None
    capacity_tpm: dict[str, int] = field(default_factory=dict)
    tpm_spread: dict[str, Spread] = field(default_factory=dict)
    phase_shares: dict[str, float] = field(default_factory=dict)

    @property
    def top_tier(self) -> str:
        return self.tiers[-1]

    @property
    def work_tiers(self) -> tuple[str, ...]:
        return self.tiers[:-1]

    def policy(self) -> dict[str, object]:
        """The ``policy:`` entries of the fragment, in a stable order."""
        out: dict[str, object] = {"tokens_per_incident": self.tokens_per_incident}
        if self.review_share is not None:
            out["review_share"] = self.review_share
        if self.disputed_share is not None:
            out["disputed_share"] = self.disputed_share
        if self.capacity_tpm:
            out["capacity_tpm"] = dict(self.capacity_tpm)
        if self.phase_shares:
            out["phase_shares"] = dict(self.phase_shares)
        return out

    def fragment_yaml(self) -> str:
        """The spec fragment ``budget fit`` writes: a comment header and a ``policy:`` block."""
        span = f"{_clock(self.first)} to {_clock(self.last)} UTC" if self.first and self.last else ""
        head = [
            f"# Workload fitted by budget fit from {one_line(self.source)} ({self.format}):",
            f"# {self.incidents:,} incidents, {self.used:,} requests used ({self.failed:,} failed and "
            f"{self.untagged:,} untagged left out), {span}.",
            f"# Tiers cheapest first ({self.order_source}): {', '.join(self.tiers)}; "
            f"work tiers {', '.join(self.work_tiers)}, top tier {self.top_tier}.",
            "# Use it from a spec with `include: <path of this file>`; the spec's own policy: entries win.",
        ]
        body = yaml.safe_dump({"policy": self.policy()}, sort_keys=False, default_flow_style=False)
        return "\n".join(head) + "\n" + body

    @property
    def used(self) -> int:
        return self.records - self.failed - self.untagged

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.source}: LiteLLM spend log ({self.format}), {self.records:,} records: {self.used:,} used, "
            f"{self.failed:,} failed requests left out, {self.untagged:,} without an incident tag left out"
            + (f", {self.without_phase:,} without a phase tag" if self.without_phase else ""),
            f"tiers cheapest first ({self.order_source}): {', '.join(self.tiers)}; "
            f"work tiers {', '.join(self.work_tiers)}; top tier {self.top_tier}",
            f"{self.incidents:,} incidents, {self.reviewed:,} reviewed by {self.top_tier}",
            f"{'':22}{'p10':>10}{'p50':>10}{'p90':>10}   fitted (tpm: over the minutes with traffic)",
        ]
        if self.tokens_spread:
            s = self.tokens_spread
            lines.append(
                f"{'tokens_per_incident':22}{s.p10:>10,.0f}{s.p50:>10,.0f}{s.p90:>10,.0f}   "
                f"{self.tokens_per_incident:,} (median)"
            )
        if self.review_spread and self.review_share is not None:
            s = self.review_spread
            lines.append(
                f"{'review_share':22}{s.p10:>10.3f}{s.p50:>10.3f}{s.p90:>10.3f}   {self.review_share:.4f} (median)"
            )
        if self.disputed_share is not None:
            lines.append(
                f"{'disputed_share':22}{'':30}   {self.disputed_share:.4f} "
                f"({self.reviewed:,} of {self.incidents:,} incidents)"
            )
        for tier, peak in self.capacity_tpm.items():
            s = self.tpm_spread[tier]
            lines.append(f"{'tpm ' + tier:22}{s.p10:>10,.0f}{s.p50:>10,.0f}{s.p90:>10,.0f}   {peak:,} (peak minute)")
        if self.phase_shares:
            lines.append("phase_shares " + ", ".join(f"{p} {v:.3f}" for p, v in self.phase_shares.items()))
        return lines


def _clock(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "-"


def parse_tier_map(items: Sequence[str] | None) -> dict[str, str]:
    """``["a=local-coder", "b=mid-coder,c=mid-coder"]`` -> ``{"a": "local-coder", ...}``."""
    out: dict[str, str] = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            group, sep, tier = part.partition("=")
            if not sep or not group.strip() or not tier.strip():
                raise UsageError(f"--tier-map {part.strip()!r}: must be MODEL_GROUP=TIER")
            if group.strip() in out and out[group.strip()] != tier.strip():
                raise UsageError(f"--tier-map maps {group.strip()!r} twice")
            out[group.strip()] = tier.strip()
    return out


def _observed_order(records: list[SpendRecord], tier_of: Mapping[str, str]) -> tuple[str, ...]:
    spend: dict[str, float] = defaultdict(float)
    tokens: dict[str, int] = defaultdict(int)
    for r in records:
        spend[tier_of[r.model_group]] += r.spend
        tokens[tier_of[r.model_group]] += r.tokens
    price = {t: (spend[t] / tokens[t] if tokens[t] else 0.0) for t in tokens}
    order = sorted(price, key=lambda t: (price[t], t))
    for a, b in zip(order, order[1:], strict=False):
        if abs(price[a] - price[b]) <= 1e-9 * max(price[a], price[b], 1e-12):
            raise BudgetError(
                f"cannot tell which of {a} and {b} is cheaper: the log shows the same price per token "
                f"({price[a] * 1e6:.4f} USD a million); give --tiers cheapest first or --budget-spec"
            )
    return tuple(order)


def _tier_order(
    tagged: list[SpendRecord], tier_map: Mapping[str, str], tiers: Sequence[str] | None, spec: BudgetSpec | None
) -> tuple[tuple[str, ...], str, dict[str, str]]:
    """Tiers cheapest first, where that order came from, and the tier of every model group seen."""
    given: tuple[str, ...] | None = None
    source = "observed price per token"
    if tiers:
        given, source = tuple(tiers), "--tiers"
        if len(set(given)) != len(given):
            raise UsageError("--tiers names a tier twice")
    elif spec is not None:
        given, source = spec.tiers, f"the tiers of {spec.source}"
    known = set(given or ()) | set(tier_map.values())
    tier_of: dict[str, str] = {}
    for r in tagged:
        tier = tier_map.get(r.model_group, r.model_group)
        if (given is not None or tier_map) and tier not in (given or known):
            hint = f"tiers: {', '.join(given or sorted(known))}; map it with --tier-map {r.model_group}=TIER"
            raise BudgetError(f"{r.label}: unknown tier {r.model_group!r} ({hint})")
        tier_of[r.model_group] = tier
    if given is not None:
        return given, source, tier_of
    return _observed_order(tagged, tier_of), source, tier_of


def _phase_order(tagged: list[SpendRecord], spec: BudgetSpec | None) -> list[str]:
    if spec is None:
        seen: dict[str, None] = {}
        for r in sorted(tagged, key=lambda r: r.start):
            if r.phase is not None:
                seen.setdefault(r.phase, None)
        return list(seen)
    phases = list(spec.phases)
    for r in tagged:
        if r.phase is not None and r.phase not in phases:
            raise BudgetError(f"{r.label}: phase {r.phase!r} is not a phase of {spec.source} ({', '.join(phases)})")
    return phases


def round_shares(shares: Mapping[str, float], decimals: int = SHARE_DECIMALS) -> dict[str, float]:
    """Shares rounded so that they still add up to exactly 1 (largest remainder)."""
    unit = 10**decimals
    total = sum(shares.values())
    raw = {k: v / total * unit for k, v in shares.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = unit - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(raw).index(k)))[:rest]:
        out[k] += 1
    return {k: v / unit for k, v in out.items()}


def fit_spend_log(
    log: SpendLog,
    tier_map: Mapping[str, str] | None = None,
    tiers: Sequence[str] | None = None,
    spec: BudgetSpec | None = None,
) -> Fit:
    """Fit the workload of ``log`` (see the module docstring for every statistic)."""
    tier_map = dict(tier_map or {})
    ok = [r for r in log.records if not r.failed]
    tagged = [r for r in ok if r.incident is not None]
    if not tagged:
        first = log.records[0]
        if any(r.incident is not None for r in log.records):
            raise BudgetError(f"{log.source}: every request with an incident tag failed: nothing to fit")
        raise BudgetError(
            f"{first.label}: no incident tag (metadata.spend_logs_metadata.incident_id, metadata.incident_id "
            f"or request tag incident:ID), and none of the {len(log.records):,} records has one: "
            "see docs/litellm-spend-logs.md for the tagging convention"
        )
    order, source, tier_of = _tier_order(tagged, tier_map, tiers, spec)
    if len(order) < 2:
        raise BudgetError(f"{log.source}: the log shows one tier ({order[0]}): a fit needs work tiers and a top tier")
    fit = Fit(source=log.source, format=log.format, tiers=order, order_source=source, records=len(log.records))
    fit.failed = len(log.records) - len(ok)
    fit.untagged = len(ok) - len(tagged)
    fit.without_phase = sum(1 for r in tagged if r.phase is None)
    fit.first = min(r.start for r in tagged)
    fit.last = max(r.start for r in tagged)
    _fit_incidents(fit, tagged, tier_of)
    _fit_capacity(fit, tagged, tier_of)
    _fit_phases(fit, tagged, tier_of, _phase_order(tagged, spec))
    try:  # the fragment is a valid policy block, or the log's figures are out of the model's range
        Policy.model_validate(fit.policy())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(k) for k in err["loc"])
        raise BudgetError(f"{log.source}: the fitted policy.{where} is out of range: {err['msg']}") from None
    return fit


def _fit_incidents(fit: Fit, tagged: list[SpendRecord], tier_of: Mapping[str, str]) -> None:
    work: dict[str, int] = defaultdict(int)
    review: dict[str, int] = defaultdict(int)
    incidents: dict[str, None] = {}
    for r in tagged:
        assert r.incident is not None
        incidents.setdefault(r.incident, None)
        if tier_of[r.model_group] == fit.top_tier:
            review[r.incident] += r.tokens
        else:
            work[r.incident] += r.tokens
    fit.incidents = len(incidents)
    sizes = [w for w in work.values() if w > 0]
    if not sizes:
        raise BudgetError(f"{fit.source}: no incident has work-tier tokens ({', '.join(fit.work_tiers)})")
    fit.tokens_per_incident = round(statistics.median(sizes))
    fit.tokens_spread = Spread.of(sizes)
    fit.reviewed = sum(1 for t in review.values() if t > 0) if review else 0
    fit.disputed_share = round(fit.reviewed / fit.incidents, SHARE_DECIMALS)
    ratios = [t / work[i] for i, t in review.items() if t > 0 and work.get(i, 0) > 0]
    if ratios:
        fit.review_spread = Spread.of(ratios)
        fit.review_share = round(min(1.0, statistics.median(ratios)), SHARE_DECIMALS)


def _fit_capacity(fit: Fit, tagged: list[SpendRecord], tier_of: Mapping[str, str]) -> None:
    per_minute: dict[str, dict[int, int]] = {t: defaultdict(int) for t in fit.tiers}
    for r in tagged:
        per_minute[tier_of[r.model_group]][int(r.start.timestamp() // 60)] += r.tokens
    for tier in fit.tiers:
        active = [float(t) for t in per_minute[tier].values() if t > 0]
        if active:
            fit.capacity_tpm[tier] = round(max(active))
            fit.tpm_spread[tier] = Spread.of(active)


def _fit_phases(fit: Fit, tagged: list[SpendRecord], tier_of: Mapping[str, str], phases: list[str]) -> None:
    tokens: dict[str, int] = dict.fromkeys(phases, 0)
    for r in tagged:
        if r.phase is not None and tier_of[r.model_group] != fit.top_tier:
            tokens[r.phase] += r.tokens
    if sum(tokens.values()) > 0:
        fit.phase_shares = round_shares({p: float(t) for p, t in tokens.items()})
