"""One real-browser walk through the main flow, in headless Chromium driven by Playwright.

Starts ``streamlit run app.py`` on a free loopback port in a scratch copy of the
workbench, compiles the 10M spec, simulates the 45-minute outage, sees the four
checks green, writes the budget note and finds it on disk. Screenshots of every
page go to tests/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "screenshots"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium")
    work = tmp_path_factory.mktemp("workbench")
    for item in ("app.py", "pages", "specs", "scenarios", ".streamlit"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    port = _free_port()
    env = {**os.environ, "BUDGET_WORKBENCH_ROOT": str(work), "PYTHONPATH": str(ROOT)}
    log = open(work / "streamlit.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("streamlit did not start")
        yield url, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _shot(page, name: str) -> None:
    """The page at 1280 wide, tall enough to hold everything the page shows."""
    height = page.evaluate(
        "() => Math.max(800, ...[...document.querySelectorAll('[data-testid=stMain], section.main')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / name))
    page.set_viewport_size({"width": 1280, "height": 800})


def test_main_flow_in_a_real_browser(app_url):
    from playwright.sync_api import expect, sync_playwright

    url, work = app_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        page.goto(url)
        expect(page.get_by_role("heading", name="Token budget workbench")).to_be_visible()
        page.get_by_role("button", name="Run all exercises").click()
        expect(page.get_by_text("6 of 6 exercises pass")).to_be_visible()
        _shot(page, "1_home.png")

        page.get_by_role("link", name="Spec editor").click()
        expect(page.get_by_role("heading", name="Spec editor")).to_be_visible()
        page.get_by_role("button", name="Compile plan").click()
        expect(page.get_by_text("No difference to the textbook's outputs/budget_plan.example.json")).to_be_visible()
        _shot(page, "2_spec_editor.png")

        page.get_by_role("link", name="Simulator").click()
        expect(page.get_by_role("heading", name="Simulator")).to_be_visible()
        page.get_by_role("button", name="Run simulation").click()
        expect(page.get_by_text("PASS: the query holds")).to_be_visible()
        for clause in (
            "failover_to_frontier==5",
            "degraded_queue==15",
            "manual_queue_after_120s==15",
            "token_health_min>=0.5",
        ):
            expect(page.locator("[data-testid='stAlertContentSuccess']").filter(has_text=clause)).to_be_visible()
        expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
        page.wait_for_timeout(1500)  # let the charts draw
        _shot(page, "3_simulator.png")

        page.get_by_role("link", name="Compare").click()
        expect(page.get_by_role("heading", name="Compare")).to_be_visible()
        page.wait_for_timeout(1500)
        _shot(page, "4_compare.png")

        page.get_by_role("link", name="Budget note").click()
        expect(page.get_by_text("Prefilled from the last simulation")).to_be_visible()
        page.get_by_role("button", name="Write to capstone/budget-note.md").click()
        expect(page.get_by_text("wrote case 'high_memory_usage'")).to_be_visible()
        _shot(page, "5_budget_note.png")

        page.get_by_role("link", name="Drill").click()
        expect(page.get_by_role("heading", name="Budget drill")).to_be_visible()
        page.get_by_role("button", name="Run drill").click()
        expect(page.get_by_text("falls below the 0.60 guard at 15 min")).to_be_visible()
        page.wait_for_timeout(1500)
        _shot(page, "6_drill.png")

        page.get_by_role("link", name="Calibrate").click()
        expect(page.get_by_role("heading", name="Calibrate")).to_be_visible()
        page.get_by_role("button", name="Run the sweep").click()
        expect(page.get_by_text("Recommended: frontier")).to_be_visible(timeout=120_000)
        page.wait_for_timeout(1500)
        _shot(page, "7_calibrate.png")

        page.get_by_role("link", name="Gateway").click()
        expect(page.get_by_role("heading", name="Anti-Goodhart gateway")).to_be_visible()
        page.get_by_text("45-minute outage, policy close_silently").click()
        expect(page.get_by_text("FAIL: anti_goodhart_budget")).to_be_visible()
        _shot(page, "8_gateway.png")
        browser.close()

    note = (work / "capstone" / "budget-note.md").read_text()
    assert "## high_memory_usage" in note
    assert 'effect: "5 tasks go to frontier-reviewer, 15 remain degraded/manual"' in note
