"""The red button (emergency mode): its four formal conditions, evaluated every tick.

(1) token_health risk grew in two consecutive windows (it fell by more than
``HEALTH_STEP``, half a point, at the end of each); (2) the open queue is
above ``queue_limit``; (3) an open P0/P1 is past its SLA; (4) a tier's endpoint
is down. It ends at a window boundary with no condition left.
"""

from __future__ import annotations

from budget.keeper.state import HEALTH_STEP, Keeper
from budget.keeper.task import clock


def conditions(k: Keeper) -> tuple[str, ...]:
    """The conditions that hold after this tick's work, as ``health.scan`` left the open queue and the first
    SLA breach."""
    conds = []
    w = k.window_health
    if len(w) >= 3 and w[-1] < w[-2] - HEALTH_STEP and w[-2] < w[-3] - HEALTH_STEP:
        conds.append("token_health risk grew in two consecutive windows")
    oq = k.snap_open
    if oq > k.p.queue_limit:
        conds.append(f"queue {oq} above limit {k.p.queue_limit}")
    if k.snap_breach is not None:  # the first open P0/P1 past its SLA, found by this tick's scan
        conds.append(k.snap_breach)
    for tier in k.tiers:
        if tier in k.down:
            conds.append(f"{tier} endpoint down")
    return tuple(conds)


def red_button(k: Keeper, now: int, tick: int) -> None:
    new = conditions(k)
    if not new and not k.red_active:
        return  # nothing holds and the button is off (most minutes): nothing changes
    if new and not k.red_active:
        k.red_active = True
        k.red_activated = True
        k.red_events.append({"time": clock(now), "active": True, "conditions": list(new)})
    elif not new and k.red_active and tick % k.p.window_min == 0:
        k.red_active = False
        k.red_events.append({"time": clock(now), "active": False, "conditions": []})
    elif new and _kinds(new) != _kinds(k.red_conditions):
        k.red_events.append({"time": clock(now), "active": True, "conditions": list(new)})
    if new or k.red_active:
        k.red_conditions = new
    if k.red_active:
        k.red_minutes += 1


def _kinds(conds: tuple[str, ...]) -> tuple[str, ...]:
    """The conditions without their particulars (which P0 breached its SLA): a change of kind is an event."""
    return tuple(c.split(" (")[0] for c in conds)
