"""The Live keeper page: a keeper state read beside the simulated outage, with the CLI's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.live_helpers import chapter_live_day
from tests.test_app import open_page, texts


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return chapter_live_day(tmp_path)


def test_the_page_shows_the_live_day_as_inspect_reads_it(state: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BUDGET_KEEPER_STATE", str(state))
    at = open_page("pages/9_Live_keeper.py")
    at.button(key="lk_read").click().run(timeout=120)
    assert not at.exception and not at.error, [e.value for e in at.error]
    rows = at.dataframe[0].value
    live = {k: float(v) for k, v in zip(rows["figure"], rows["live day"], strict=True)}  # the table shows text
    query = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15"
    proc = run_cli(["inspect", "--result", str(state), "--query", query], state.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the CLI reads the same live day the same way
    assert live["failed over to the top tier"] == 5 and live["degraded queue"] == 15
    assert live["manual channel after the timeout"] == 15
    assert "frontier-reviewer: 5" in texts(at)  # the requests the proxy would have served on the top tier
    assert json.loads(json.dumps(at.dataframe[1].value.to_dict()))  # every request, as a table


def test_no_state_yet_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BUDGET_KEEPER_STATE", str(tmp_path / "none.sqlite"))
    at = open_page("pages/9_Live_keeper.py")
    at.button(key="lk_read").click().run()
    assert not at.exception
    missing = tmp_path / "none.sqlite"
    said = (
        f"No keeper state at {missing} yet: run `python -m budget.traffic.live demo` (it keeps one there; "
        "README section 11)."
    )
    assert [i.value for i in at.info] == [said] and not at.error  # the usual first visit, not an error


def test_a_file_that_is_no_keeper_state_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database\n")
    monkeypatch.setenv("BUDGET_KEEPER_STATE", str(bad))
    at = open_page("pages/9_Live_keeper.py")
    at.button(key="lk_read").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert bad.read_text() == "not a database\n"


def test_the_keepers_probes_are_counted_beside_the_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """What the upstream got adds up on the page: served, failed, and the keeper's own probes of a down tier."""
    from budget.model import load_spec
    from budget.traffic.live import LiveKeeper, SqliteStore
    from tests.conftest import ROOT
    from tests.live_helpers import ELEVEN

    state = chapter_live_day(tmp_path)
    spec_path = ROOT / "specs" / "budget_network.yaml"
    now = [ELEVEN + 10 * 60]
    keeper = LiveKeeper(
        load_spec(spec_path), SqliteStore(str(state)), lambda: now[0], 120, "instant", spec_path.read_text()
    )
    keeper.probed("local-coder", False, "upstream 500")
    now[0] += 60
    keeper.probed("local-coder", True, "200")
    monkeypatch.setenv("BUDGET_KEEPER_STATE", str(state))
    at = open_page("pages/9_Live_keeper.py")
    at.button(key="lk_read").click().run(timeout=120)
    assert not at.exception and not at.error
    assert "local-coder: 2 probed, 1 answered" in texts(at)
