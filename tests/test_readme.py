"""The README is tested: every command block that shows its output is run, and the output compared.

A ```` ```sh ```` block's ``budget`` commands run in order in one scratch copy of the project (so an
exercise's files are there for the next one, as for a learner typing them). When a plain ```` ``` ````
block follows it directly (or after a paragraph ending "(abridged):" or "it prints:"), that block is what they print
(stdout and stderr, in order); a plain
block whose lines start with ``$ budget ...`` holds its own commands, each followed by what it prints.
Only paths (the scratch folder) are normalised. A line that is only ``...`` stands for any number of
lines the README leaves out, and ``...`` inside a line for any text: the rest must match exactly.

Section 11's ``python -m budget.traffic.live demo`` (a real LiteLLM proxy) runs too, in a scratch copy of
its own, and is compared with the abridged output the README shows a paragraph below it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
_ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass
class Block:
    line: int  # where its fence opens in README.md
    commands: list[str]
    shown: list[str] | None  # what the README says they print, or None when it does not say


def _commands(lines: list[str]) -> list[str]:
    """The ``budget`` commands of a shell block, continuation lines joined."""
    out: list[str] = []
    joined = ""
    for raw in lines:
        joined += raw.rstrip()
        if joined.endswith("\\"):
            joined = joined[:-1] + " "
            continue
        words = joined.split()
        while words and _ASSIGN.match(words[0]):  # NAME=value before the command: its environment
            words = words[1:]
        if words[:1] == ["budget"]:
            out.append(joined.strip())
        joined = ""
    return out


def blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    fences: list[tuple[int, str, list[str]]] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if m:
            start, body = i, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            fences.append((start, m.group(1), body))
        i += 1
    found: list[Block] = []
    for n, (start, kind, body) in enumerate(fences):
        if kind == "sh":
            shown = None
            if n + 1 < len(fences):
                nxt_start, nxt_kind, nxt_body = fences[n + 1]
                gap = lines[start + len(body) + 2 : nxt_start]
                said = [g.strip() for g in gap if g.strip()]
                if (
                    nxt_kind == ""
                    and (not said or said[-1].endswith(("(abridged):", "it prints:")))  # or a paragraph saying so
                    and not (nxt_body and nxt_body[0].startswith("$ "))
                ):
                    shown = nxt_body
            found.append(Block(start + 1, _commands(body), shown))
        elif kind == "" and body and body[0].startswith("$ budget "):
            commands: list[str] = []
            shown_lines: list[str] = []
            for ln in body:
                if ln.startswith("$ budget "):
                    commands.append(ln[2:])
                else:
                    shown_lines.append(ln)
            found.append(Block(start + 1, commands, shown_lines))
    return found


def _line_matches(expected: str, actual: str) -> bool:
    if "..." not in expected:
        return expected.rstrip() == actual.rstrip()
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` (with ``...`` lines standing for any lines) against ``actual``, whole."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(expected):
                memo[key] = j == len(actual)
            elif expected[i].strip() == "...":
                memo[key] = any(go(i + 1, k) for k in range(j, len(actual) + 1))
            else:
                memo[key] = j < len(actual) and _line_matches(expected[i], actual[j]) and go(i + 1, j + 1)
        return memo[key]

    return go(0, 0)


ALL = blocks(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[str]]:
    """Every block's commands run in README order in one scratch copy of what a learner has after a clone
    (the inputs, the capstone folder, no outputs): a block's files are there for the next one."""
    learner = tmp_path_factory.mktemp("readme")
    for name in ("specs", "scenarios", "capstone"):
        shutil.copytree(ROOT / name, learner / name)
    (learner / "capstone" / "budget-note.md").unlink(missing_ok=True)
    out: dict[int, list[str]] = {}
    for block in ALL:
        lines: list[str] = []
        for command in block.commands:
            words = shlex.split(command)
            env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
            while _ASSIGN.match(words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            proc = subprocess.run(
                [sys.executable, "-m", "budget", *words[1:]],
                cwd=learner,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one stream, unbuffered: in the order a terminal shows them
                text=True,
                timeout=300,
                env=env,
            )
            lines += proc.stdout.replace(str(learner) + "/", "").splitlines()
        out[block.line] = lines
    return out


def test_the_readme_has_commands_that_show_their_output():
    shown = [b for b in ALL if b.shown is not None and b.commands]
    assert len(shown) >= 10, [b.line for b in shown]


@pytest.mark.parametrize(
    "block", [b for b in ALL if b.commands and b.shown is not None], ids=lambda b: f"README.md:{b.line}"
)
def test_each_command_block_prints_what_the_readme_shows(printed: dict[int, list[str]], block: Block):
    assert block.shown is not None
    got = printed[block.line]
    assert matches(block.shown, got), (
        f"README.md:{block.line}: the commands print\n"
        + "\n".join(got)
        + "\n\nthe README shows\n"
        + "\n".join(block.shown)
    )


def test_elision_matches_only_what_it_should():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "b"], ["a", "b", "c"])
    assert matches(["x: alert-1, ..."], ["x: alert-1, alert-2, alert-3"])
    assert not matches(["x: alert-1, ..."], ["y: alert-1, alert-2"])


