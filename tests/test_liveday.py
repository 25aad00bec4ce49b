"""The Live keeper page's figures: a keeper state read back beside the simulated outage on the same plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.model import load_scenario, load_spec
from budget.workbench import live_view
from tests.test_live_engine import ELEVEN, Clock, keeper


def test_a_live_day_that_replays_the_chapter_outage_reads_like_its_simulation(tmp_path: Path):
    spec = load_spec("specs/budget_network.yaml")
    sc = load_scenario("scenarios/fail_local_45m.json", spec)
    clock = Clock(ELEVEN)
    lk = keeper(tmp_path, "specs/budget_network.yaml", clock)
    lk.set_tier("local-coder", True, "upstream 500")
    for minute in (0, 2, 44):
        clock.t = ELEVEN + minute * 60
        for inc in sc.incidents:
            md = {"incident_id": inc.id, "severity": inc.severity, "phase": "triage", "blast_radius": inc.blast_radius}
            lk.decide("local-coder", md, 100)
    clock.t = ELEVEN + 45 * 60
    lk.set_tier("local-coder", False, "operator: back")
    view = live_view(tmp_path / "k.db", "scenarios/fail_local_45m.json")
    rows = {r["figure"]: (r["live day"], r["simulated"]) for r in view.rows}
    assert rows["failed over to the top tier"] == (5, 5)
    assert rows["degraded queue"] == (15, 15)
    assert rows["manual channel after the timeout"] == (15, 15)
    assert rows["token_health_min"][0] == rows["token_health_min"][1]
    assert view.outages == ("local-coder down 45 min from 11:00", "local-coder down 45 min from 11:00")
    assert view.served_by_tier == {"frontier-reviewer": 5}  # the five failed over, nothing else on any tier
    assert len(view.requests) == 60 and {r["decision"] for r in view.requests} >= {"failover", "degraded", "manual"}


def test_a_path_that_is_no_keeper_state_is_one_clear_error(tmp_path: Path):
    (tmp_path / "empty.sqlite").write_bytes(b"")
    with pytest.raises(BudgetError):
        live_view(tmp_path / "nothing.sqlite", "scenarios/fail_local_45m.json")
