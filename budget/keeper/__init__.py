"""The budget keeper: a minute-by-minute simulation of tiered routing under a daily budget.

Every tick (one minute) the keeper

1. brings tiers down or back up as the scenario says (on recovery, waiting
   work resumes and the manual channel's decisions are audited) — ``recovery``;
2. admits the incidents that have arrived — ``routing.admit``;
3. moves tasks that waited ``manual_timeout_sec`` in the degraded queue to
   the manual channel;
4. routes every task whose tier is down: ranked failover (P0/P1 older than
   90 s, by blast radius then age, within the failover allowance and only
   while token_health is at or above the guard), else the degraded queue — ``routing``;
5. runs one minute of work on every running task, phase by phase, charging
   ``spent[p][tier]`` against ``quota[p][tier]`` and then the tier's reserve —
   ``work`` and ``accounting``;
6. closes manual tasks that humans have finished — ``work.close_manual``;
7. accrues the rework owed by tasks waiting on a down tier — ``health.scan``;
8. recomputes token_health, the queues, the red-button conditions, and
   writes a timeline row — ``health``, ``redbutton``, ``result``.

The formulas and constants are in ``docs/model.md``; the constants live in
:class:`budget.model.spec.Policy`. :func:`simulate` is the whole API.
"""

from budget.native import engine_path

# the compiled keeper when it was built from these very sources, else the modules below as Python (budget/native.py)
__path__[:0] = engine_path()

from budget.keeper.result import (  # noqa: E402 (after the __path__ above)
    RESULT_LABELS,
    SimResult,
    failover_summary,
    health_text,
    manual_key,
)
from budget.keeper.simulate import simulate  # noqa: E402
from budget.keeper.task import POSTMORTEM, TICK_SEC  # noqa: E402

__all__ = [
    "simulate",
    "SimResult",
    "RESULT_LABELS",
    "failover_summary",
    "health_text",
    "manual_key",
    "POSTMORTEM",
    "TICK_SEC",
]
