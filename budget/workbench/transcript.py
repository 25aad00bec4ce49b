"""What the README's commands print: an exercise's commands run as a learner types them, output captured.

The Home page shows this beside each exercise's checks, so the learner sees the command line's own
words, not only a tick per clause. The commands run ``python -m budget`` (this interpreter, this
package) in a scratch folder holding a copy of the shipped specs/, scenarios/ and capstone/; an
exercise's inputs made by an earlier exercise (``out/budget_plan.json``) are made first, quietly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from budget.errors import BudgetError
from budget.workbench.exercises import EXERCISES, Exercise
from budget.workbench.library import root

COMMAND_TIMEOUT_S = 300.0  # exercise 8's sweep is the longest command (about 15 s compiled)
MAX_SHOWN_CHARS = 20_000  # a command's output shown on the page at the most (the rest is cut, saying so)
COPIED = ("specs", "scenarios", "capstone")


@dataclass(frozen=True)
class Printed:
    command: str
    exit_code: int
    output: str

    def text(self) -> str:
        return f"$ {self.command}\n{self.output}".rstrip("\n") + (
            f"\n(exit code {self.exit_code})" if self.exit_code else ""
        )


def _outs(command: str) -> list[str]:
    words = shlex.split(command)
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--out", "--csv", "--history")]


def prerequisites(ex: Exercise) -> list[str]:
    """Earlier exercises' commands that write a file this exercise reads, in the README's order."""
    before = EXERCISES[: EXERCISES.index(ex)]
    text = " ".join(ex.commands)
    return [c for e in before for c in e.commands if any(out in text for out in _outs(c))]


def _run(command: str, cwd: Path) -> Printed:
    words = shlex.split(command)
    if words[0] == "budget":
        argv = [sys.executable, "-m", "budget", *words[1:]]
    elif words[0] == "diff" and shutil.which("diff"):
        argv = [shutil.which("diff") or "diff", *words[1:]]
    else:
        return Printed(command, 2, f"{words[0]}: not run here")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return Printed(command, 1, f"stopped after {COMMAND_TIMEOUT_S:g} s")
    output = done.stdout + done.stderr
    if len(output) > MAX_SHOWN_CHARS:
        output = output[:MAX_SHOWN_CHARS] + f"\n… ({len(output) - MAX_SHOWN_CHARS:,} more characters)"
    return Printed(command, done.returncode, output)


def run_transcript(keys: list[str]) -> dict[str, list[Printed]]:
    """Each exercise's commands, run in one scratch folder in the README's order, with what they printed."""
    chosen = [e for e in EXERCISES if e.key in keys]
    if len(chosen) != len(set(keys)):
        raise BudgetError(f"exercises: unknown key in {sorted(set(keys) - {e.key for e in EXERCISES})}")
    with tempfile.TemporaryDirectory(prefix="budget-exercises-") as scratch:
        folder = Path(scratch)
        for name in COPIED:
            if (root() / name).is_dir():
                shutil.copytree(root() / name, folder / name, ignore=shutil.ignore_patterns("budget-note.md"))
        (folder / "out").mkdir()
        done: set[str] = set()
        printed: dict[str, list[Printed]] = {}
        for ex in chosen:
            for command in prerequisites(ex):
                if command not in done:
                    _run(command, folder)
                    done.add(command)
            printed[ex.key] = [_run(c, folder) for c in ex.commands]
            done.update(ex.commands)
        return printed
