"""The budget spec (``budget_network.yaml``): daily budget, phases x tiers, reserve, policy.

Tiers are roles, any number of them, ordered by cost (cheapest first): the
order of the optional ``tiers:`` list, otherwise the order in which the first
phase names them. ``control_reserve`` is the insurance layer, not a phase.
Every constant of the simulation lives in the optional ``policy:`` block;
:class:`Policy` documents each default (see also ``docs/model.md``).

``include: fit.yaml`` (a path relative to the spec file) reads a policy
fragment, such as the one ``budget fit`` writes: a file holding only a
``policy:`` block. Its entries are the defaults; the spec's own ``policy:``
entries win, key by key (a whole mapping such as ``capacity_tpm`` is replaced,
not merged). A fragment may not include another file, so include chains and
loops are refused, as are missing files and fragments with other keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from budget.errors import BudgetError
from budget.files.limits import MAX_PHASES, MAX_QUEUE, MAX_TIERS, MAX_TOKENS_PER_INCIDENT
from budget.files.loader import Document, dotted, load_document, parse_text, short_repr
from budget.model.units import format_duration, parse_duration

RESERVE = "control_reserve"
SLA_KEY = "sla_p95"
SEVERITIES = ("P0", "P1", "P2", "P3")
DEFAULT_ALERT_THRESHOLD = 0.60
DEFAULT_SPLIT_TOLERANCE_PCT = 1.0
MAX_WEIGHT = 1000.0  # a risk weight or a severity-mix share
MAX_PRICE_PER_MILLION = 1_000_000.0


def _in_range(field: str, values: dict[str, float], hi: float, severities: bool = True) -> None:
    """Each value from 0 to ``hi``; with ``severities``, each key one of P0-P3."""
    for k, x in values.items():
        if severities and k not in SEVERITIES:
            raise ValueError(f"unknown severity {k!r} (use {', '.join(SEVERITIES)})")
        if not 0 <= x <= hi:
            raise ValueError(f"{field}.{k}: must be from 0 to {hi:g}")


class Policy(BaseModel):
    """Every constant of the budget keeper, with the default the chapter implies.

    Units are in the names: ``_sec``, ``_min``, ``_share`` (0..1), ``_tokens``.
    Values are strict: numbers are finite and never booleans, integers are
    integers (``3.0`` and ``"3"`` are refused), and each has a documented range.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    tokens_per_incident: int = Field(
        50_000,
        gt=0,
        le=MAX_TOKENS_PER_INCIDENT,
        description="Tokens one incident costs through the whole pipeline (chapter: ~50K).",
    )
    failover_allowance_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Share of the most expensive tier's daily quota that automatic failover may use.",
    )
    failover_severities: tuple[str, ...] = Field(("P0", "P1"), description="Severities eligible for ranked failover.")
    mid_failover_severities: tuple[str, ...] = Field(
        ("P0", "P1", "P2"),
        description="Severities a middle tier (neither cheapest nor most expensive) takes on failover.",
    )
    failover_min_age_sec: float = Field(90, ge=0, le=86400, description="A task must be older than this to fail over.")
    post_analysis_severities: tuple[str, ...] = Field(
        ("P0", "P1", "P2"),
        description="Severities whose decisions made by hand in the manual channel the most expensive tier "
        "re-verifies (post-analysis) when the PostToolUse audit runs.",
    )
    risk_weight: dict[str, float] = Field(
        default_factory=lambda: {"P0": 1.0, "P1": 1.0, "P2": 1.0, "P3": 1.0},
        description="Weight of a waiting task's rework in token_health, per severity.",
    )
    alert_threshold: float = Field(
        DEFAULT_ALERT_THRESHOLD,
        ge=0,
        le=1,
        description="The guard: below this token_health automatic failover is blocked.",
    )
    rework_per_min: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Share of an incident's tokens owed again per minute it waits on a down tier.",
    )
    rework_cap_share: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Most rework one waiting task can owe, as a share of its tokens: a task stale long enough "
        "is redone from scratch, not more.",
    )
    queue_limit: int = Field(25, gt=0, le=MAX_QUEUE, description="Open queue size above which the red button fires.")
    window_min: int = Field(5, gt=0, le=60, description="Length of a keeper window, minutes.")
    review_share: float = Field(
        0.10, ge=0, le=1, description="Frontier review cost of a disputed or P0 task, share of its tokens."
    )
    dispute_gap: float = Field(
        0.6, ge=0, le=1, description="Confidence gap at or above which a task is disputed (frontier review)."
    )
    phase_time_share: float = Field(
        0.5, gt=0, le=1, description="Typical phase time as a share of the phase's sla_p95."
    )
    manual_resolve_min: float = Field(
        10, gt=0, le=1440, description="Minutes a human needs to close a task in the manual channel."
    )
    drain_min: int = Field(60, ge=0, le=1440, description="Minutes simulated after the outage ends.")
    warmup_min: int = Field(15, ge=0, le=240, description="Minutes a recovered tier stays fragile.")
    warmup_capacity: int = Field(
        10, gt=0, le=MAX_QUEUE, description="Tasks a fragile tier can take in one minute; more makes it fail again."
    )
    relapse_min: int = Field(5, gt=0, le=240, description="Minutes a flooded tier stays down when it relapses.")
    stage_shares: tuple[float, float] = Field(
        (0.3, 0.6), description="Staged return: share of warmup_capacity in stage 1 and stage 2."
    )
    sla_resolve: dict[str, str] = Field(
        default_factory=lambda: {"P0": "15m", "P1": "30m", "P2": "2h", "P3": "8h"},
        description="Time to resolve per severity; past it the task breaches its SLA.",
    )
    token_price_per_million: dict[str, float] = Field(
        default_factory=dict,
        description="Price of a million tokens per tier; a tier not named costs 0.10 if it is the cheapest, "
        "3.00 if it is the most expensive, 0.60 otherwise.",
    )
    currency: str = Field(
        "USD",
        min_length=1,
        max_length=8,
        description="Currency of token_price_per_million; a label on every cost the workbench prints.",
    )
    severity_mix: dict[str, float] = Field(
        default_factory=lambda: {"P0": 0.10, "P1": 0.25, "P2": 0.35, "P3": 0.30},
        description="Severity shares of generated incidents.",
    )
    disputed_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of incidents that are disputed (get a frontier review) in streams that carry no "
        "confidence gap; None: disputed means confidence_gap >= dispute_gap.",
    )
    capacity_tpm: dict[str, int] = Field(
        default_factory=dict,
        description="Tokens per minute a tier can serve (a gateway's tpm limit); a tier not named gets the "
        "capacity derived from the plan (budget.model.capacity).",
    )
    capacity_peak_factor: float = Field(
        48.0,
        gt=0,
        le=1440,
        description="Derived capacity: a tier serves this many times its average minute of the day.",
    )
    phase_shares: dict[str, float] = Field(
        default_factory=dict,
        description="Share of an incident's tokens spent in each phase; empty: as the plan spreads its work "
        "tiers' quotas.",
    )

    @field_validator(
        "failover_severities", "mid_failover_severities", "post_analysis_severities", "stage_shares", mode="before"
    )
    @classmethod
    def _list_as_tuple(cls, v: Any) -> Any:
        return tuple(v) if isinstance(v, list) else v  # YAML and JSON give lists

    @field_validator("stage_shares")
    @classmethod
    def _stage_shares(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0 < x <= 1 for x in v):
            raise ValueError(f"each stage share must be above 0 and at most 1, got {list(v)}")
        return v

    @field_validator("token_price_per_million")
    @classmethod
    def _prices(cls, v: dict[str, float]) -> dict[str, float]:
        _in_range("token_price_per_million", v, MAX_PRICE_PER_MILLION, severities=False)
        return v

    @field_validator("risk_weight")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        _in_range("risk_weight", v, MAX_WEIGHT)
        return {s: float(v.get(s, 1.0)) for s in SEVERITIES}

    @field_validator("failover_severities", "mid_failover_severities", "post_analysis_severities")
    @classmethod
    def _known_severities(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            if s not in SEVERITIES:
                raise ValueError(f"unknown severity {s!r} (use {', '.join(SEVERITIES)})")
        return v

    @field_validator("sla_resolve")
    @classmethod
    def _sla(cls, v: dict[str, str]) -> dict[str, str]:
        for k, d in v.items():
            if k not in SEVERITIES:
                raise ValueError(f"unknown severity {k!r} (use {', '.join(SEVERITIES)})")
            if parse_duration(d, f"sla_resolve.{k}") <= 0:
                raise ValueError(f"sla_resolve.{k}: must be positive")
        missing = [s for s in SEVERITIES if s not in v]
        if missing:
            raise ValueError(f"missing severities {', '.join(missing)}")
        return v

    @field_validator("severity_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        _in_range("severity_mix", v, MAX_WEIGHT)
        if sum(v.values()) <= 0:
            raise ValueError("shares must add up to more than 0")
        return v

    def sla_seconds(self, severity: str) -> float:
        return parse_duration(self.sla_resolve[severity], f"policy.sla_resolve.{severity}")


class Phase(BaseModel):
    """One row of the spec: a quota per tier and the phase's sla_p95."""

    model_config = ConfigDict(frozen=True)

    quotas: dict[str, int]
    sla_p95: str | None = None

    @property
    def sla_seconds(self) -> float | None:
        return None if self.sla_p95 is None else parse_duration(self.sla_p95)


class Split(BaseModel):
    """A target split of the day between tiers, in percent, with a tolerance in points."""

    model_config = ConfigDict(frozen=True)

    target: dict[str, float]
    tolerance_pct: float = DEFAULT_SPLIT_TOLERANCE_PCT


class BudgetSpec(BaseModel):
    """A validated budget spec. Build it with :func:`load_spec` or :func:`spec_from_text`."""

    model_config = ConfigDict(frozen=True)

    daily_budget_tokens: int
    tiers: tuple[str, ...]
    phases: dict[str, Phase]
    reserve: dict[str, int]
    policy: Policy = Field(default_factory=Policy)
    policy_declared: bool = False
    split: Split | None = None
    source: str = "<spec>"

    @property
    def cheapest(self) -> str:
        return self.tiers[0]

    @property
    def most_expensive(self) -> str:
        return self.tiers[-1]

    def tier_total(self, tier: str) -> int:
        return sum(p.quotas.get(tier, 0) for p in self.phases.values()) + self.reserve.get(tier, 0)

    def quota_sum(self) -> int:
        return sum(self.tier_total(t) for t in self.tiers)


def _int_quota(doc: Document, loc: tuple[Any, ...], value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(loc, f"must be a non-negative integer number of tokens, got {value!r}")
    if value < 0:
        raise doc.error(loc, f"must be a non-negative integer, got {value}")
    return value


def _sla_text(doc: Document, loc: tuple[Any, ...], value: object) -> str | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value, dotted(loc))
    except BudgetError as exc:
        raise doc.error(loc, str(exc).split(": ", 1)[1]) from None
    if seconds <= 0:
        raise doc.error(loc, f"must be a positive duration, got {value!r}")
    if isinstance(value, str):
        return value.strip()
    return format_duration(seconds)


def parse_split(text: str, tiers: tuple[str, ...], tolerance_pct: float = DEFAULT_SPLIT_TOLERANCE_PCT) -> Split:
    """``90/10`` -> a target per tier in cost order.

    With more tiers than parts, two parts split the cheap tiers (as one group) from
    the most expensive one: ``80/20`` over local/mid/frontier is
    ``local-coder+mid-coder`` 80, ``frontier-reviewer`` 20.
    """
    parts = [p.strip() for p in str(text).split("/")]
    try:
        values = [float(p.rstrip("%")) for p in parts]
    except ValueError:
        raise BudgetError(f"split {short_repr(text)}: must be percentages like 90/10") from None
    if not all(math.isfinite(v) for v in values):
        raise BudgetError(f"split {short_repr(text)}: parts must be finite percentages like 90/10")
    if not math.isfinite(tolerance_pct) or not 0 <= tolerance_pct <= 100:
        raise BudgetError(f"split tolerance {tolerance_pct!r}: must be from 0 to 100 points")
    if len(values) == len(tiers):
        keys = list(tiers)
    elif len(values) == 2 and len(tiers) > 2:
        keys = ["+".join(tiers[:-1]), tiers[-1]]
    else:
        raise BudgetError(
            f"split {text!r}: has {len(values)} parts but the spec has {len(tiers)} tiers ({', '.join(tiers)})"
        )
    if any(v < 0 for v in values) or abs(sum(values) - 100) > 1e-6:
        raise BudgetError(f"split {text!r}: parts must be non-negative and add up to 100")
    return Split(target=dict(zip(keys, values, strict=True)), tolerance_pct=tolerance_pct)


def spec_from_document(doc: Document) -> BudgetSpec:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), f"must be a mapping with daily_budget_tokens and phases, got {type(data).__name__}")
    allowed = {"daily_budget_tokens", "phases", "tiers", "policy", "split", "totals", "include"}
    for key in data:
        if key not in allowed:
            raise doc.error((key,), f"unknown field (expected one of {', '.join(sorted(allowed))})")
    if "daily_budget_tokens" not in data:
        raise doc.error((), "missing field daily_budget_tokens")
    daily = data["daily_budget_tokens"]
    if isinstance(daily, bool) or not isinstance(daily, int) or daily <= 0:
        raise doc.error(("daily_budget_tokens",), f"must be a positive integer, got {daily!r}")
    phases_raw = data.get("phases")
    if not isinstance(phases_raw, dict) or not phases_raw:
        raise doc.error(("phases",), "must be a mapping of phase name to tier quotas")

    declared = data.get("tiers")
    tiers: list[str] = []
    if declared is not None:
        if not isinstance(declared, list) or not all(isinstance(t, str) and t for t in declared):
            raise doc.error(("tiers",), "must be a list of tier names, cheapest first")
        if len(set(declared)) != len(declared):
            raise doc.error(("tiers",), "names a tier twice")
        tiers = list(declared)

    phases: dict[str, Phase] = {}
    reserve: dict[str, int] = {}
    for name, row in phases_raw.items():
        loc = ("phases", name)
        if not isinstance(name, str):
            raise doc.error(loc, "phase names must be text")
        if not isinstance(row, dict):
            raise doc.error(loc, "must be a mapping of tier to quota (and sla_p95)")
        quotas: dict[str, int] = {}
        for key, value in row.items():
            kloc = (*loc, key)
            if key == SLA_KEY:
                continue
            if not isinstance(key, str):
                raise doc.error(kloc, "tier names must be text")
            if key not in tiers:
                if declared is not None or phases or reserve:
                    raise doc.error(kloc, f"unknown tier (tiers in this spec: {', '.join(tiers)})")
                tiers.append(key)
            quotas[key] = _int_quota(doc, kloc, value)
        if name == RESERVE:
            if row.get(SLA_KEY) is not None:
                raise doc.error((*loc, SLA_KEY), "control_reserve is not a phase and has no sla_p95")
            reserve = quotas
            continue
        if not quotas:
            raise doc.error(loc, "names no tier quota")
        sla = _sla_text(doc, (*loc, SLA_KEY), row.get(SLA_KEY))
        phases[name] = Phase(quotas=quotas, sla_p95=sla)
    if not phases:
        raise doc.error(("phases",), "has no phase besides control_reserve")
    if len(phases) > MAX_PHASES or len(tiers) > MAX_TIERS:
        raise doc.error(
            ("phases",), f"has {len(phases)} phases and {len(tiers)} tiers (limits: {MAX_PHASES} and {MAX_TIERS})"
        )
    if not tiers:
        raise doc.error(("phases",), "names no tier")

    policy, declared, doc_of = _policy(doc, data)
    _check_policy_names(doc_of, policy, tiers, [n for n in phases])

    split = None
    if data.get("split") is not None:
        split = _split_from(doc, data["split"], tuple(tiers))

    spec = BudgetSpec(
        daily_budget_tokens=daily,
        tiers=tuple(tiers),
        phases=phases,
        reserve=reserve,
        policy=policy,
        policy_declared=declared,
        split=split,
        source=doc.name,
    )
    total = spec.quota_sum()
    totals = data.get("totals")
    if totals is not None:
        expected = tier_totals(spec)
        if totals != expected:
            raise doc.error(("totals",), f"does not match the phases: expected {expected}, got {totals}")
    if total != daily:
        diff = total - daily
        raise doc.error(
            ("daily_budget_tokens",),
            f"quota sum {total:,} does not equal daily_budget_tokens {daily:,} "
            f"(difference {diff:+,}): every phases.<name>.<tier> quota, control_reserve included, "
            "must add up to the daily budget",
        )
    return spec


