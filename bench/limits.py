"""Runs at the documented limits (budget/files/limits.py, docs/limits.md), and the input layer's speed.

Run: .venv/bin/python bench/limits.py
Targets (2 shared cores): every run at a limit answers in a few seconds (< 8 s) and
the whole `budget inspect` of a 2.3 MB result, process start included, in under a second.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from budget.drill import (  # noqa: E402
    generate_day,
    load_alerts,  # noqa: E402
    run_drill,  # noqa: E402
    to_jsonl,
)
from budget.errors import BudgetError  # noqa: E402
from budget.files import (  # noqa: E402  # noqa: E402
    MAX_ALERTS,
    MAX_DRILL_REPLAYS,
    MAX_QUEUE,
    MAX_YAML_BYTES,
    jsonscan,  # noqa: E402
    parse_json_text,
    parse_yaml_text,
)
from budget.keeper import simulate  # noqa: E402
from budget.model import (
    load_spec,  # noqa: E402
    scenario_from_dict,  # noqa: E402
)

ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, seconds: float, target: float) -> None:
    print(
        f"{name:58} {seconds * 1000:9.1f} ms  (target < {target * 1000:.0f} ms: {'ok' if seconds < target else 'OVER'})"
    )


def main() -> None:
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        big = simulate(spec, scenario_from_dict({"down_tier": "local-coder", "duration_min": 45, "queue": 2000}, spec))
        text = json.dumps(big.to_dict(), indent=2)
        path = Path(tmp) / "r2000.json"
        path.write_text(text)
        print(f"result of a queue of 2,000: {len(text) / 1e6:.1f} MB")
        _row("parse it (strict JSON)", median_seconds(lambda: parse_json_text(text, "r.json"), 5), 0.2)
        _row("name a line in it (error path only)", median_seconds(lambda: jsonscan.locate(text, ("x",)), 3), 2.0)
        cmd = [sys.executable, "-m", "budget", "inspect", "--result", str(path), "--query", "token_health_min>=0"]
        _row(
            "budget inspect of it, process start included",
            median_seconds(lambda: subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT), 3),
            1.0,
        )

        sc = scenario_from_dict(
            {"down_tier": "local-coder", "duration_min": 1440, "queue": MAX_QUEUE, "start": "00:00"}, spec
        )
        _row(
            f"simulate a queue of {MAX_QUEUE:,} with a 1440-minute outage",
            median_seconds(lambda: simulate(spec, sc), 1),
            8.0,
        )

        alerts = Path(tmp) / "alerts.jsonl"
        alerts.write_text(to_jsonl(generate_day(MAX_ALERTS, seed=3)))
        print(f"{MAX_ALERTS:,} alerts: {alerts.stat().st_size / 1e6:.1f} MB of JSONL")
        holder: dict[str, object] = {}
        _row(f"import {MAX_ALERTS:,} alerts", median_seconds(lambda: holder.update(inc=load_alerts(alerts)[0]), 1), 8.0)
        pg = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
        incs = holder["inc"]
        most = incs[: MAX_DRILL_REPLAYS // 4]  # type: ignore[index]
        _row(
            f"drill of {len(most):,} alerts, 3 outages ({MAX_DRILL_REPLAYS:,} replays)",
            median_seconds(lambda: run_drill(pg, most, outages=(15, 30, 45)), 1),
            8.0,
        )

        flow = "a: [" + "1," * (MAX_YAML_BYTES // 2 - 4) + "1]\n"
        _row(
            f"YAML of {len(flow):,} bytes, the worst shape",
            median_seconds(lambda: parse_yaml_text(flow, "x.yaml"), 1),
            8.0,
        )
        t0 = time.perf_counter()
        try:
            parse_yaml_text(flow + "b: " + "1" * 10, "x.yaml")
        except BudgetError:
            pass
        _row("YAML one byte past the limit, refused", time.perf_counter() - t0, 0.1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this script: {peak:.0f} MB")


if __name__ == "__main__":
    main()
