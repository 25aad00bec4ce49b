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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from budget.errors import BudgetError
from budget.files import Document, load_document, parse_text, short_repr
from budget.model.phases import Phase, declared_tiers, read_phases
from budget.model.policy import Policy

DEFAULT_SPLIT_TOLERANCE_PCT = 1.0


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
    included: str | None = None  # the policy fragment ``include:`` read: an input too, never an output

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


def split_parts(text: str) -> list[float]:
    """``90/10`` -> [90.0, 10.0]: finite, non-negative percentages adding up to 100 (no spec needed)."""
    parts = [p.strip() for p in str(text).split("/")]
    try:
        values = [float(p.rstrip("%")) for p in parts]
    except ValueError:
        raise BudgetError(f"split {short_repr(text)}: must be percentages like 90/10") from None
    if not all(math.isfinite(v) for v in values):
        raise BudgetError(f"split {short_repr(text)}: parts must be finite percentages like 90/10")
    if any(v < 0 for v in values) or abs(sum(values) - 100) > 1e-6:
        raise BudgetError(f"split {short_repr(text)}: parts must be non-negative and add up to 100")
    return values


def parse_split(text: str, tiers: tuple[str, ...], tolerance_pct: float = DEFAULT_SPLIT_TOLERANCE_PCT) -> Split:
    """``90/10`` -> a target per tier in cost order.

    With more tiers than parts, two parts split the cheap tiers (as one group) from
    the most expensive one: ``80/20`` over local/mid/frontier is
    ``local-coder+mid-coder`` 80, ``frontier-reviewer`` 20.
    """
    values = split_parts(text)
    if not math.isfinite(tolerance_pct) or not 0 <= tolerance_pct <= 100:
        raise BudgetError(f"split tolerance {tolerance_pct!r}: must be from 0 to 100 points")
    if len(values) == len(tiers):
        keys = list(tiers)
    elif len(values) == 2 and len(tiers) > 2:
        keys = ["+".join(tiers[:-1]), tiers[-1]]
    else:
        raise BudgetError(
            f"split {short_repr(text)}: has {len(values)} parts but the spec has {len(tiers)} tiers "
            f"({', '.join(tiers)})"
        )
    return Split(target=dict(zip(keys, values, strict=True)), tolerance_pct=tolerance_pct)


def _check_sums(doc: Document, spec: BudgetSpec, totals: object) -> None:
    """``totals:`` (when given) and the daily budget must match the phases' quotas."""
    if totals is not None:
        expected = tier_totals(spec)
        if totals != expected:
            raise doc.error(("totals",), f"does not match the phases: expected {expected}, got {totals}")
    total, daily = spec.quota_sum(), spec.daily_budget_tokens
    if total != daily:
        diff = total - daily
        raise doc.error(
            ("daily_budget_tokens",),
            f"quota sum {total:,} does not equal daily_budget_tokens {daily:,} "
            f"(difference {diff:+,}): every phases.<name>.<tier> quota, control_reserve included, "
            "must add up to the daily budget",
        )


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

    tiers = declared_tiers(doc, data.get("tiers"))
    phases, reserve = read_phases(doc, phases_raw, tiers, data.get("tiers") is not None)
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
        included=str(_fragment_path(doc, data["include"])) if data.get("include") is not None else None,
    )
    _check_sums(doc, spec, data.get("totals"))
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


def _fragment_path(doc: Document, raw: str) -> Path:
    """Where ``include:`` points: relative to the spec's own file (to the working folder for a text)."""
    own = Path(doc.name)
    return (own.parent if own.is_file() else Path(".")) / raw.strip()


def _fragment(doc: Document, raw: object) -> Document:
    """The policy fragment ``include:`` names, checked to hold only a ``policy:`` block."""
    loc = ("include",)
    if not isinstance(raw, str) or not raw.strip():
        raise doc.error(loc, f"must be the path of a policy fragment (relative to this spec), got {raw!r}")
    own = Path(doc.name)
    path = _fragment_path(doc, raw)
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