def _policy_block(doc: Document, data: dict[str, Any]) -> dict[str, Any]:
    block = data.get("policy")
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise doc.error(("policy",), "must be a mapping of constant to value")
    try:
        Policy.model_validate(block)
    except ValidationError as exc:
        raise doc.validation_error(exc, "policy") from None
    return block


def _fragment(doc: Document, raw: object) -> Document:
    """The policy fragment ``include:`` names, checked to hold only a ``policy:`` block."""
    loc = ("include",)
    if not isinstance(raw, str) or not raw.strip():
        raise doc.error(loc, f"must be the path of a policy fragment (relative to this spec), got {raw!r}")
    own = Path(doc.name)
    base = own.parent if own.is_file() else Path(".")
    path = base / raw.strip()
    if own.is_file() and path.exists() and path.resolve() == own.resolve():
        raise doc.error(loc, f"include loop: {raw.strip()} is this spec itself")
    if not path.exists():
        raise doc.error(loc, f"no such policy fragment {path} (the path is relative to the spec)")
    frag = load_document(path)
    if not isinstance(frag.data, dict):
        raise frag.error((), f"a policy fragment must be a mapping holding only policy: (included by {doc.name})")
    for key in frag.data:
        if key == "include":
            raise frag.error((key,), f"a policy fragment cannot include another file (include chain from {doc.name})")
        if key != "policy":
            raise frag.error((key,), f"a policy fragment holds only policy:, not {key} (included by {doc.name})")
    if not isinstance(frag.data.get("policy"), dict):
        raise frag.error(("policy",), "must be a mapping of constant to value")
    return frag


