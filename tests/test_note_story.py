"""The note records every run and keeps what a person wrote, read as CommonMark renders it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from budget.errors import BudgetError
from budget.keeper import health_text, simulate
from budget.model import load_scenario, load_spec
from budget.workbench import entry_from_result, merge_note, note_cases, write_note
from tests.conftest import ROOT, run_cli


def _run(spec: str, scenario: str, routing: str | None = None) -> dict:
    s = load_spec(ROOT / "specs" / spec)
    return simulate(s, load_scenario(ROOT / "scenarios" / scenario, s), routing=routing).to_dict()


R45 = _run("budget_network.yaml", "fail_local_45m.json")
R15 = _run("budget_network.yaml", "fail_local_15m.json")
MID45 = _run("payment_gateway_80_20_mid.yaml", "fail_local_45m.json")


def rendered_h2(text: str) -> list[str]:
    """The level-2 headings a CommonMark renderer shows (top level only)."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h2" and t.level == 0
    ]


# --- one rounding rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.555, "0.55"), (0.5996, "0.59"), (0.57, "0.57"), (0.7248, "0.72"), (1.0, "1.00"), (0.0, "0.00")],
)
def test_health_is_rounded_down_so_a_shown_figure_never_passes_a_guard_it_breaches(value: float, shown: str):
    assert health_text(value) == shown


def test_the_note_shows_the_floor_as_capstone_readme_does():
    e = entry_from_result(R45, "high_memory_usage")
    text = merge_note(None, e)
    assert 'simulated_floor: "token_health_min == 0.55 (drop at 45m)"' in text
    assert "`token_health_min == 0.55 (drop at 45m)`" in (ROOT / "capstone" / "README.md").read_text()
    assert "Warning zone: 0.55 <= token_health_min < 0.60." in text


# --- every run is a case -------------------------------------------------------------------------------


def test_a_short_outage_is_recorded_as_the_guard_that_holds(tmp_path: Path):
    e = entry_from_result(R15, "short_outage")
    assert e.zone == "holds" and e.warning_zone is None
    text = write_note(tmp_path / "n.md", e)
    assert "The guard holds: simulated_floor 0.72 >= alert_threshold 0.60." in text
    assert "Warning zone" not in text


