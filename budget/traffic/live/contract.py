"""The request contract: what a caller puts in an OpenAI chat-completion request to the proxy.

``model`` is the tier the plan gives the request's phase (the top tier for ``purpose: review``), and
``metadata`` carries ``incident_id``, ``severity`` (``P0``-``P3`` or a severity word the drill reads:
``critical``, ``page``, ``warning``, ``ticket``, ...), ``phase`` (a phase of the plan), optional
``blast_radius`` (1-5, default 1) and optional ``purpose: review``. Anything else is refused with a
one-line reason naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from budget.drill import DEFAULT_SEVERITY_MAP
from budget.errors import BudgetError
from budget.keeper.intake import severity_key
from budget.model import BudgetSpec

MAX_ID = 200
REVIEW = "review"


@dataclass(frozen=True)
class Request:
    incident: str
    severity: str
    phase: str
    blast_radius: float
    review: bool
    model: str


def phase_tier(spec: BudgetSpec, work_tier: list[str], phase: str) -> str:
    return work_tier[list(spec.phases).index(phase)]


def parse_request(spec: BudgetSpec, work_tier: list[str], model: Any, metadata: Any) -> Request:
    """The request's fields checked against the plan; raises :class:`BudgetError` naming the field."""
    if not isinstance(metadata, dict) or not metadata.get("incident_id"):
        raise BudgetError("metadata.incident_id: missing (the keeper routes incidents, not anonymous calls)")
    incident = metadata["incident_id"]
    if not isinstance(incident, str) or len(incident) > MAX_ID:
        raise BudgetError(f"metadata.incident_id: must be text of at most {MAX_ID} characters")
    raw = metadata.get("severity")
    severity = raw if raw in ("P0", "P1", "P2", "P3") else DEFAULT_SEVERITY_MAP.get(severity_key(raw or ""))
    if severity is None:
        raise BudgetError(f"metadata.severity: unknown severity {str(raw)[:40]!r} (P0-P3 or a severity word)")
    phase = metadata.get("phase")
    if phase not in spec.phases:
        raise BudgetError(f"metadata.phase: unknown phase {str(phase)[:40]!r} (the plan's: {', '.join(spec.phases)})")
    blast = metadata.get("blast_radius", 1)
    number = isinstance(blast, (int, float)) and not isinstance(blast, bool) and math.isfinite(blast)
    if not number or not 1 <= blast <= 5:
        raise BudgetError(f"metadata.blast_radius: must be a number from 1 to 5, got {str(blast)[:40]!r}")
    purpose = metadata.get("purpose")
    if purpose not in (None, REVIEW):
        raise BudgetError(f"metadata.purpose: must be 'review' or absent, got {str(purpose)[:40]!r}")
    review = purpose == REVIEW
    expected = spec.most_expensive if review else phase_tier(spec, work_tier, str(phase))
    if model != expected:
        what = "a review" if review else f"phase {phase}"
        raise BudgetError(f"model: {str(model)[:60]!r} is not the tier the plan gives {what} ({expected})")
    return Request(incident, str(severity), str(phase), float(blast), review, str(model))
