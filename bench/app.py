"""Page responsiveness, measured with Streamlit's AppTest (the script run, without the browser's drawing).

Run: .venv/bin/python bench/app.py
Targets: after start-up, a rerun of the Simulator page on the textbook scenarios under 300 ms;
the Compare page with three variants under 1 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402


def median_ms(fn, repeat: int = 7) -> float:
    return median_seconds(fn, repeat) * 1000


def main() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/2_Simulator.py").run()
    rows = []
    for scenario in ("fail_local_45m.json", "fail_local_15m.json"):
        at.selectbox(key="w_sim_scenario").select(scenario).run()
        at.button(key="w_sim_run").click().run()  # first run: simulates and caches
        rows.append((f"Simulator rerun, {scenario}", median_ms(at.run), 300))
    at.switch_page("pages/3_Compare.py")
    t0 = time.perf_counter()
    at.run()
    first = (time.perf_counter() - t0) * 1000
    rows.append(("Compare, first run (chapter variants, policies, return)", first, None))
    rows.append(("Compare rerun", median_ms(at.run), 1000))
    assert not at.exception
    for name, ms, target in rows:
        verdict = "" if target is None else f"target < {target} ms: {'ok' if ms < target else 'OVER'}"
        print(f"{name:58} {ms:8.1f} ms   {verdict}")


if __name__ == "__main__":
    main()
