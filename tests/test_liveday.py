"""The Live keeper page's figures: a keeper state read back beside the simulated outage on the same plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.workbench import live_view
from tests.live_helpers import chapter_live_day


def test_a_live_day_that_replays_the_chapter_outage_reads_like_its_simulation(tmp_path: Path):
    view = live_view(chapter_live_day(tmp_path), "scenarios/fail_local_45m.json")
    rows = {r["figure"]: (r["live day"], r["simulated"]) for r in view.rows}
    # text, each of them: a column of counts and health figures together is text to the table
    assert rows["failed over to the top tier"] == ("5", "5")
    assert rows["degraded queue"] == ("15", "15")
    assert rows["manual channel after the timeout"] == ("15", "15")
    assert all(isinstance(x, str) for r in view.rows for x in r.values())
    assert rows["token_health_min"][0] == rows["token_health_min"][1]
    assert view.outages == ("local-coder down 45 min from 11:00", "local-coder down 45 min from 11:00")
    assert view.served_by_tier == {"frontier-reviewer": 5}  # the five failed over, nothing else on any tier
    assert len(view.requests) == 60 and {r["decision"] for r in view.requests} >= {"failover", "degraded", "manual"}


def test_a_path_that_is_no_keeper_state_is_one_clear_error(tmp_path: Path):
    (tmp_path / "empty.sqlite").write_bytes(b"")
    with pytest.raises(BudgetError):
        live_view(tmp_path / "nothing.sqlite", "scenarios/fail_local_45m.json")