def _policy(doc: Document, data: dict[str, Any]) -> tuple[Policy, bool, Callable[[str], Document]]:
    """The spec's policy: its own ``policy:`` entries over the included fragment's.

    Returns the policy, whether anything declared one, and which document each
    entry came from (for error messages that name the right file).
    """
    own = _policy_block(doc, data)
    frag = _fragment(doc, data["include"]) if data.get("include") is not None else None
    inherited = _policy_block(frag, frag.data) if frag is not None else {}

    def doc_of(key: str) -> Document:
        return frag if frag is not None and key in inherited and key not in own else doc

    merged = {**inherited, **own}
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]["loc"]
        raise doc_of(str(first[0]) if first else "").validation_error(exc, "policy") from None
    return policy, data.get("policy") is not None or frag is not None, doc_of


def _check_policy_names(doc_of: Callable[[str], Document], policy: Policy, tiers: list[str], phases: list[str]) -> None:
    """Policy entries keyed by tier or phase must name the spec's own tiers and phases."""
    doc = doc_of("capacity_tpm")
    for tier, tpm in policy.capacity_tpm.items():
        if tier not in tiers:
            raise doc.error(("policy", "capacity_tpm", tier), f"unknown tier (tiers in this spec: {', '.join(tiers)})")
        if tpm <= 0:
            raise doc.error(
                ("policy", "capacity_tpm", tier), f"must be a positive number of tokens a minute, got {tpm}"
            )
    doc = doc_of("phase_shares")
    if policy.phase_shares:
        for name, share in policy.phase_shares.items():
            if name not in phases:
                raise doc.error(
                    ("policy", "phase_shares", name), f"unknown phase (phases in this spec: {', '.join(phases)})"
                )
            if not 0 <= share <= 1:
                raise doc.error(("policy", "phase_shares", name), f"must be a share from 0 to 1, got {share}")
        total = sum(policy.phase_shares.values())
        if abs(total - 1) > 0.01:
            raise doc.error(("policy", "phase_shares"), f"shares add up to {total:.3f}, not 1")


