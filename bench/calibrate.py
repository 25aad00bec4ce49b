"""Sweep timing: a 200-variant sweep of the 800-alert day against one drill (3 outages) of the same day.

Run: .venv/bin/python bench/calibrate.py   (target: the sweep at most 12x the drill, as the commands a user types)

The grid is 10 frontier shares x 5 reserves x 2 manual timeouts x 2 guards over 15/30/45-minute outages,
with the gateway's checks, on all cores. Both ways are timed, medians of several runs in this one run:

- commands: `budget calibrate` against `budget drill` (each a fresh process, as a user runs them);
- in process: `calibrate()` against `run_drill()`, the engine alone (no start-up, no files).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from budget.calibration import calibrate, grid  # noqa: E402
from budget.drill import load_alerts, run_drill  # noqa: E402
from budget.gateway import load_checks  # noqa: E402
from budget.model import load_spec  # noqa: E402
from budget.native import engine  # noqa: E402

SPEC = "specs/payment_gateway_80_20_mid.yaml"
DAY = "scenarios/alerts_day_800.jsonl"
GATE = "specs/validation/budget_gate.yaml"
SHARES = "0.05:0.275:0.025"  # 10 shares
RESERVES = "700000,1000000,2000000,3000000,4000000"
TARGET = 12.0


def main() -> None:
    print(f"keeper: {engine()} (budget/native.py; BUDGET_ENGINE=python for the keeper as Python)")
    budget = str(Path(sys.executable).parent / "budget")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        drill_cmd = [budget, "drill", "--budget-spec", SPEC, "--alerts", DAY, "--out", f"{tmp}/d.json"]
        sweep_cmd = [budget, "calibrate", "--budget-spec", SPEC, "--alerts", DAY, "--validation", GATE, "--quiet"]
        sweep_cmd += ["--frontier-shares", SHARES, "--reserves", RESERVES, "--out", f"{tmp}/r.yaml"]
        sweep_cmd += ["--csv", f"{tmp}/s.csv"]

        def run(cmd: list[str]) -> None:
            subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)

        t_drill_cmd = median_seconds(lambda: run(drill_cmd), 5)
        t_sweep_cmd = median_seconds(lambda: run(sweep_cmd), 3)
    base = load_spec(ROOT / SPEC)
    incidents, _ = load_alerts(ROOT / DAY)
    checks = load_checks(ROOT / GATE)
    shares = [round(0.05 + 0.025 * i, 4) for i in range(10)]
    variants = grid(shares, [700_000, 1_000_000, 2_000_000, 3_000_000, 4_000_000], [60, 120], [0.60, 0.65])
    t_drill = median_seconds(lambda: run_drill(base, incidents, outages=(15, 30, 45)), 7)
    t_sweep = median_seconds(lambda: calibrate(base, incidents, variants, checks=checks, workers=cores), 3)
    t_one = median_seconds(lambda: calibrate(base, incidents, variants, checks=checks, workers=1), 1)
    ratio = t_sweep_cmd / t_drill_cmd
    print(f"budget drill (800 alerts, baseline + 3 outages)   {t_drill_cmd * 1000:8.0f} ms")
    print(
        f"budget calibrate ({len(variants)} variants, {cores} workers)     {t_sweep_cmd * 1000:8.0f} ms   "
        f"{ratio:.1f}x the drill (target <= {TARGET:g}x: {'ok' if ratio <= TARGET else 'OVER'})"
    )
    print(f"in process: run_drill                          {t_drill * 1000:8.0f} ms")
    print(
        f"in process: calibrate, {cores} workers                {t_sweep * 1000:8.0f} ms   {t_sweep / t_drill:.1f}x "
        f"the drill; 1 worker {t_one * 1000:.0f} ms ({t_one / t_sweep:.2f}x the {cores}-worker time)"
    )
    print(f"per sweep task (4 variants x 3 outages, one day): {t_one / (len(variants) / 4) * 1000:.0f} ms on one core")


if __name__ == "__main__":
    main()