# --- section 11: the live keeper's demo (``python -m budget.traffic.live demo``), run as the README types it ---

DEMO = "python -m budget.traffic.live demo"


def demo_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """Each ``sh`` block line that runs the demo, with what the README shows it prints: the first plain block
    after it in the same section (a paragraph may stand between them). ``(line, command, shown)``."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not line.startswith(DEMO) or i == 0:
            continue
        j = i
        while j > 0 and not lines[j].startswith("```"):  # the fence that opens this block
            j -= 1
        if lines[j].strip() != "```sh":
            continue
        k = i + 1
        while not lines[k].startswith("```"):  # past the fence that closes it
            k += 1
        k += 1
        while k < len(lines) and not lines[k].startswith(("```", "#")):
            k += 1
        shown: list[str] = []
        if k < len(lines) and lines[k].strip() == "```":
            k += 1
            while not lines[k].startswith("```"):
                shown.append(lines[k])
                k += 1
        found.append((i + 1, shlex.split(line, comments=True), shown))
    return found


DEMOS = demo_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_runs_the_live_demo_and_shows_what_it_prints():
    assert [(line, " ".join(words)) for line, words, _ in DEMOS] == [
        (DEMOS[0][0], "python -m budget.traffic.live demo --minutes 6")
    ]
    assert DEMOS[0][2], "the README shows what the demo prints"


@pytest.mark.parametrize("line,words,shown", DEMOS, ids=[f"README.md:{d[0]}" for d in DEMOS])
def test_the_live_demo_prints_what_the_readme_shows(tmp_path: Path, line: int, words: list[str], shown: list[str]):
    """The demo as a learner types it after a clone: a real LiteLLM proxy on 127.0.0.1 (20-40 s)."""
    learner = tmp_path
    for name in ("specs", "scenarios", "capstone"):
        shutil.copytree(ROOT / name, learner / name)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "HOME": str(learner)}
    assert words[0] == "python"
    proc = subprocess.run(
        [sys.executable, *words[1:]],
        cwd=learner,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=240,
        env=env,
    )
    got = proc.stdout.replace(str(learner) + "/", "").splitlines()
    assert proc.returncode == 0, "\n".join(got)
    assert matches(shown, got), (
        f"README.md:{line}: the demo prints\n" + "\n".join(got) + "\n\nthe README shows\n" + "\n".join(shown)
    )
    # what the README says of the state it keeps: budget inspect checks the live day like a simulated one
    query = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15"
    check = subprocess.run(
        [sys.executable, "-m", "budget", "inspect", "--result", "out/live_keeper.sqlite", "--query", query],
        cwd=learner,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines()[-1] == "PASS: the query holds (3 of 3 clauses true)"


def test_home_shows_the_readmes_exercises_with_the_readmes_commands():
    """Home lists the README's exercises: each title is a README heading, each command one the README runs."""
    from budget.workbench import EXERCISES

    lines = README.read_text(encoding="utf-8").splitlines()
    headings = [ln.removeprefix("### ") for ln in lines if ln.startswith("### ")]
    commands = {" ".join(c.split()) for b in ALL for c in b.commands}
    for ex in EXERCISES:
        assert (f"{ex.number}. {ex.title}" if ex.number else ex.title) in headings, ex.key
        for command in ex.commands:
            if command.startswith("budget "):
                assert " ".join(command.split()) in commands, (ex.key, command)
