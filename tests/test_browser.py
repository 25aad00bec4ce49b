"""One real-browser walk through the main flow, in headless Chromium driven by Playwright.

Starts the workbench as ``make run`` does (``scripts/serve.py``) on a free loopback port in a scratch copy
of the workbench and walks as a learner does: breaks the sum in the Spec editor's table
and fixes it by moving quota, adds a phase, picks the 5M spec and sees the
Simulator run it, adds a Compare variant whose table fits at 1280 px, writes the
note, drills, calibrates, and finds every run in the workbook. Screenshots of
every page at 1280 and 390 px go to tests/screenshots/.
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
    for item in ("app.py", "ui.py", "pages", "scripts", "specs", "scenarios", "capstone", ".streamlit"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    (work / "capstone" / "budget-note.md").unlink(missing_ok=True)
    port = _free_port()
    env = {**os.environ, "BUDGET_WORKBENCH_ROOT": str(work), "PYTHONPATH": str(ROOT)}
    log = open(work / "streamlit.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "scripts/serve.py",
            "--server.port",
            str(port),  # the address is the config's, as `make run` starts it
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


def _fits(page) -> None:
    """At 1280 px no table needs a sideways scroll: every column, prediction_error included, is in view."""
    page.wait_for_timeout(300)
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMain] .dvn-scroller')]"
        ".map(e => e.scrollWidth - e.clientWidth)"
    )
    assert not overflow or max(overflow) <= 1, overflow


def _shot(page, name: str) -> None:
    """The page at 1280 and at 390 px wide (a phone), each tall enough to hold everything it shows."""
    _fits(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(600)
        height = page.evaluate(
            "() => Math.max(800, ...[...document.querySelectorAll('[data-testid=stMain], section.main')]"
            ".map(e => e.scrollHeight))"
        )
        page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / f"{name}_{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_timeout(400)


def _edit_cell(page, row: int, column: int, value: str) -> None:
    """Type ``value`` into the Spec editor's table (row 0 = first phase, column 0 = phase) as a learner does.

    On a slow machine the grid may not have the focus yet when the keys arrive, or may be drawn again by a
    late rerun: each try finds the table again, waits until it stays put, clicks and opens the cell's editor,
    for up to a minute in all.
    """
    import time

    editor = page.locator("#portal input, #portal textarea").first
    deadline = time.monotonic() + 60
    while True:
        _idle(page)
        grid = page.locator("[data-testid=stMain] [data-testid=stDataFrame]").first
        box = None
        for _ in range(40):  # until the charts above it have drawn and the table stays put
            grid.scroll_into_view_if_needed()
            page.wait_for_timeout(250)
            now = grid.bounding_box()
            if now is not None and now == box:
                break
            box = now
        assert box is not None
        page.mouse.click(box["x"] + 60, box["y"] + 35 * (row + 1) + 17)  # the phase cell of the row
        page.wait_for_timeout(300)
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")  # open the cell's editor
        try:
            editor.wait_for(state="visible", timeout=3000)
            break
        except Exception:  # the grid had not taken the focus yet: find it and click again
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")
    editor.fill(value)
    page.keyboard.press("Enter")


def _idle(page) -> None:
    """Wait until the script run the last action started has finished."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)


def _sidebar_link(page, name: str):
    return page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name)


PAGE_PATHS = ["", "Spec_editor", "Simulator", "Compare", "Budget_note", "Drill", "Calibrate", "Gateway", "Workbook"]
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


