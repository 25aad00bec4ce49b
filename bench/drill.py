"""Drill timings: the 800-alert drill; a day of 100,000 alerts, import and replay apart, against the read floor.

Run: .venv/bin/python bench/drill.py

- The 800-alert drill (baseline + 15/30/45-minute outages), with and without the review's evidence.
- A generated day of 100,000 alerts (seed 3) drilled like `budget drill --outages 45` (baseline + one
  outage) through the 85/15 payment plan scaled to the flow: every quota, the reserve and the frontier's
  per-minute capacity x125 (800 -> 100,000 alerts). The floor is pandas' `read_json(lines=True)` of the
  same file. Targets: import + replay at most 3x the floor; peak memory (the largest resident size of a
  fresh process that imports and drills) under 150 MiB.

Every figure is the median of several runs in this one run of the bench.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from plans import scaled_plan  # noqa: E402

from budget.drill import (  # noqa: E402
    generate_day,
    load_alerts,  # noqa: E402
    run_drill,  # noqa: E402
    to_jsonl,
)
from budget.model import load_spec  # noqa: E402
from budget.native import engine  # noqa: E402

FLOW = 100_000
RATIO_TARGET = 3.0
MEMORY_TARGET_MIB = 150


# VmHWM, not ru_maxrss: Linux carries the parent's resident size at fork into the child's ru_maxrss
PEAK = """
import sys
sys.path[:0] = [{bench!r}, {root!r}]
from plans import scaled_plan
from budget.drill.alerts import load_alerts
from budget.drill.replay import run_drill
incidents, _ = load_alerts({path!r})
run_drill(scaled_plan(), incidents, outages=(45,))
print(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")).split()[1])
"""


def peak_mib(path: Path) -> float:
    """Largest resident size (VmHWM) of a fresh process that imports the file and drills it, MiB."""
    code = PEAK.format(bench=str(Path(__file__).parent), root=str(ROOT), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1]) / 1024  # kB


def main() -> None:
    print(f"keeper: {engine()} (budget/native.py; BUDGET_ENGINE=python for the keeper as Python)")
    spec = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
    incidents, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
    t800 = median_seconds(lambda: run_drill(spec, incidents, outages=(15, 30, 45)), 7)
    verdict = "ok" if t800 < 1 else "OVER"
    print(f"800-alert drill, 3 outages + baseline: {t800 * 1000:8.1f} ms   (target < 1000 ms: {verdict})")
    t_ev = median_seconds(lambda: run_drill(spec, incidents, outages=(15, 30, 45), evidence=True), 7)
    print(
        f"the same with the review's evidence (--history): {t_ev * 1000:8.1f} ms   (target < 1000 ms: "
        f"{'ok' if t_ev < 1 else 'OVER'})"
    )

    big_plan = scaled_plan()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alerts_100k.jsonl"
        path.write_text(to_jsonl(generate_day(FLOW, seed=3)))
        t_floor = median_seconds(lambda: pd.read_json(path, lines=True), 5)
        holder: dict[str, object] = {}
        t_import = median_seconds(lambda: holder.update(inc=load_alerts(path)[0]), 5)
        big = holder["inc"]
        t_replay = median_seconds(lambda: run_drill(big_plan, big, outages=(45,)), 3)  # baseline + 45 min
        peak = peak_mib(path)
    total = t_import + t_replay
    print(f"100,000 alerts: pandas read_json {t_floor * 1000:8.1f} ms (the floor)")
    print(f"100,000 alerts: import           {t_import * 1000:8.1f} ms ({t_import / t_floor:.1f}x the floor)")
    ratio = t_replay / t_floor
    print(f"100,000 alerts: replay           {t_replay * 1000:8.1f} ms ({ratio:.1f}x the floor; baseline + 45m)")
    print(
        f"100,000 alerts: import + replay  {total * 1000:8.1f} ms ({total / t_floor:.1f}x the floor; "
        f"target <= {RATIO_TARGET:g}x: {'ok' if total <= RATIO_TARGET * t_floor else 'OVER'})"
    )
    print(
        f"100,000 alerts: peak memory      {peak:8.1f} MiB (import + drill in a fresh process; "
        f"target < {MEMORY_TARGET_MIB} MiB: {'ok' if peak < MEMORY_TARGET_MIB else 'OVER'})"
    )


if __name__ == "__main__":
    main()
