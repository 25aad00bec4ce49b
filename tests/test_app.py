"""AppTest from app.py for every page: no exception, the main interactions by widget key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
PAGES = [
    "pages/1_Spec_editor.py",
    "pages/2_Simulator.py",
    "pages/3_Compare.py",
    "pages/4_Budget_note.py",
    "pages/5_Drill.py",
    "pages/6_Calibrate.py",
    "pages/7_Gateway.py",
]


@pytest.fixture(autouse=True)
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for item in ("specs", "scenarios"):
        shutil.copytree(ROOT / item, tmp_path / item)
    monkeypatch.setenv("BUDGET_WORKBENCH_ROOT", str(tmp_path))
    return tmp_path


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [s.value for s in at.success]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_works_on_the_defaults(page):
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]


def test_home_runs_every_exercise_green():
    at = open_page()
    at.button(key="home_run_all").click().run()
    assert not at.exception
    assert "6 of 6 exercises pass" in at.get("progress")[0].proto.text
    assert not at.error
    assert sum(1 for s in at.success if "actual" in s.value) >= 15


def test_simulator_45m_shows_the_four_checks_green():
    at = open_page("pages/2_Simulator.py")
    at.button(key="w_sim_run").click().run()
    assert not at.exception
    green = [s.value for s in at.success]
    for clause in (
        "failover_to_frontier==5",
        "degraded_queue==15",
        "manual_queue_after_120s==15",
        "token_health_min>=0.5",
    ):
        assert any(clause in g for g in green), green
    assert any("PASS: the query holds" in g for g in green)
    assert not at.error


def test_simulator_keeps_choices_across_pages_and_drops_stale_results():
    at = open_page("pages/2_Simulator.py")
    at.selectbox(key="w_sim_policy").select("hold_all").run()
    at.button(key="w_sim_run").click().run()
    assert any("P0/P1 SLA breaches" == m.label for m in at.metric)
    at.switch_page("pages/3_Compare.py").run()
    at.switch_page("pages/2_Simulator.py").run()
    assert at.selectbox(key="w_sim_policy").value == "hold_all"
    assert any(m.label == "failover_to_frontier" for m in at.metric)  # result kept
    at.selectbox(key="w_sim_policy").select("ranked").run()
    assert "inputs changed" in texts(at)
    assert not any(m.label == "failover_to_frontier" for m in at.metric)


def test_simulator_form_with_a_negative_queue_shows_the_error():
    at = open_page("pages/2_Simulator.py")
    at.radio(key="w_sim_source").set_value("form").run()
    at.number_input(key="w_sim_queue").set_value(-4).run()
    assert not at.exception
    assert any("queue: must be between 0" in e.value for e in at.error)
    assert at.button(key="w_sim_run").disabled


def test_simulator_upload_of_broken_json():
    at = open_page("pages/2_Simulator.py")
    at.radio(key="w_sim_source").set_value("upload").run()
    at.get("file_uploader")[0].upload("broken.json", b'{"queue": 20,,}', "application/json").run()
    assert not at.exception
    assert any("broken.json:1: not valid JSON" in e.value for e in at.error)


def test_spec_editor_malformed_upload_and_sum_error(scratch_root: Path):
    at = open_page("pages/1_Spec_editor.py")
    at.get("file_uploader")[0].upload("bad.yaml", b"daily_budget_tokens: [1,\nphases: {", "text/yaml").run()
    assert not at.exception
    assert any("bad.yaml" in e.value and "not valid YAML" in e.value for e in at.error)
    text = (scratch_root / "specs" / "budget_network.yaml").read_text().replace("10000000", "5000000")
    at.text_area(key="w_spec_text").set_value(text).run()
    assert any("quota sum 10,000,000 does not equal daily_budget_tokens 5,000,000" in e.value for e in at.error)
    at.button(key="w_spec_fix_daily").click().run()
    assert not at.error
    assert "10,000,000" in [m.value for m in at.metric][0]


def test_spec_editor_compile_diff_and_safe_save(scratch_root: Path):
    at = open_page("pages/1_Spec_editor.py")
    at.button(key="w_spec_compile").click().run()
    assert any("No difference to the textbook" in s.value for s in at.success)
    at.text_input(key="w_spec_save_name").set_value("../../etc/evil").run()
    at.button(key="w_spec_save").click().run()
    assert any("no folders" in e.value for e in at.error)
    at.text_input(key="w_spec_save_name").set_value("my_copy").run()
    at.button(key="w_spec_save").click().run()
    assert (scratch_root / "specs" / "my_copy.yaml").exists()
    at.button(key="w_spec_save").click().run()
    assert any("exists; tick 'overwrite'" in e.value for e in at.error)


def test_spec_editor_split_check():
    at = open_page("pages/1_Spec_editor.py")
    at.text_input(key="w_spec_split").set_value("80/20").run()
    assert any("split is off target" in e.value for e in at.error)


def test_compare_table_and_a_predicted_variant():
    at = open_page("pages/3_Compare.py")
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["10M, 15 min", "10M, 45 min", "5M, 45 min"]
    assert all(table["check holds"])
    at.number_input(key="w_cmp_predicted").set_value(0.4)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    mine = at.dataframe[1].value
    assert mine["predicted"].iloc[0] == 0.4
    assert mine["outage_min"].iloc[0] == 60 and mine["queue"].iloc[0] == 40


def test_budget_note_writes_asks_before_replacing_and_refuses_a_low_threshold(scratch_root: Path):
    at = open_page("pages/4_Budget_note.py")
    at.button(key="w_note_write").click().run()
    note = scratch_root / "capstone" / "budget-note.md"
    assert "## high_memory_usage" in note.read_text()
    at.run()
    assert at.button(key="w_note_write").disabled  # the case exists: replace must be ticked
    at.checkbox(key="w_note_replace").check().run()
    at.text_input(key="w_note_decision").set_value("keep ranked failover").run()
    at.button(key="w_note_write").click().run()
    assert 'decision: "keep ranked failover"' in note.read_text()
    at.number_input(key="w_note_threshold").set_value(0.5).run()
    assert any("must be above simulated_floor" in e.value for e in at.error)
    assert not at.exception


def test_drill_page_runs_the_payment_case():
    at = open_page("pages/5_Drill.py")
    at.button(key="w_drill_run").click().run()
    assert not at.exception
    assert any("falls below the 0.60 guard at 15 min" in e.value for e in at.error)
    table = at.dataframe[0].value
    assert list(table["outage_min"]) == [0, 15, 30, 45]


def test_drill_page_broken_upload_shows_the_error():
    at = open_page("pages/5_Drill.py")
    at.get("file_uploader")[0].upload("junk.json", b'{"what": 1}', "application/json").run()
    assert not at.exception
    assert any("cannot tell the alert format" in e.value for e in at.error)
    assert at.button(key="w_drill_run").disabled


def test_calibrate_page_sweeps_and_hands_the_plan_to_the_simulator():
    at = open_page("pages/6_Calibrate.py")
    at.multiselect(key="w_cal_reserves").set_value([2_000_000]).run()
    at.slider(key="w_cal_shares").set_value((15, 20)).run()
    at.button(key="w_cal_run").click().run()
    assert not at.exception
    assert any("Recommended: frontier" in s.value for s in at.success), [e.value for e in at.error]
    at.button(key="w_cal_use").click().run()
    assert not at.exception
    assert at.session_state["sim_plan"] == "edited in the Spec editor"


def test_gateway_page_blocks_the_goodhart_variant():
    at = open_page("pages/7_Gateway.py")
    at.radio(key="w_gate_source").set_value("45-minute outage, policy close_silently").run()
    assert any("FAIL: anti_goodhart_budget" in e.value for e in at.error)
    at.radio(key="w_gate_source").set_value("45-minute outage, policy ranked").run()
    assert any("PASS" in s.value for s in at.success)
    at.text_area(key="w_gate_text").set_value("checks: []\n").run()
    assert any("is empty" in e.value for e in at.error)
    assert not at.exception


def test_oversized_uploads_are_refused_in_the_page(scratch_root: Path):
    big = b"#" * (6 * 1024 * 1024)
    at = open_page("pages/1_Spec_editor.py")
    at.get("file_uploader")[0].upload("huge.yaml", big, "text/yaml").run()
    assert any("over the 5,242,880-byte limit" in e.value for e in at.error)
    assert not at.exception
    sim = open_page("pages/2_Simulator.py")
    sim.radio(key="w_sim_source").set_value("upload").run()
    sim.get("file_uploader")[0].upload("huge.json", big, "application/json").run()
    assert any("over the 5,242,880-byte limit" in e.value for e in sim.error)
    assert not sim.exception


def _uploader(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    return next(u for u in at.get("file_uploader") if key in u.proto.id)


def test_gateway_page_reads_the_chapter_10_format_markdown_and_a_baseline():
    fix = ROOT / "specs" / "validation" / "goodhart"
    md = "# Gate\n\n```yaml\n" + (fix / "validation.yaml").read_text() + "```\n"
    at = open_page("pages/7_Gateway.py")
    _uploader(at, "w_gate_rules_upload").upload("validation.md", md.encode(), "text/markdown").run()
    at.radio(key="w_gate_source").set_value("upload a result").run()
    _uploader(at, "w_gate_upload").upload("bad.json", (fix / "new_metrics_bad.json").read_bytes(), "application/json")
    at.run()
    assert any("FAIL: CI_BLOCK: red_button_mttr_blindness" in e.value for e in at.error), [e.value for e in at.error]
    _uploader(at, "w_gate_upload").upload(
        "drift.json", (fix / "new_metrics_drift.json").read_bytes(), "application/json"
    )
    at.run()
    assert any("PASS" in s.value for s in at.success)
    _uploader(at, "w_gate_baseline").upload(
        "baseline.json", (fix / "baseline_metrics.json").read_bytes(), "application/json"
    )
    at.run()
    assert any("FAIL: CI_BLOCK: network_consistency" in e.value for e in at.error)
    assert not at.exception


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("latin1.json", '{"silent_p0": "\xe9"}'.encode("latin-1"), "latin1.json: not UTF-8 text"),
        ("nan.json", b'{"mttr_p95": NaN, "escalation_ratio": 0.01}', "NaN is not a number"),
        ("drill.json", b'{"runs": [{"outage_min": 0}], "outages": {}}', "no outage runs"),
    ],
)
def test_gateway_page_refuses_what_the_cli_refuses(name: str, data: bytes, message: str):
    at = open_page("pages/7_Gateway.py")
    at.radio(key="w_gate_source").set_value("upload a result").run()
    _uploader(at, "w_gate_upload").upload(name, data, "application/json").run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert not at.exception


def test_drill_page_reviews_the_shipped_week_and_this_sessions_drills():
    at = open_page("pages/5_Drill.py")
    head = [m.value for m in [*at.warning, *at.success] if "signals fire" in m.value]
    assert head and "on 7 days" in head[0], head
    assert len([e for e in at.expander if " — " in e.label]) == 7
    at.radio(key="w_drill_review_source").set_value("this session's drills").run()
    assert any("Run a drill above" in i.value for i in at.info)
    at.button(key="w_drill_run").click().run()
    assert any("signals fire on 1 days" in m.value for m in [*at.warning, *at.success])
    at.radio(key="w_drill_review_source").set_value("upload a history").run()
    at.get("file_uploader")[1].upload("h.jsonl", b'{"spec": "s", "day": "\xe9"}\n', "application/json").run()
    assert any("h.jsonl: not UTF-8 text" in e.value for e in at.error)
    assert not at.exception
