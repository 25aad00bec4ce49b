"""A sweep's tasks and where they run: the local process pool, or a Dask cluster.

A task (:class:`SweepJob`) is the variants that share a split and a reserve,
over one day of alerts: they differ only in the manual timeout and the guard,
so their runs share the day up to the outage (``budget.keeper.snapshot``).
:func:`evaluate` turns a task into the sweep's rows; it is a pure function of
the task, so the pool and a cluster give the same rows, in any order.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from budget.drill import DrillResult, check_drill, drill_result, drill_runs, sorted_incidents
from budget.files import paused
from budget.gateway import Check, validate
from budget.keeper import health_text
from budget.keeper.snapshot import simulate_shared
from budget.model import BudgetSpec, Incident, Variant, price_of, variant_spec


@dataclass
class SweepRow:
    index: int
    variant: Variant
    daily_budget_tokens: int
    cost: float
    floors: dict[int, float]
    silent: dict[int, float]
    gateway_failed: list[str]
    meets: bool
    why: str
    gateway_idle: tuple[str, ...] = ()  # the gateway's checks whose ``if`` held at no outage: they never applied

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "frontier_share": self.variant.frontier_share,
            "control_reserve": self.variant.reserve,
            "manual_timeout_sec": self.variant.manual_timeout_sec,
            "alert_threshold": self.variant.alert_threshold,
            "daily_budget_tokens": self.daily_budget_tokens,
            "cost_per_day": round(self.cost, 2),
        }
        for minutes, f in sorted(self.floors.items()):
            out[f"token_health_min_{minutes}m"] = f
        for minutes, f in sorted(self.silent.items()):
            out[f"silent_p0_{minutes}m"] = f
        out["gateway"] = "pass" if not self.gateway_failed else "fail: " + " ".join(self.gateway_failed)
        out["meets_targets"] = self.meets
        out["why"] = self.why
        return out


@dataclass(frozen=True)
class SweepJob:
    """One task of a sweep: the variants that share a split and a reserve, over one day of alerts.

    Such variants differ only in the manual timeout and the guard, so their runs
    share the day up to the outage (``budget.keeper.snapshot``).
    """

    indices: tuple[int, ...]
    variants: tuple[Variant, ...]
    base: BudgetSpec
    day: int  # which day of the sweep's history (its incidents travel apart, once per worker on a cluster)
    outages: tuple[int, ...]
    start: str
    targets: dict[int, float]
    max_silent: float | None
    checks: list[Check] | None


def evaluate(job: SweepJob, incidents: tuple[Incident, ...]) -> list[SweepRow]:
    """The sweep's rows for one job over its day's ``incidents`` (sorted by arrival): a pure function."""
    with paused():
        return _evaluate(job, incidents)


def _evaluate(job: SweepJob, incidents: tuple[Incident, ...]) -> list[SweepRow]:
    specs = [variant_spec(job.base, v) for v in job.variants]
    plan = list(job.outages)
    runs = []
    for spec, v in zip(specs, job.variants, strict=True):
        tier = check_drill(spec, incidents, plan, job.start)
        runs += drill_runs(spec, incidents, plan, job.start, tier, v.manual_timeout_sec, "spec", False, False)
    results = [r.to_dict() for r in simulate_shared(runs)]
    rows = []
    for n, (index, v, spec) in enumerate(zip(job.indices, job.variants, specs, strict=True)):
        mine = results[n * len(plan) : (n + 1) * len(plan)]
        drill = drill_result(
            spec, incidents, plan, mine, job.start, spec.cheapest, spec.policy.alert_threshold, None, "spec", False
        )
        rows.append(_row(index, v, spec, drill, job.targets, job.max_silent, job.checks))
    return rows


def _row(
    index: int,
    v: Variant,
    spec: BudgetSpec,
    drill: DrillResult,
    targets: dict[int, float],
    max_silent: float | None,
    checks: list[Check] | None,
) -> SweepRow:
    floors = {r["outage_min"]: r["token_health_min"] for r in drill.runs}
    silent = {r["outage_min"]: r["silent_p0"] for r in drill.runs}
    gate_failed: list[str] = []
    idle: tuple[str, ...] = ()
    if checks:
        reports = validate(checks, drill.to_dict())
        gate_failed = sorted({f"{cid}@{rep.target.split()[-1]}" for rep in reports for cid in rep.failed})
        applied = {o.check.id for rep in reports for o in rep.outcomes if o.activated}
        idle = tuple(c.id for c in checks if c.id not in applied)
    misses = [
        f"{m}m {health_text(floors.get(m, 0))}<{t:.2f}" for m, t in sorted(targets.items()) if floors.get(m, 0) < t
    ]
    if max_silent is not None:
        misses += [f"silent_p0 {m}m {s:.3f}>{max_silent:.3f}" for m, s in sorted(silent.items()) if s > max_silent]
    why = "; ".join(misses + (["gateway " + " ".join(gate_failed)] if gate_failed else [])) or "meets every target"
    return SweepRow(
        index,
        v,
        spec.daily_budget_tokens,
        price_of(spec),
        floors,
        silent,
        gate_failed,
        why == "meets every target",
        why,
        idle,
    )


def sweep_jobs(
    base: BudgetSpec,
    days: int,
    variants: Sequence[Variant],
    outages: Sequence[int],
    start: str,
    targets: dict[int, float],
    max_silent_p0: float | None,
    checks: list[Check] | None,
) -> list[SweepJob]:
    """The sweep's tasks: one per day, split and reserve (its timeouts and guards together), in sweep order."""
    groups: dict[tuple[float, int], list[int]] = {}
    for i, v in enumerate(variants):
        groups.setdefault((v.frontier_share, v.reserve), []).append(i)
    return [
        SweepJob(
            tuple(members),
            tuple(variants[i] for i in members),
            base,
            day,
            tuple(outages),
            start,
            targets,
            max_silent_p0,
            checks,
        )
        for day in range(days)
        for members in groups.values()
    ]