def _open(pw, width: int, height: int):  # type: ignore[no-untyped-def]
    """Chromium and a page of ``width`` x ``height`` px, waiting up to 30 s for what a test expects."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    return browser, page


def test_a_first_visit_to_any_page_draws_the_app_around_it(app_url):
    """On a just-started server, /Simulator first: the sidebar (learner, current spec) and the named pages.

    Streamlit once ran pages/2_Simulator.py alone on such a visit (its older pages/ folder reading): no
    sidebar, an "app" entry in the page list. Runs first in this module, on the fixture's fresh server.
    """
    from playwright.sync_api import expect, sync_playwright

    url, _ = app_url
    with sync_playwright() as pw:
        browser, page = _open(pw, 1280, 900)
        page.goto(url + "/Simulator")
        expect(page.get_by_role("heading", name="Simulator")).to_be_visible()
        expect(page.get_by_text("Current spec (every page uses it)")).to_be_visible()
        expect(page.get_by_text("Learner (your work is kept under this name)")).to_be_visible()
        expect(_sidebar_link(page, "Home")).to_be_visible()
        expect(_sidebar_link(page, "app")).to_have_count(0)
        browser.close()


def test_each_page_announces_its_elements_code_and_connects_at_once(app_url):
    """`make run` serves Streamlit's page with a script in its head (scripts/serve.py): the browser is told
    the code of the elements the page's first view shows (Compare's table and chart, none on Workbook) and
    where the server is, so it never asks the page's own path for the server first. The tab's icon is drawn
    here too (a Material icon as page_icon is fetched from fonts.gstatic.com, which a machine offline waits for)."""
    from playwright.sync_api import sync_playwright

    url, _ = app_url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        for path, charts_and_tables in (("Compare", True), ("Workbook", False)):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            asked: list[str] = []
            page.on("request", lambda r, asked=asked: asked.append(r.url))
            page.goto(f"{url}/{path}")
            page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
            hrefs = page.evaluate("() => [...document.querySelectorAll('link[rel=modulepreload]')].map(l => l.href)")
            assert any("/static/js/TextInput." in h for h in hrefs), path  # the sidebar's, on every page
            for element in ("DataFrame", "ArrowVegaLiteChart"):
                assert any(f"/static/js/{element}." in h for h in hrefs) == charts_and_tables, (path, element)
            assert page.evaluate("() => window.__streamlit.BACKEND_BASE_URL") == url
            assert not [a for a in asked if f"/{path}/_stcore/" in a], path  # no detour through the page's path
            assert f"{url}/_stcore/health" in asked  # the server is still checked, beside the connection
            assert [a for a in asked if not a.startswith((url, "data:"))] == []  # nothing from another machine
            page.close()
        browser.close()


def test_a_link_to_a_compare_tab_opens_that_tab(app_url):
    """Compare shows one section at a time; its address names the open one (Home links the traps to it)."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = app_url
    with sync_playwright() as pw:
        browser, page = _open(pw, 1280, 900)
        page.goto(f"{url}/Compare?section=Three+policies")
        expect(page.get_by_role("heading", name="The three policies on the 45-minute outage")).to_be_visible()
        expect(page.get_by_role("tab", name="Three policies")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("heading", name="The chapter: 15 min vs 45 min vs the 5M budget")).to_have_count(0)
        # on a phone the legends wrap under the plot, which keeps its height (it was squeezed to a band)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(800)
        svg = "[data-testid=stMain] [data-testid=stVegaLiteChart] svg"
        page.wait_for_selector(svg)
        assert page.evaluate(f"() => document.querySelector('{svg}').getBoundingClientRect().height") >= 400
        browser.close()


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) that listen on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


