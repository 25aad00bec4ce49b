"""The ``policy:`` block of a spec: every constant of the simulation, each with its default and its bounds.

The defaults are the chapter's (``docs/model.md`` gives each formula and why); a spec overrides any of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from budget.files import (
    MAX_QUEUE,
    MAX_TOKENS_PER_INCIDENT,
)
from budget.model.units import parse_duration

SEVERITIES = ("P0", "P1", "P2", "P3")
DEFAULT_ALERT_THRESHOLD = 0.60
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