def _split_from(doc: Document, raw: object, tiers: tuple[str, ...]) -> Split:
    loc: tuple[Any, ...] = ("split",)
    if isinstance(raw, str):
        try:
            return parse_split(raw, tiers)
        except BudgetError as exc:
            raise doc.error(loc, str(exc)) from None
    if not isinstance(raw, dict):
        raise doc.error(loc, "must be like '90/10' or a mapping of tier to percent (plus tolerance_pct)")
    tol = raw.get("tolerance_pct", DEFAULT_SPLIT_TOLERANCE_PCT)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol <= 100:
        raise doc.error((*loc, "tolerance_pct"), f"must be a number of points from 0 to 100, got {tol!r}")
    target: dict[str, float] = {}
    for k, v in raw.items():
        if k == "tolerance_pct":
            continue
        if any(part not in tiers for part in str(k).split("+")):
            raise doc.error((*loc, k), f"unknown tier (tiers in this spec: {', '.join(tiers)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
            raise doc.error((*loc, k), f"must be a percentage from 0 to 100, got {v!r}")
        target[k] = float(v)
    if abs(sum(target.values()) - 100) > 1e-6:
        raise doc.error(loc, f"percentages add up to {sum(target.values()):g}, not 100")
    return Split(target=target, tolerance_pct=float(tol))


def load_spec(path: str | Path) -> BudgetSpec:
    """Load and validate a spec file; raises :class:`BudgetError` with file, line and field."""
    return spec_from_document(load_document(path))


def spec_from_text(text: str, name: str = "<spec>") -> BudgetSpec:
    """Validate spec text (an upload or the editor's content)."""
    return spec_from_document(parse_text(text, name))


def short_tier_name(tier: str, tiers: tuple[str, ...]) -> str:
    """``local-coder`` -> ``local``: the key the plan's ``totals`` uses (full name on a clash)."""
    short = tier.split("-", 1)[0]
    clash = sum(1 for t in tiers if t.split("-", 1)[0] == short) > 1
    return tier if clash else short


def tier_totals(spec: BudgetSpec) -> dict[str, int]:
    return {short_tier_name(t, spec.tiers): spec.tier_total(t) for t in spec.tiers}


def scale_spec(spec: BudgetSpec, factor: float) -> BudgetSpec:
    """The same spec with every quota scaled by ``factor`` (rounded, sum kept exact)."""
    if factor <= 0:
        raise BudgetError(f"scale factor must be positive, got {factor}")
    phases = {
        n: Phase(quotas={t: int(q * factor) for t, q in p.quotas.items()}, sla_p95=p.sla_p95)
        for n, p in spec.phases.items()
    }
    reserve = {t: int(q * factor) for t, q in spec.reserve.items()}
    total = sum(sum(p.quotas.values()) for p in phases.values()) + sum(reserve.values())
    return spec.model_copy(update={"phases": phases, "reserve": reserve, "daily_budget_tokens": total})
