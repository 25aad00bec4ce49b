"""First visit of every page in a real browser (headless Chromium), each on a freshly started server.

Run: .venv/bin/python bench/app.py        (make bench)
Target: every page drawn in under 2 s on a first visit, both ways below (in the app and in a new tab).

A learner starts the app (`make run`: scripts/serve.py imports the pages' libraries, then serves), opens
Home, then visits each page for the first time through the sidebar: that is the "in the app" column (a
just-started server, nothing cached). The "new tab" column is the worst case: the page's URL opened on a
just-started server, so the page's first run and the browser's start-up are paid by that page alone. The
time runs from the click or request until the page's script has finished and every chart is drawn.
Medians of three runs.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
PAGES = [
    "Home",
    "Spec editor",
    "Simulator",
    "Compare",
    "Budget note",
    "Drill",
    "Calibrate",
    "Gateway",
    "Workbook",
    "Live keeper",
]
URLS = {name: "" if name == "Home" else name.replace(" ", "_") for name in PAGES}
HEADINGS = {name: name for name in PAGES} | {"Home": "Token budget workbench", "Drill": "Budget drill"}
HEADINGS["Gateway"] = "Anti-Goodhart gateway"
SCRATCH = Path(tempfile.mkdtemp(prefix="bench-app-"))
TARGET_S = 2.0
REPEAT = 3
DRAWN = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('[data-testid=stMain] h1')) return false;
  if (document.querySelector('[data-testid=stSkeleton]')) return false;
  const charts = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')];
  return charts.every(c => c.querySelector('canvas, svg'));
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(script: str = "app.py") -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    # the workbench starts as `make run` starts it (scripts/serve.py); any other script with `streamlit run`
    command = ["scripts/serve.py"] if script == "app.py" else ["-m", "streamlit", "run", script]
    proc = subprocess.Popen(
        [sys.executable, *command, "--server.port", str(port)]
        + ["--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT,
        # a scratch workbench database: the bench never reads or adds to a learner's data/workbench.sqlite
        env={**os.environ, "PYTHONPATH": str(ROOT), "BUDGET_WORKBENCH_DB": str(SCRATCH / f"bench-{port}.sqlite")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("streamlit did not start")


def _drawn(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(30)  # let the click or the request start the script run
    page.wait_for_function(DRAWN, timeout=60_000, polling=20)


def walk(browser) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """A fresh server; Home opened in a new session, then every page's first visit through the sidebar."""
    proc, url = _start()
    times: dict[str, float] = {}
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(url)
        _drawn(page)
        times["Home"] = time.perf_counter() - t0
        for name in PAGES[1:]:
            link = page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name)
            t0 = time.perf_counter()
            link.click()
            page.wait_for_function(
                f"() => document.querySelector('[data-testid=stMain] h1')?.textContent.includes({HEADINGS[name]!r})",
                timeout=60_000,
                polling=20,
            )
            _drawn(page)
            times[name] = time.perf_counter() - t0
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return times


def first_visit(browser, path: str = "", script: str = "app.py") -> float:  # type: ignore[no-untyped-def]
    """A fresh server of ``script``; ``path`` opened directly in a new session (nothing imported or cached)."""
    proc, url = _start(script)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(f"{url}/{path}")
        _drawn(page)
        seconds = time.perf_counter() - t0
        context.close()
        return seconds
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def floor(browser) -> float:  # type: ignore[no-untyped-def]
    """The same first visit of a one-line Streamlit page: what the framework and the browser cost alone."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bare.py"
        script.write_text('import streamlit as st\n\nst.title("Token budget workbench")\n')
        return first_visit(browser, script=str(script))


def reruns() -> None:
    """Reruns after the first visit, measured with AppTest (the script alone, no browser drawing)."""
    from streamlit.testing.v1 import AppTest
    from timing import median_seconds

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/2_Simulator.py").run()
    rows = []
    for scenario in ("fail_local_45m.json", "fail_local_15m.json"):
        at.selectbox(key="w_sim_scenario").select(scenario).run()
        at.button(key="w_sim_run").click().run()  # first run: simulates and caches
        rows.append((f"Simulator rerun, {scenario}", median_seconds(at.run, 7) * 1000, 300))
    at.switch_page("pages/3_Compare.py").run()
    rows.append(("Compare rerun", median_seconds(at.run, 7) * 1000, 1000))
    at.switch_page("pages/1_Spec_editor.py").run()
    rows.append(("Spec editor rerun", median_seconds(at.run, 7) * 1000, 300))
    assert not at.exception
    for name, ms, target in rows:
        print(f"  {name:40} {ms:7.1f} ms   target < {target} ms: {'ok' if ms < target else 'OVER'}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        walks = [walk(browser) for _ in range(REPEAT)]
        cold = {
            name: statistics.median(first_visit(browser, path) for _ in range(REPEAT)) for name, path in URLS.items()
        }
        bare = statistics.median(floor(browser) for _ in range(REPEAT))
        browser.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"first visit of each page, median of {REPEAT} fresh servers (target < {TARGET_S:.0f} s)")
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work on the machine slows every figure)")
    print(f"  {'page':12} {'in the app':>10}  {'new tab, fresh server':>22}")
    for name in ["Home", *PAGES[1:]]:
        median = statistics.median(w[name] for w in walks)
        verdict = "ok" if max(median, cold[name]) < TARGET_S else "OVER"  # both ways of a first visit
        print(f"  {name:12} {median:8.2f} s  {cold[name]:20.2f} s   {verdict}")
    print(f"  {'(a one-line Streamlit page, the same way)':40} {bare:.2f} s: the framework's floor on this machine")
    print(
        "in the app: Home opened in a new session on a just-started server, then each page's first visit "
        "through the sidebar;\nnew tab: the page's URL opened on a just-started server (its first run and "
        "the browser's start-up included)"
    )
    print("reruns (AppTest, the script alone):")
    reruns()


if __name__ == "__main__":
    main()
