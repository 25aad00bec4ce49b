"""Drill timings: an 800-alert drill with 3 outages; a day of 100,000 alerts (import and replay apart),
with the time pandas takes just to read the same file as the floor.

Run: .venv/bin/python bench/drill.py
Targets (2 cores): the 800-alert drill under 1 s; the 100,000-alert replay under 5x the pandas read.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from timing import median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from budget.alertgen import generate_day, to_jsonl  # noqa: E402
from budget.alerts import load_alerts  # noqa: E402
from budget.drill import run_drill  # noqa: E402
from budget.spec import load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    spec = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
    incidents, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
    t800 = median_seconds(lambda: run_drill(spec, incidents, outages=(15, 30, 45)), 5)
    print(
        f"800-alert drill, 3 outages + baseline: {t800 * 1000:8.1f} ms   (target < 1000 ms: "
        f"{'ok' if t800 < 1 else 'OVER'})"
    )
    t_ev = median_seconds(lambda: run_drill(spec, incidents, outages=(15, 30, 45), evidence=True), 5)
    print(
        f"the same with the review's evidence (--history): {t_ev * 1000:8.1f} ms   (target < 1000 ms: "
        f"{'ok' if t_ev < 1 else 'OVER'})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alerts_100k.jsonl"
        path.write_text(to_jsonl(generate_day(100_000, seed=3)))
        t_pandas = median_seconds(lambda: pd.read_json(path, lines=True), 3)
        holder: dict[str, object] = {}
        t_import = median_seconds(lambda: holder.update(inc=load_alerts(path)[0]), 3)
        big = holder["inc"]
        t_replay = median_seconds(lambda: run_drill(spec, big, outages=(45,)), 1) / 2  # baseline + one outage
    print(f"100,000 alerts: pandas read {t_pandas * 1000:8.1f} ms (the floor)")
    print(f"100,000 alerts: import      {t_import * 1000:8.1f} ms ({t_import / t_pandas:.1f}x the read)")
    print(
        f"100,000 alerts: replay      {t_replay * 1000:8.1f} ms per day ({t_replay / t_pandas:.1f}x the read; "
        f"target < 5x: {'ok' if t_replay < 5 * t_pandas else 'OVER'})"
    )


if __name__ == "__main__":
    main()
