"""The note is a ledger: concurrent writers lose nothing, no field hides another case, other text stays."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from budget.errors import BudgetError
from budget.keeper import simulate
from budget.model import load_scenario, load_spec
from budget.workbench import entry_from_result, merge_note, note_cases, split_note, write_note
from tests.conftest import ROOT, run_cli

SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")
RESULT = simulate(SPEC, load_scenario(ROOT / "scenarios" / "fail_local_45m.json", SPEC)).to_dict()
BREAKS = ["\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\n\n\n"]
PAYLOADS = ["```", "~~~", "## hidden", "# title", "<!--", "```yaml\n## x\n```", "\\", '"quoted"', "`"]


def rendered_h2(text: str) -> list[str]:
    """The level-2 headings a CommonMark renderer shows."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]


def _writer(path: str, who: int, rounds: int) -> None:
    for k in range(rounds):
        write_note(path, entry_from_result(RESULT, f"w{who}-{k:03d}"))


def test_two_writers_100_rounds_each_lose_nothing(tmp_path: Path):
    note = tmp_path / "capstone" / "budget-note.md"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(note), who, 100)) for who in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    cases = note_cases(note)
    assert len(cases) == 200 and len(set(cases)) == 200
    assert sorted(os.listdir(note.parent)) == ["budget-note.md"]  # no lock or temp file left behind


def _simulated(workdir: Path) -> None:
    sim = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_45m.json"]
    assert run_cli([*sim, "--out", "r.json"], workdir).returncode == 0


def test_six_cli_writers_at_once_lose_nothing(workdir: Path):
    _simulated(workdir)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "budget", "note", "--result", "r.json", "--case"]
    procs = [
        subprocess.Popen([*argv, f"c{i}"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(6)
    ]
    assert all(p.wait(120) == 0 for p in procs)
    assert sorted(note_cases(workdir / "capstone" / "budget-note.md")) == [f"c{i}" for i in range(6)]


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("field", ["risk", "effect", "decision"])
def test_line_breaks_in_a_field_never_hide_another_case(tmp_path: Path, brk: str, field: str):
    note = tmp_path / "note.md"
    write_note(note, entry_from_result(RESULT, "before"))
    for payload in PAYLOADS:
        evil = {field: f"x{brk}{payload}{brk}## after{brk}```{brk}"}
        write_note(note, entry_from_result(RESULT, "evil", **evil), replace=True)
        write_note(note, entry_from_result(RESULT, "after"), replace=True)
        text = note.read_text()
        assert rendered_h2(text) == ["before", "evil", "after"], (payload, text)
        assert note_cases(note) == ["before", "evil", "after"]
        for line in text.splitlines():
            if line.startswith(f"{field}:"):
                assert all(b not in line for b in ("\r", "\u2028", "\u2029", "\x85")), line
    write_note(note, entry_from_result(RESULT, "before", decision="again"), replace=True)
    assert rendered_h2(note.read_text()) == ["before", "evil", "after"]


@pytest.mark.parametrize("case", ["a\n", "a\r", "a\r\n", "a\u2028", "a\x85", "a\n## b", "a b", "", "```"])
def test_case_names_are_one_plain_word(case: str):
    with pytest.raises(BudgetError, match="case name"):
        entry_from_result(RESULT, case)


@pytest.mark.parametrize("bad", ["\x1b[31m", "\x00", "\u202e", "\x7f"])
def test_other_control_characters_are_refused(bad: str):
    with pytest.raises(BudgetError, match="control character"):
        entry_from_result(RESULT, "x", risk=f"a{bad}b")


def test_source_with_backticks_stays_in_its_code_span(tmp_path: Path):
    text = merge_note(None, entry_from_result(RESULT, "a", source="odd`name<!--.json"))
    text = merge_note(text, entry_from_result(RESULT, "b"))
    assert rendered_h2(text) == ["a", "b"]


def test_readme_preamble_and_hand_text_are_kept_also_on_replace(tmp_path: Path):
    note = tmp_path / "budget-note.md"
    readme = "# Capstone\n\nRead me first.\n\n```sh\nbudget note ...\n## not a case\n```\n"
    note.write_text(readme)
    write_note(note, entry_from_result(RESULT, "a"))
    write_note(note, entry_from_result(RESULT, "b"))
    note.write_text(note.read_text().replace("## a\n", "## a\n\nWritten by hand above.\n") + "\nBelow, by hand.\n")
    write_note(note, entry_from_result(RESULT, "b", decision="changed"), replace=True)
    write_note(note, entry_from_result(RESULT, "a", decision="changed too"), replace=True)
    text = note.read_text()
    assert text.startswith(readme.rstrip("\n"))
    assert "Written by hand above." in text and "Below, by hand." in text
    assert text.count('decision: "changed"') == 1 and text.count('decision: "changed too"') == 1
    assert note_cases(note) == ["a", "b"]


def test_note_keeps_its_mode(tmp_path: Path):
    note = tmp_path / "budget-note.md"
    write_note(note, entry_from_result(RESULT, "a"))
    os.chmod(note, 0o640)
    write_note(note, entry_from_result(RESULT, "b"))
    assert stat.S_IMODE(note.stat().st_mode) == 0o640


def test_new_note_mode_follows_the_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        write_note(tmp_path / "n.md", entry_from_result(RESULT, "a"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.md").stat().st_mode) == 0o644


def test_crlf_note_is_read_as_markdown_reads_it(tmp_path: Path):
    text = merge_note(None, entry_from_result(RESULT, "a")).replace("\n", "\r\n")
    preamble, sections = split_note(text + "## b\r\nhand\r\n")
    assert list(sections) == ["a", "b"] and preamble.startswith("# Budget note")


def test_a_failed_note_leaves_the_note_byte_identical(workdir: Path):
    _simulated(workdir)
    note = workdir / "capstone" / "budget-note.md"
    assert run_cli(["note", "--result", "r.json", "--case", "a"], workdir).returncode == 0
    before = note.read_bytes()
    bad = (
        ["--case", "a"],
        ["--case", "b\n"],
        ["--case", "c", "--alert-threshold", "nan"],
        ["--case", "d", "--risk", "x\x1b"],
    )
    for argv in bad:
        proc = run_cli(["note", "--result", "r.json", *argv], workdir)
        assert proc.returncode in (1, 2) and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert note.read_bytes() == before
    assert sorted(os.listdir(note.parent)) == ["budget-note.md"]
