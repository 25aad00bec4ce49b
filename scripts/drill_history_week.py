"""Regenerate ``scenarios/alerts_week.jsonl`` and ``scenarios/drill_history_week.jsonl``: a generated week.

    .venv/bin/python scripts/drill_history_week.py

Seven days of alerts come from ``budget.drill.alertgen`` (one seed and count a day)
and make the week-long stream ``scenarios/alerts_week.jsonl``. Each day is
replayed by ``budget drill --history`` through the recalibrated payment plan
with the cheap tier off for 15, 30 and 45 minutes, exactly as a team's nightly
job would (one drill a day, its own file; ``budget drill --alerts
scenarios/alerts_week.jsonl --history H`` drills the seven days in one run and
writes the same history). The counts make the week uneven on purpose: a quiet Sunday
(560 alerts: little of the budget spent) and a heavy Wednesday (1,150 alerts:
more work than the day's budget, so quotas run out and tasks wait). The same
script gives the same file, byte for byte.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from budget import cli  # noqa: E402
from budget.drill import generate_day, to_jsonl  # noqa: E402
from budget.files import atomic_write_text  # noqa: E402

SPEC = "specs/payment_gateway_80_20_mid.yaml"
OUT = "scenarios/drill_history_week.jsonl"
WEEK_ALERTS = "scenarios/alerts_week.jsonl"
WEEK = (  # day, alerts, seed
    ("2026-11-23", 800, 101),
    ("2026-11-24", 780, 102),
    ("2026-11-25", 1150, 103),
    ("2026-11-26", 820, 104),
    ("2026-11-27", 790, 105),
    ("2026-11-28", 700, 106),
    ("2026-11-29", 560, 107),
)


def main() -> int:
    os.chdir(ROOT)
    week = []
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.jsonl"
        for day, count, seed in WEEK:
            alerts = Path(tmp) / f"alerts_{day}.jsonl"
            week.append(to_jsonl(generate_day(count, seed, datetime.fromisoformat(day).replace(tzinfo=UTC))))
            alerts.write_text(week[-1])
            args = ["drill", "--budget-spec", SPEC, "--alerts", str(alerts), "--out", str(Path(tmp) / "drill.json")]
            with redirect_stdout(io.StringIO()) as out:
                code = cli.main([*args, "--history", str(history)])
            if code not in (0, 1):  # 1: an outage below the guard, or the drill's own review rule
                print(out.getvalue(), file=sys.stderr)
                return code
            verdict = next((ln for ln in out.getvalue().splitlines() if ln.startswith("verdict:")), "")
            print(f"{day}: {count} alerts (seed {seed}): {verdict}")
        atomic_write_text(OUT, history.read_text(encoding="utf-8"))
    atomic_write_text(WEEK_ALERTS, "".join(week))
    print(f"wrote {OUT} and {WEEK_ALERTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