def run_jobs(
    jobs: Sequence[SweepJob],
    days: Sequence[Sequence[Incident]],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[list[SweepRow]]:
    """Each job's rows, in job order: here, in a local process pool, or on the Dask cluster at ``scheduler``."""
    incidents = [sorted_incidents(d) for d in days]
    done: list[list[SweepRow] | None] = [None] * len(jobs)

    def record(i: int, rows: list[SweepRow]) -> None:
        done[i] = rows
        if progress is not None:
            progress(sum(r is not None for r in done) / len(jobs))

    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))  # local processes
    if scheduler:
        from budget.calibration.cluster import run_on_cluster

        run_on_cluster(scheduler, evaluate, jobs, incidents, record)
    elif n == 1:
        for i, job in enumerate(jobs):
            record(i, evaluate(job, incidents[job.day]))
    else:
        pool = ProcessPoolExecutor(max_workers=n, initializer=worker_start, initargs=(os.getpid(),))
        try:
            futures = {pool.submit(evaluate, job, incidents[job.day]): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                record(futures[fut], fut.result())
        except BaseException:  # Ctrl-C, SIGTERM, a failed task: the workers end now, not after their tasks
            stop_workers(pool)
            raise
        pool.shutdown()
    return [rows for rows in done if rows is not None]


PR_SET_PDEATHSIG = 1  # linux/prctl.h: the signal a process gets when the thread that started it ends


def worker_start(parent: int) -> None:
    """A pool worker's first step: Ctrl-C is the parent's to report, and the worker ends with its parent.

    SIGINT is ignored (the terminal sends it to the whole group; the parent
    answers in one line and stops the workers); SIGTERM and SIGHUP end the
    worker at once. On Linux the kernel kills it when the parent dies, even by
    SIGKILL (``prctl(PR_SET_PDEATHSIG)``); a parent that died before that was
    set is seen by its pid and the worker leaves.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's own stop_workers is what ends them
        pass
    if os.getppid() != parent:
        os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now (their running tasks are dropped) and wait for them to be gone."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(OSError, ValueError):
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            proc.join(timeout=5)


def over_days(days: Sequence[str], per_day: Sequence[Sequence[SweepRow]]) -> list[SweepRow]:
    """Each variant over every day: the lowest floor and highest silent_p0 of each outage, the gateway's failures
    of any day; it meets the targets only if it meets them on every day."""
    out = []
    for rows in zip(*per_day, strict=True):
        first = rows[0]
        floors = {m: min(r.floors[m] for r in rows) for m in first.floors}
        silent = {m: max(r.silent[m] for r in rows) for m in first.silent}
        failed = sorted({f for r in rows for f in r.gateway_failed})
        misses = [f"{day}: {r.why}" for day, r in zip(days, rows, strict=True) if not r.meets]
        why = "; ".join(misses) or "meets every target on every day"
        idle = tuple(c for c in first.gateway_idle if all(c in r.gateway_idle for r in rows))  # idle on every day
        out.append(
            SweepRow(
                first.index,
                first.variant,
                first.daily_budget_tokens,
                first.cost,
                floors,
                silent,
                failed,
                not misses,
                why,
                idle,
            )
        )
    return out
