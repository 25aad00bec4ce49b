"""Start-up of the command line: `budget --help` against a bare interpreter importing argparse and json.

Run: .venv/bin/python bench/cli.py   (target: `budget --help` at most 4x the bare start, medians of 15 runs)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
TARGET = 4.0


def main() -> None:
    budget = shutil.which("budget", path=str(Path(sys.executable).parent)) or "budget"
    bare = [sys.executable, "-c", "import argparse, json"]
    cases = [("budget --help", [budget, "--help"]), ("budget drill (usage error)", [budget, "drill"])]

    def run(cmd: list[str]) -> None:
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    run(bare)  # warm the file cache
    floor = median_seconds(lambda: run(bare), 15)
    label = 'python -c "import argparse, json"'
    print(f"{label:34} {floor * 1000:7.1f} ms   (the floor)")
    for name, cmd in cases:
        run(cmd)
        t = median_seconds(lambda cmd=cmd: run(cmd), 15)
        ratio = t / floor
        print(
            f"{name:34} {t * 1000:7.1f} ms   {ratio:4.1f}x the floor (target <= {TARGET:g}x: "
            f"{'ok' if ratio <= TARGET else 'OVER'})"
        )


if __name__ == "__main__":
    main()
