"""Engine timings: one 45-minute scenario, a day of 800 incidents, a day of 100,000.

Run: .venv/bin/python bench/engine.py   (targets: <20 ms, <200 ms, <10 s on 2 cores)
"""

from __future__ import annotations

import sys
from pathlib import Path

from timing import median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from budget.keeper import simulate  # noqa: E402
from budget.model import (  # noqa: E402
    day_scenario,
    load_scenario,
    load_spec,  # noqa: E402
)
from budget.native import engine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    print(f"keeper: {engine()} (budget/native.py; BUDGET_ENGINE=python for the keeper as Python)")
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    sc45 = load_scenario(ROOT / "scenarios" / "fail_local_45m.json", spec)
    outage = {"down_tier": "local-coder", "start": "11:00", "duration_min": 45}
    day800 = day_scenario(800, spec, **outage)
    day100k = day_scenario(100_000, spec, **outage)
    rows = [
        ("45-minute scenario, queue 20", lambda: simulate(spec, sc45), 21, 0.020),
        ("day of 800 incidents, 45m outage", lambda: simulate(spec, day800), 5, 0.200),
        ("day of 100,000 incidents, 45m outage", lambda: simulate(spec, day100k, include_decisions=False), 1, 10.0),
    ]
    print(f"{'case':40} {'median':>10} {'target':>8}  verdict")
    for name, fn, repeat, target in rows:
        t = median_seconds(fn, repeat)
        verdict = "ok" if t < target else "OVER"
        print(f"{name:40} {t * 1000:8.1f}ms {target * 1000:6.0f}ms  {verdict}")


if __name__ == "__main__":
    main()