def test_make_run_serves_this_machine_only(app_url):
    """`make run` listens on 127.0.0.1 alone (the README's http://localhost:8501), not on every interface,
    and does not look up an external address when it starts."""
    url, work = app_url
    assert _listening(int(url.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1, and nothing else
    log = (work / "streamlit.log").read_text()
    assert "Network URL" not in log and "external IP" not in log


def test_no_page_scrolls_sideways_on_a_phone(app_url):
    """At 390 px every page reads without a sideways scroll of the page itself (tables may scroll inside)."""
    from playwright.sync_api import sync_playwright

    url, _ = app_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    wide = {}
    with sync_playwright() as pw:
        browser, page = _open(pw, 390, 900)
        for path in PAGE_PATHS:
            page.goto(f"{url}/{path}")
            page.locator("[data-testid=stMain] h1").first.wait_for()
            _idle(page)
            widths = page.evaluate(
                "() => { const m = document.querySelector('[data-testid=stMain]');"
                " return [document.documentElement.scrollWidth, window.innerWidth, m.scrollWidth, m.clientWidth]; }"
            )
            page.screenshot(path=str(SHOTS / f"phone_{path or 'Home'}_390.png"))
            if widths[0] > widths[1] or widths[2] > widths[3]:
                wide[path or "Home"] = widths
        browser.close()
    assert not wide, wide


def test_a_learners_walk_in_a_real_browser(app_url):
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
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(url)
        expect(page.get_by_role("heading", name="Token budget workbench")).to_be_visible()
        expect(_sidebar_link(page, "Home")).to_be_visible()
        expect(page.get_by_text("8. Calibrate, propose, and bring the cheap tier back in stages")).to_be_visible()
        expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
        _shot(page, "1_home")

        # the Spec editor: break the sum in the table, see the difference, the table stays; move quota to fix it
        _sidebar_link(page, "Spec editor").click()
        expect(page.get_by_role("heading", name="Spec editor")).to_be_visible()
        # the quota sum's bar chart has room for its bar, axis and legend under its two title lines (a fixed
        # height of 70 px was the whole chart's: the bar was drawn 5 px tall and the legend cut)
        page.wait_for_selector("[data-testid=stMain] [data-testid=stVegaLiteChart] svg")
        tall = page.evaluate(
            "() => document.querySelector('[data-testid=stMain] [data-testid=stVegaLiteChart] svg')"
            ".getBoundingClientRect().height"
        )
        assert tall >= 150, tall
        _edit_cell(page, 0, 2, "3500000")  # triage, local-coder (after the check column): +500,000
        expect(page.locator("[data-testid=stAlertContentError]").filter(has_text="difference +500,000")).to_be_visible()
        expect(page.locator("[data-testid=stMetricValue]").filter(has_text="+500,000")).to_be_visible()
        expect(page.locator("[data-testid=stMain] [data-testid=stDataFrame]").first).to_be_visible()
        expect(page.locator("[data-testid=stSidebar]").get_by_text("invalid")).to_be_visible()
        _idle(page)
        _edit_cell(page, 1, 2, "1500000")  # classification gives the 500,000 back
        expect(page.get_by_text("budget_network.yaml is valid")).to_be_visible()
        expect(page.locator("[data-testid=stSidebar]").get_by_text("edited")).to_be_visible()
        _idle(page)
        page.get_by_text("Add, rename or delete phases and tiers").click()
        page.get_by_label("new phase").fill("audit")
        page.get_by_role("button", name="Add phase").click()
        _idle(page)
        page.get_by_text("YAML (edit here or in the table)").click()
        expect(page.locator("textarea").first).to_contain_text("audit:")
        expect(page.locator("textarea").first).to_contain_text("local-coder: 3500000")
        _shot(page, "2_spec_editor")

        # pick the 5M spec in the sidebar: the Simulator runs it
        page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").click()
        page.get_by_role("option", name="budget_network_5m", exact=True).click()  # the sidebar drops ".yaml"
        _idle(page)
        _sidebar_link(page, "Simulator").click()
        expect(page.get_by_role("heading", name="Simulator")).to_be_visible()
        expect(page.get_by_text("budget_network_5m.yaml").first).to_be_visible()
        page.get_by_role("button", name="Run simulation").click()
        expect(page.get_by_text("FAIL: the query does not hold")).to_be_visible()  # the 10M plan's check
        expect(page.locator("[data-testid=stMetricValue]").filter(has_text="2 tasks").first).to_be_visible()
        expect(page.locator("[data-testid=stGraphVizChart] svg")).to_be_visible()
        page.get_by_label("What this means for my project").fill("half the budget: only 2 fail over, 18 wait")
        page.get_by_role("heading", name="Simulator").click()  # leave the text area: it is kept
        _idle(page)
        _shot(page, "3_simulator")

        # Compare: a variant with a prediction; prediction_error readable without scrolling sideways
        _sidebar_link(page, "Compare").click()
        expect(page.get_by_role("heading", name="Compare")).to_be_visible()
        page.get_by_role("tab", name="Your variants").click()
        page.get_by_role("button", name="Add variant and run").click()
        expect(page.get_by_text("Your last variant in the workbook")).to_be_visible()
        _idle(page)
        assert page.locator("[data-testid=stMain] .dvn-scroller").count() >= 1  # the table is there to check
        assert "section=Your+variants" in page.url or "section=Your%20variants" in page.url  # a reload opens it
        _shot(page, "4_compare")

        _sidebar_link(page, "Budget note").click()
        expect(page.get_by_text("Prefilled from the last simulation")).to_be_visible()
        page.get_by_role("button", name="Write to capstone/budget-note.md").click()
        expect(page.get_by_text("wrote case 'high_memory_usage'")).to_be_visible()
        _shot(page, "5_budget_note")

        _sidebar_link(page, "Drill").click()
        expect(page.get_by_role("heading", name="Budget drill")).to_be_visible()
        page.get_by_role("button", name="Make the chapter's payment_gateway_85_15.yaml the current spec").click()
        _idle(page)
        page.get_by_role("button", name="Run drill").click()
        expect(page.get_by_text("falls below the 0.60 guard at 15 min")).to_be_visible()
        _idle(page)
        _shot(page, "6_drill")

        _sidebar_link(page, "Calibrate").click()
        expect(page.get_by_role("heading", name="Calibrate")).to_be_visible()
        page.get_by_role("button", name="Make the chapter's payment_gateway_80_20_mid.yaml the current spec").click()
        _idle(page)
        page.get_by_role("button", name="Run the sweep").click()
        expect(page.get_by_text("Recommended: frontier")).to_be_visible(timeout=120_000)
        _idle(page)
        _shot(page, "7_calibrate")

        _sidebar_link(page, "Gateway").click()
        expect(page.get_by_role("heading", name="Anti-Goodhart gateway")).to_be_visible()
        page.get_by_text("45-minute outage, policy close_silently").click()
        expect(page.get_by_text("FAIL: anti_goodhart_budget")).to_be_visible()
        _shot(page, "8_gateway")

        _sidebar_link(page, "Workbook").click()
        expect(page.get_by_role("heading", name="Workbook")).to_be_visible()
        expect(page.get_by_text("half the budget: only 2 fail over, 18 wait")).to_be_visible()
        expect(page.get_by_role("button", name="Download the workbook (4 runs, Markdown)")).to_be_visible()
        _shot(page, "9_workbook")
        expect(page.locator("[data-testid=stException]")).to_have_count(0)
        browser.close()

    assert (work / "capstone" / "README.md").read_bytes() == (ROOT / "capstone" / "README.md").read_bytes()
    note = (work / "capstone" / "budget-note.md").read_text()
    assert "## high_memory_usage" in note
    assert 'effect: "2 tasks go to frontier-reviewer, 18 remain degraded/manual"' in note


def test_a_three_tier_table_shows_every_column_at_1280(app_url):
    """The Spec editor's table of a three-tier plan fits the page at 1280 px: the row total is not cut."""
    from playwright.sync_api import sync_playwright

    url, _ = app_url
    with sync_playwright() as pw:
        browser, page = _open(pw, 1280, 1200)
        page.goto(f"{url}/Spec_editor")
        _idle(page)
        picker = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]")
        picker.click()
        page.get_by_role("option", name="payment_gateway_80_20_mid", exact=True).click()
        _idle(page)
        page.get_by_text("payment_gateway_80_20_mid.yaml is valid").wait_for()
        grid = page.locator("[data-testid=stMain] .dvn-scroller").first
        grid.wait_for()
        page.wait_for_timeout(500)
        width, shown = grid.evaluate("s => [s.scrollWidth, s.clientWidth]")
        assert width <= shown, (width, shown)
        picker.click()  # back to the plan the other tests start from
        page.get_by_role("option", name="budget_network", exact=True).click()
        _idle(page)
        browser.close()
