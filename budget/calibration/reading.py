"""Reading a sweep's rows: why a variant that passes the gateway can still fail an outage.

The gateway fails a plan only through a check that applies (its ``if`` holds);
a check that never applied passes whatever the floor. A token_health_min below
0.50 is a plan that fails the outage (capstone/README.md), whatever the gateway
says; the recommendation looks at the floor only through the targets (default
>= 0.70 at 15 minutes, >= 0.50 at 30), so a variant below 0.50 at an outage the
targets do not test can still meet them. These texts say so, row by row and for
the whole sweep, from the rows themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from budget.calibration.sweep import SweepRow
from budget.gateway import Check
from budget.keeper import health_text

FAIL_FLOOR = 0.50  # below it the plan fails the outage (capstone/README.md), never a warning zone


def _low(row: SweepRow) -> list[int]:
    return sorted(m for m, f in row.floors.items() if f < FAIL_FLOOR)


def _targets(targets: dict[int, float]) -> str:
    return ", ".join(f"{m}m >= {t:.2f}" for m, t in sorted(targets.items()))


def _if_text(check: Check) -> str:
    return f" {check.mode.replace('all', 'and').replace('any', 'or')} ".join(check.conditions)


def gateway_clause(row: SweepRow, targets: dict[int, float], recommended: SweepRow | None) -> str:
    """Why this row reads "gateway pass" beside a floor below 0.50, in one clause; "" when it does not."""
    low = _low(row)
    if not low or row.gateway_failed:
        return ""
    where = ", ".join(f"{m}m {health_text(row.floors[m])}" for m in low)
    idle = f" ({', '.join(row.gateway_idle)} never applied)" if row.gateway_idle else ""
    fails = "that outage" if len(low) == 1 else "those outages"
    head = f"gateway pass{idle}, but below {FAIL_FLOOR:.2f} at {where}: the plan fails {fails}"
    if not row.meets:
        return f"{head}; misses the targets: not recommended"
    if recommended is not None and row.index == recommended.index:
        return f"{head}; recommended all the same: the targets ({_targets(targets)}) let it through"
    return f"{head}; the targets ({_targets(targets)}) let it through"


def gateway_note(
    rows: Sequence[SweepRow],
    targets: dict[int, float],
    checks: Sequence[Check] | None,
    recommended: SweepRow | None = None,
) -> str | None:
    """One note for the sweep's table: how many variants pass the gateway below 0.50, and what follows for the
    recommendation; None when none does (or no gateway ran)."""
    if not checks:
        return None
    low = [r for r in rows if _low(r) and not r.gateway_failed]
    if not low:
        return None
    missed = sum(1 for r in low if not r.meets)
    idle_ids = sorted({c for r in low for c in r.gateway_idle}, key=[c.id for c in checks].index)
    by_id = {c.id: c for c in checks}
    n = len(low)
    text = (  # two short sentences: what these variants are, then why the gateway let them pass
        f"{n} variant{'s pass' if n > 1 else ' passes'} the gateway yet "
        f"{'fall' if n > 1 else 'falls'} below {FAIL_FLOOR:.2f} at an outage, and a plan below {FAIL_FLOOR:.2f} "
        "fails that outage. "
        + (
            f"The gateway let {'them' if n > 1 else 'it'} pass because "
            + " and ".join(f"{c} applies only when {_if_text(by_id[c])}" for c in idle_ids)
            + ", and a check that does not apply cannot fail a plan."
            if idle_ids
            else f"{'Their' if n > 1 else 'Its'} gateway checks all applied, and none failed."
        )
    )
    if missed:
        text += (
            " That variant misses the targets and is not recommended."
            if n == 1
            else f" {missed} of them {'miss' if missed > 1 else 'misses'} the targets and "
            f"{'are' if missed > 1 else 'is'} not recommended."
        )
    if missed < n:
        outages = sorted({m for r in low if r.meets for m in _low(r)})
        met = n - missed
        who = "That variant meets" if n == 1 else f"{met} {'meet' if met > 1 else 'meets'}"
        text += (
            f" {who} the targets: below {FAIL_FLOOR:.2f} only at "
            f"{', '.join(f'{m}m' for m in outages)}, which the floor targets ({_targets(targets)}) let through"
        )
        if recommended is not None and any(r.index == recommended.index for r in low):
            text += "; the recommended variant is among them"
        text += "."
    return text
