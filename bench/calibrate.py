"""Calibration timing: a 200-variant sweep over the 800-alert day, 3 outages each, on all cores.

Run: .venv/bin/python bench/calibrate.py   (target on 2 cores: under 60 s, using both)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from budget.alerts import load_alerts  # noqa: E402
from budget.calibrate import calibrate, grid  # noqa: E402
from budget.gate import load_checks  # noqa: E402
from budget.spec import load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    base = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
    incidents, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
    checks = load_checks(ROOT / "specs" / "validation" / "budget_gate.yaml")
    shares = [round(0.05 + 0.025 * i, 4) for i in range(10)]  # 5% .. 27.5%
    variants = grid(shares, [700_000, 1_000_000, 2_000_000, 3_000_000, 4_000_000], [60, 120], [0.60, 0.65])
    cores = os.cpu_count() or 1
    for workers in sorted({1, cores}):
        t0 = time.perf_counter()
        cal = calibrate(base, incidents, variants, outages=(15, 30, 45), checks=checks, workers=workers)
        dt = time.perf_counter() - t0
        best = cal.recommended
        print(
            f"{len(variants)} variants x 3 outages, {workers} worker(s): {dt:6.1f} s"
            + (f"   (target < 60 s: {'ok' if dt < 60 else 'OVER'})" if workers == cores else "")
        )
    if best:
        print(
            f"recommended: frontier {best.variant.frontier_share:.1%}, reserve {best.variant.reserve:,}, "
            f"floors {best.floors}, cost {best.cost:.2f}/day"
        )


if __name__ == "__main__":
    main()
