"""Outage scenarios: the textbook's JSON as it is, explicit incidents, and the generator.

A scenario names the tier that goes down, when, for how long, the queue of
incidents and the manual timeout. With only ``queue: N`` the generator makes
N incidents (:func:`generate_incidents`); ``incidents: [...]`` gives them
explicitly. The chapter's production form ``"11:00,local-coder,down,45m"``
is read by :func:`parse_failure`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from budget.errors import BudgetError, UsageError
from budget.files import MAX_DURATION_MIN, MAX_QUEUE, ROUTING_POLICIES, Document, load_document, parse_text, short_repr
from budget.model.policy import SEVERITIES, Policy
from budget.model.spec import BudgetSpec
from budget.model.units import parse_clock, parse_duration

DEFAULT_ROUTING = "ranked"
RECOVERY_MODES = ("instant", "immediate", "staged")
DEFAULT_START = "11:00"
DEFAULT_MANUAL_TIMEOUT_SEC = 120
MAX_ARRIVAL_SEC = 86400  # an incident's arrival: at most a day after the scenario's start
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident: severity P0-P3, blast radius (services touched), arrival, confidence gap.

    A plain frozen dataclass: a day of 100,000 alerts is built without per-record
    validation cost. Input is validated by :class:`IncidentIn` (files) or the importers.
    """

    id: str
    severity: str
    arrival_sec: int
    blast_radius: float = 1
    confidence_gap: float = 0.0
    service: str | None = None


class IncidentIn(BaseModel):
    """An incident as a scenario file gives it; validated, then turned into an :class:`Incident`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    id: str = Field(min_length=1, max_length=200)
    severity: Literal["P0", "P1", "P2", "P3"]
    blast_radius: float = Field(1, ge=0, le=1000)
    arrival_sec: int = Field(ge=0, le=2 * 86400, description="Seconds after 00:00 of the scenario's day.")
    confidence_gap: float = Field(0.0, ge=0, le=1)
    service: str | None = Field(None, max_length=200)

    def to_incident(self) -> Incident:
        return Incident(self.id, self.severity, self.arrival_sec, self.blast_radius, self.confidence_gap, self.service)


class Scenario(BaseModel):
    """A validated scenario. ``incidents`` is always filled (generated when only ``queue`` was given)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    down_tier: str | None = None
    start: str = DEFAULT_START
    duration_min: int | None = None
    queue: int = 0
    manual_timeout_sec: float = DEFAULT_MANUAL_TIMEOUT_SEC
    seed: int = 0
    routing: str = DEFAULT_ROUTING
    recovery: Literal["instant", "immediate", "staged"] = "instant"
    horizon: Literal["scenario", "day"] = "scenario"
    incidents: tuple[Incident, ...] = ()
    generated: bool = False
    source: str = "<scenario>"

    @property
    def start_min(self) -> int:
        return parse_clock(self.start)

    @property
    def has_outage(self) -> bool:
        return self.down_tier is not None and bool(self.duration_min)