def test_cli_note_on_the_15_minute_run_exits_0_and_says_the_guard_holds(workdir: Path):
    sim = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_15m.json"]
    assert run_cli([*sim, "--out", "r15.json"], workdir).returncode == 0
    proc = run_cli(["note", "--result", "r15.json", "--case", "short_outage"], workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "simulated_floor 0.72, alert_threshold 0.60: the guard holds (0.72 >= 0.60)"


def test_a_floor_below_050_is_never_called_a_warning_zone():
    collapse = _run("budget_network.yaml", "fail_local_45m.json", routing="all_to_frontier")
    assert collapse["token_health_min"] < 0.5
    e = entry_from_result(collapse, "collapse")
    assert e.zone == "fails" and e.warning_zone is None
    text = merge_note(None, e)
    assert "Warning zone" not in text and "still works" not in text
    assert "so this is no warning zone: the plan fails this outage" in text
    assert "the plan fails this outage (no warning zone)" in e.verdict_line()


def test_the_effect_names_the_tier_that_took_the_failover():
    assert entry_from_result(MID45, "mid").effect == "14 tasks go to mid-coder, 6 remain degraded/manual"
    assert entry_from_result(R45, "a").effect == "5 tasks go to frontier-reviewer, 15 remain degraded/manual"


# --- a person's text is kept ---------------------------------------------------------------------------


def _note(tmp_path: Path, *cases: str) -> Path:
    note = tmp_path / "budget-note.md"
    for case in cases:
        write_note(note, entry_from_result(R45, case))
    return note


def test_replace_keeps_a_persons_warning_zone_and_source_lines(tmp_path: Path):
    note = _note(tmp_path, "alpha", "beta")
    mine = "Warning zone: we page the on-call at 0.62, not at 0.60.\nSource: the 2026-11 game day.\n"
    text = note.read_text()
    at = text.index("## beta")
    note.write_text(text[:at] + mine + "\n" + text[at:])  # under alpha, after the tool's lines
    write_note(note, entry_from_result(R15, "alpha", decision="keep ranked failover"), replace=True)
    out = note.read_text()
    assert mine in out
    assert out.count("The guard holds") == 1 and out.count("Warning zone: 0.55") == 1  # beta's stays, alpha's new
    assert rendered_h2(out) == ["alpha", "beta"]


def test_an_unclosed_fence_hides_no_later_case_and_lets_no_duplicate_in(tmp_path: Path):
    note = _note(tmp_path, "alpha", "beta", "gamma")
    text = note.read_text()
    at = text.index("## beta")
    note.write_text(text[:at] + "My sketch:\n\n~~~~\nunfinished\n\n" + text[at:])
    assert rendered_h2(note.read_text()) == ["alpha"]  # as the person left it, CommonMark hides beta and gamma
    assert note_cases(note) == ["alpha", "beta", "gamma"]
    with pytest.raises(BudgetError, match="'beta' is already in the note"):
        write_note(note, entry_from_result(R45, "beta"))
    write_note(note, entry_from_result(R45, "delta"))
    out = note.read_text()
    assert rendered_h2(out) == ["alpha", "beta", "gamma", "delta"]
    assert "My sketch:\n\n~~~~\nunfinished\n" in out  # the person's text is all there, the fence now closed


def test_a_backtick_fence_left_open_is_closed_before_the_entry_it_swallowed(tmp_path: Path):
    note = _note(tmp_path, "alpha", "beta")
    text = note.read_text()
    at = text.index("## beta")
    note.write_text(text[:at] + "```\nhalf a code block\n\n" + text[at:])
    assert "beta" not in rendered_h2(note.read_text())
    with pytest.raises(BudgetError, match="already in the note"):
        write_note(note, entry_from_result(R45, "beta"))
    write_note(note, entry_from_result(R45, "beta", decision="x"), replace=True)
    assert rendered_h2(note.read_text()) == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("hand", "cases"),
    [
        ("## gamma\t\n\nby hand\n", ["alpha", "gamma"]),  # a trailing tab: the heading is gamma
        ("gamma\n-----\n\nby hand\n", ["alpha", "gamma"]),  # a setext heading is a heading
        ("<!--\n## gamma\n-->\n", ["alpha"]),  # inside an HTML comment: not a heading
        ("```md\n## gamma\n```\n", ["alpha"]),  # inside a fence: not a heading
        ("> ## gamma\n", ["alpha"]),  # inside a quote: not a case
        ("## gamma ##\n", ["alpha", "gamma"]),  # closing hashes are not part of the name
    ],
)
def test_cases_are_the_headings_commonmark_renders(tmp_path: Path, hand: str, cases: list[str]):
    note = _note(tmp_path, "alpha")
    note.write_text(note.read_text() + "\n" + hand)
    assert note_cases(note) == cases
    write_note(note, entry_from_result(R45, "omega"))
    out = note.read_text()
    assert rendered_h2(out) == [*cases, "omega"]
    assert hand.strip("\n") in out


def test_replacing_a_case_a_person_headed_by_hand_keeps_their_text(tmp_path: Path):
    note = _note(tmp_path, "alpha")
    note.write_text(note.read_text() + "\ngamma\n-----\n\nMy own words.\n")
    write_note(note, entry_from_result(R45, "gamma"), replace=True)
    out = note.read_text()
    assert rendered_h2(out) == ["alpha", "gamma"] and "My own words." in out and "-----" not in out


def test_a_result_round_trips_as_json():
    assert json.loads(json.dumps(MID45))["failover_by_tier"] == {"mid-coder": 14, "frontier-reviewer": 0}


def test_a_line_written_between_the_heading_and_the_block_stays_and_the_old_block_goes(tmp_path: Path):
    note = _note(tmp_path, "alpha")
    note.write_text(note.read_text().replace("## alpha\n", "## alpha\n\nWritten by hand above.\n"))
    write_note(note, entry_from_result(R15, "alpha"), replace=True)
    out = note.read_text()
    assert "Written by hand above." in out
    assert out.count("```yaml") == 1 and "Warning zone" not in out and "The guard holds" in out
