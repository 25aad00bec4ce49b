"""The plans the bench scripts drill (no heavy imports: a child process measuring memory loads this too)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from budget.model import BudgetSpec, load_spec, scale_spec  # noqa: E402


def scaled_plan(flow: int = 100_000) -> BudgetSpec:
    """The 85/15 payment plan (800 alerts a day) scaled to ``flow``: every quota, the reserve and the frontier's
    per-minute capacity times ``flow / 800``."""
    factor = flow / 800
    base = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
    spec = scale_spec(base, factor)
    capacity = {t: round(c * factor) for t, c in base.policy.capacity_tpm.items()}
    return spec.model_copy(update={"policy": spec.policy.model_copy(update={"capacity_tpm": capacity})})