class _RawScenario(BaseModel):
    """The file's own fields, checked before incidents are made (strict: no booleans or text as numbers)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    down_tier: str | None = None
    start: str = DEFAULT_START
    duration_min: int | None = None
    queue: int | None = None
    manual_timeout_sec: float = Field(DEFAULT_MANUAL_TIMEOUT_SEC, gt=0, le=86400)
    seed: int = 0
    policy: str = DEFAULT_ROUTING
    recovery: Literal["instant", "immediate", "staged"] = "instant"
    horizon: Literal["scenario", "day"] = "scenario"
    incidents: list[Any] | None = Field(None, max_length=MAX_QUEUE)

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: int) -> int:
        if abs(v) >= 10**18:
            raise ValueError("must have at most 18 digits")
        return v

    @field_validator("start")
    @classmethod
    def _clock(cls, v: str) -> str:
        try:
            parse_clock(v, "start")
        except BudgetError as exc:  # the error names the field already: "start: start: ..." otherwise
            raise ValueError(str(exc).removeprefix("start: ")) from None
        return v

    @field_validator("duration_min")
    @classmethod
    def _duration(cls, v: int | None) -> int | None:
        if v is not None and not 1 <= v <= MAX_DURATION_MIN:
            raise ValueError(f"must be between 1 and {MAX_DURATION_MIN} minutes (one day), got {v}")
        return v

    @field_validator("queue")
    @classmethod
    def _queue(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= MAX_QUEUE:
            raise ValueError(f"must be between 0 and {MAX_QUEUE:,}, got {v}")
        return v

    @field_validator("policy")
    @classmethod
    def _routing(cls, v: str) -> str:
        if v not in ROUTING_POLICIES:
            raise ValueError(f"unknown routing policy {v!r} (use {', '.join(ROUTING_POLICIES)})")
        return v

    @model_validator(mode="after")
    def _outage_complete(self) -> _RawScenario:
        if self.down_tier is not None and self.duration_min is None:
            raise ValueError("down_tier is set but duration_min is missing")
        if self.queue is None and self.incidents is None:
            raise ValueError("needs queue (a number of incidents) or an incidents list")
        return self


def _weyl_severity(u: float, mix: dict[str, float]) -> str:
    total = sum(mix.values())
    acc = 0.0
    for sev in SEVERITIES:
        acc += mix.get(sev, 0.0) / total
        if u < acc:
            return sev
    return SEVERITIES[-1]


def generate_incidents(n: int, start_sec: int, seed: int, policy: Policy, gap_sec: int = 0) -> tuple[Incident, ...]:
    """N incidents that fall into the queue at ``start_sec`` (documented in docs/model.md).

    Incident ``i`` depends only on ``(seed, i)``, so a longer queue keeps the
    shorter queue's incidents. Severity follows the policy's severity_mix over
    a golden-ratio (Weyl) sequence, so any N gets the mix as evenly as whole
    incidents allow (20 -> 2 P0, 5 P1, 7 P2, 6 P3). Blast radius 1-5 and
    confidence gap 0.00-0.99 come from ``random.Random(f"{seed}:{i}")``.
    """
    offset = random.Random(seed).random() if seed else 0.0
    out = []
    for i in range(n):
        u = (offset + (i + 1) * _GOLDEN) % 1.0
        rng = random.Random(f"{seed}:{i}")
        out.append(
            Incident(
                id=f"inc-{i + 1:03d}",
                severity=_weyl_severity(u, policy.severity_mix),
                blast_radius=rng.randint(1, 5),
                arrival_sec=start_sec + i * gap_sec,
                confidence_gap=round(rng.random() * 0.99, 2),
            )
        )
    return tuple(out)


def day_incidents(n: int, seed: int, policy: Policy) -> tuple[Incident, ...]:
    """N incidents spread evenly over a day (00:00-24:00), same severity mix as the queue generator."""
    base = generate_incidents(n, 0, seed, policy)
    step = 86400 / max(1, n)
    return tuple(replace(inc, arrival_sec=int(i * step)) for i, inc in enumerate(base))


def day_scenario(n: int, spec: BudgetSpec | None = None, seed: int = 0, **outage: Any) -> Scenario:
    """A whole day of ``n`` incidents with an optional outage (``down_tier``, ``start``, ``duration_min``)."""
    policy = spec.policy if spec is not None else Policy()
    base = scenario_from_dict({"queue": 0, "horizon": "day", "seed": seed, **outage}, spec, name=f"day-{n}")
    incidents = day_incidents(n, seed, policy)
    return base.model_copy(update={"incidents": incidents, "queue": n, "generated": True})


def _arrival(value: object, start_sec: int, field: str) -> int:
    if isinstance(value, bool):
        raise BudgetError(f"{field}: must be HH:MM[:SS] or seconds after start, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not 0 <= value <= MAX_ARRIVAL_SEC:
            raise BudgetError(f"{field}: must be from 0 to {MAX_ARRIVAL_SEC} seconds after start, got {value!r}")
        return start_sec + int(value)
    if isinstance(value, str):
        parts = value.strip().split(":")
        if len(parts) == 3:
            base = parse_clock(":".join(parts[:2]), field)
            if parts[2].isdigit() and int(parts[2]) < 60:
                return base * 60 + int(parts[2])
        elif len(parts) == 2:
            return parse_clock(value, field) * 60
    raise BudgetError(f"{field}: must be HH:MM[:SS] or seconds after start, got {short_repr(value)}")


def scenario_from_document(doc: Document, spec: BudgetSpec | None = None) -> Scenario:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(
            (), f"must be a JSON object with down_tier, start, duration_min, queue, got {type(data).__name__}"
        )
    try:
        raw = _RawScenario.model_validate(data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None
    policy = spec.policy if spec is not None else Policy()
    if spec is not None and raw.down_tier is not None and raw.down_tier not in spec.tiers:
        raise doc.error(("down_tier",), f"unknown tier {raw.down_tier!r} (the plan's tiers: {', '.join(spec.tiers)})")
    start_sec = parse_clock(raw.start) * 60
    incidents: tuple[Incident, ...]
    generated = raw.incidents is None
    if raw.incidents is None:
        incidents = generate_incidents(raw.queue or 0, start_sec, raw.seed, policy)
    else:
        items = []
        seen: set[str] = set()
        for i, item in enumerate(raw.incidents):
            loc = ("incidents", i)
            if not isinstance(item, dict):
                raise doc.error(loc, "must be an object with id, severity, blast_radius, arrival")
            fields = dict(item)
            try:
                arrival = _arrival(fields.pop("arrival", 0), start_sec, "arrival")
            except BudgetError as exc:
                raise doc.error((*loc, "arrival"), str(exc).split(": ", 1)[1]) from None
            fields.setdefault("id", f"inc-{i + 1:03d}")
            if isinstance(fields["id"], int) and not isinstance(fields["id"], bool):
                fields["id"] = str(fields["id"])
            try:
                inc = IncidentIn.model_validate({**fields, "arrival_sec": arrival}).to_incident()
            except ValidationError as exc:
                raise doc.validation_error(exc, *loc) from None
            if inc.id in seen:
                raise doc.error((*loc, "id"), f"duplicate incident id {inc.id!r}")
            seen.add(inc.id)
            items.append(inc)
        incidents = tuple(sorted(items, key=lambda x: (x.arrival_sec, x.id)))
        if raw.queue is not None and raw.queue != len(incidents):
            raise doc.error(("queue",), f"is {raw.queue} but the incidents list has {len(incidents)}")
    return Scenario(
        down_tier=raw.down_tier,
        start=raw.start,
        duration_min=raw.duration_min if raw.down_tier is not None else None,
        queue=len(incidents),
        manual_timeout_sec=raw.manual_timeout_sec,
        seed=raw.seed,
        routing=raw.policy,
        recovery=raw.recovery,
        horizon=raw.horizon,
        incidents=incidents,
        generated=generated,
        source=doc.name,
    )


def load_scenario(path: str | Path, spec: BudgetSpec | None = None) -> Scenario:
    return scenario_from_document(load_document(path), spec)


def scenario_from_text(text: str, name: str = "<scenario>", spec: BudgetSpec | None = None) -> Scenario:
    return scenario_from_document(parse_text(text, name), spec)


def scenario_from_dict(data: dict[str, Any], spec: BudgetSpec | None = None, name: str = "<form>") -> Scenario:
    return scenario_from_document(Document(name=name, data=data), spec)


def parse_failure(text: str, tiers: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``"11:00,local-coder,down,45m"`` -> scenario fields (start, down_tier, duration_min).

    The flag's value is checked whole (its form, the time, whole minutes up to a day and, given the
    plan's ``tiers``, the tier): whatever is wrong is a usage error of ``--failure`` (exit 2).
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4 or parts[2] != "down":
        raise UsageError(f'--failure {short_repr(text)}: must look like "11:00,local-coder,down,45m"')
    start, tier, _, duration = parts
    try:
        parse_clock(start, "--failure start")
        seconds = parse_duration(duration, "--failure duration")
    except BudgetError as exc:
        raise UsageError(str(exc)) from None
    if seconds <= 0 or seconds % 60 or seconds > MAX_DURATION_MIN * 60:
        raise UsageError(
            f"--failure {short_repr(text)}: the duration must be whole minutes from 1 to {MAX_DURATION_MIN} like 45m"
        )
    if tiers is not None and tier not in tiers:
        raise UsageError(f"--failure {short_repr(text)}: unknown tier {tier!r} (the plan's tiers: {', '.join(tiers)})")
    return {"start": start, "down_tier": tier, "duration_min": int(seconds // 60)}
