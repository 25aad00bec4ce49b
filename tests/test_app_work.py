"""A learner's work survives a reload (a new browser session) and a restart; a bad database never stops the app."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import open_page, scratch_root, texts  # noqa: F401 (the fixture: a scratch data root)


def simulate(at: AppTest) -> AppTest:
    at.switch_page("pages/2_Simulator.py").run()
    at.button(key="w_sim_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_reload_keeps_the_workbook_and_the_edited_spec() -> None:
    at = simulate(open_page())
    entry = at.session_state["work"].entries[0]
    at.text_area(key=f"w_wb_{entry.id}").set_value("the guard breaks before the floor").run()
    at.switch_page("pages/1_Spec_editor.py").run()
    cur = at.session_state["current"]
    edited = cur.text.replace("10000000", "9000000", 1)
    at.text_area(key=f"w_spec_text_{cur.revision}").set_value(edited).run()
    assert at.session_state["current"].state in ("edited", "invalid")
    assert (Path(os.environ["BUDGET_WORKBENCH_ROOT"]) / "data" / "workbench.sqlite").is_file()

    again = open_page("pages/8_Workbook.py")  # a reload: a new session, nothing in session state
    assert again.session_state["current"].text == edited
    entries = again.session_state["work"].entries
    assert [(e.page, e.interpretation) for e in entries] == [("Simulator", "the guard breaks before the floor")]
    assert again.text_area(key=f"w_wb_{entries[0].id}").value == "the guard breaks before the floor"
    assert "kept under the name **learner**" in texts(again)
    # the box keeps its text once it is sent (a reload while typing loses what it had not sent): said under it
    said = [c.value for c in again.caption if c.value.startswith("Workbook entry")]
    assert said == [
        f"Workbook entry {entries[0].id}: kept under your name once you click outside the box or press Ctrl+Enter."
    ]


def test_editing_the_query_updates_the_runs_entry_instead_of_adding_one() -> None:
    at = simulate(open_page())
    said = [c.value for c in at.caption if c.value.startswith("Workbook entry")]
    assert said and said[0].endswith("or press Ctrl+Enter; downloadable on the Workbook page.")
    for query in ("degraded_queue==1", "degraded_queue==15", "degraded_queue==15 && failover_to_frontier==5"):
        at.text_input(key="w_sim_query").set_value(query).run()
    entries = at.session_state["work"].entries
    assert len(entries) == 1
    assert entries[0].command.endswith('--query "degraded_queue==15 && failover_to_frontier==5"')
    at.button(key="w_sim_run").click().run()  # a second run is a second entry
    at.text_input(key="w_sim_query").set_value("token_health_min>=0.5").run()
    assert len(at.session_state["work"].entries) == 2


def test_an_entry_can_be_deleted_and_the_workbook_downloads_as_two_columns() -> None:
    at = simulate(open_page())
    at.switch_page("pages/8_Workbook.py").run()
    markdown = at.session_state["work"].to_markdown()
    assert "| Command and output | What this means for my project |" in markdown
    entry = at.session_state["work"].entries[0]
    at.button(key=f"w_wb_delete_{entry.id}").click().run()
    assert at.session_state["work"].entries == []
    assert "No runs yet" in texts(open_page("pages/8_Workbook.py"))


def test_each_learner_name_has_its_own_workbook() -> None:
    simulate(open_page())
    at = open_page()  # the sidebar, as the first page of a visit draws it (AppTest redraws only the page after)
    at.sidebar.text_input(key="w_learner").set_value("Ana").run()
    assert at.session_state["work"].learner == "Ana"
    assert at.session_state["work"].entries == []
    assert at.query_params["learner"] in ("Ana", ["Ana"])  # kept in the address: a reload finds it
    simulate(at)
    assert len(at.session_state["work"].entries) == 1
    back = open_page()
    assert back.session_state["work"].learner == "learner" and len(back.session_state["work"].entries) == 1
    assert at.session_state["work"].entries[0].id != back.session_state["work"].entries[0].id


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not a database at all" * 50, "not a workbench database (corrupt)"),
        (None, "written by a newer workbench"),
    ],
)
def test_a_bad_database_is_one_line_and_the_app_works_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, why: str
) -> None:
    db = tmp_path / "bad.sqlite"
    if content is None:
        with sqlite3.connect(db) as con:
            con.execute("PRAGMA user_version = 9")
    else:
        db.write_bytes(content)
    before = db.read_bytes()
    monkeypatch.setenv("BUDGET_WORKBENCH_DB", str(db))
    at = open_page()
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 1 and why in warnings[0] and "Working in memory" in warnings[0]
    simulate(at)
    assert len(at.session_state["work"].entries) == 1  # the run is in the workbook, in memory
    assert db.read_bytes() == before


def test_a_five_thousand_digit_index_in_the_query_box_is_one_line() -> None:
    at = simulate(open_page())
    at.text_input(key="w_sim_query").set_value(f"decisions.{'9' * 5000}.severity==P0").run()
    assert not at.exception
    errors = [e.value for e in at.error if "unknown field" in e.value]
    assert len(errors) == 1 and len(errors[0]) < 300


def test_saving_under_a_name_that_exists_asks_before_it_overwrites() -> None:
    specs = Path(os.environ["BUDGET_WORKBENCH_ROOT"]) / "specs"
    before = (specs / "budget_network_5m.yaml").read_bytes()
    at = open_page("pages/1_Spec_editor.py")
    at.text_input(key="w_spec_save_name").set_value("budget_network_5m").run()
    at.button(key="w_spec_save").click().run()
    assert "specs/budget_network_5m.yaml exists. Overwrite it with the current spec?" in texts(at)
    assert (specs / "budget_network_5m.yaml").read_bytes() == before
    at.button(key="w_spec_overwrite_no").click().run()
    assert (specs / "budget_network_5m.yaml").read_bytes() == before
    at.button(key="w_spec_save").click().run()
    at.button(key="w_spec_overwrite_yes").click().run()
    assert "replaced specs/budget_network_5m.yaml" in texts(at)
    assert (specs / "budget_network_5m.yaml").read_text() == at.session_state["current"].text
    at.text_input(key="w_spec_save_name").set_value("my_team_80_20").run()
    at.button(key="w_spec_save").click().run()
    assert "saved specs/my_team_80_20.yaml" in texts(at)
