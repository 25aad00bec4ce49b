"""Signals at exact points of a write: every output all old or all new, nothing left beside it, one line.

Each run is a real ``python -m budget`` whose ``os.fsync``, ``os.link`` or
``os.replace`` sends the process a real signal on its n-th call: during a
temporary file's write (the outputs stay old), while the old files are kept
(old), between two renames (new: the renames finish first). The sweep's workers
get a real Ctrl-C to their group, and a parent killed outright.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUNNER = """
import os, sys
point, signum, nth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
real = getattr(os, point)
calls = [0]
def hooked(*args, **kwargs):
    calls[0] += 1
    if point != "replace" and calls[0] == nth:
        os.kill(os.getpid(), signum)  # during this step: before it is done
    out = real(*args, **kwargs)
    if point == "replace" and calls[0] == nth:
        os.kill(os.getpid(), signum)  # between two renames: after the n-th
    return out
setattr(os, point, hooked)
sys.argv = ["budget", *sys.argv[4:]]
from budget.cli import run
run()
"""

SPEC = "specs/payment_gateway_85_15.yaml"
ALERTS = "scenarios/samples/alerts.csv"
DRILL = ["drill", "--budget-spec", SPEC, "--alerts", ALERTS, "--out", "o/d.json", "--csv", "o/d.csv"]
DRILL_H = [*DRILL, "--history", "o/h.jsonl"]
SWEEP = ["--frontier-shares", "0.15,0.2", "--reserves", "700000", "--timeouts", "120", "--thresholds", "0.6"]
CALIBRATE = [
    "calibrate",
    "--budget-spec",
    SPEC,
    "--alerts",
    ALERTS,
    *SWEEP,
    "--targets",
    "15:0.0",
    "--max-silent-p0",
    "1",
    "--out",
    "o/c.yaml",
    "--csv",
    "o/c.csv",
    "--quiet",
]
COMPILE = ["compile", "--budget-spec", SPEC, "--out", "o/plan.json"]
SIMULATE = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_15m.json"]
NOTE = [
    "note",
    "--result",
    "o/r.json",
    "--case",
    "beta",
    "--out",
    "o/note.md",
    "--replace",
    "--alert-threshold",
    "0.95",
]
EXPECTED_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def _as_at_a_terminal() -> None:
    """The child starts with the three signals at their defaults, as a command typed at a terminal does.

    A run in the background (``make test &``, nohup, some CI runners) inherits SIGINT, and under nohup
    SIGHUP, ignored; the command rightly keeps ignoring what it was told to ignore, so the tests that
    deliver those signals give the child the dispositions they mean to test.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def hooked_run(cwd: Path, point: str, sig: int, nth: int, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, point, str(int(sig)), str(nth), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        preexec_fn=_as_at_a_terminal,
    )


def run(cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return hooked_run(cwd, "getpid", signal.SIGINT, 0, args)  # the hook never fires: a plain run


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def seed(workdir: Path, names: list[str]) -> dict[str, bytes]:
    out = workdir / "o"
    out.mkdir(exist_ok=True)
    for name in names:
        text = '{"run": 1, "spec": "old", "flow": 1}\n' if name.endswith(".jsonl") else f"old {name}\n"
        (out / name).write_text(text)
    return snapshot(out)


def interrupted(proc: subprocess.CompletedProcess[str], sig: int) -> None:
    assert proc.returncode == EXPECTED_EXIT[sig], (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.splitlines() == [f"budget: interrupted ({signal.Signals(sig).name})"], proc.stderr


def all_old_or_all_new(before: dict[str, bytes], after: dict[str, bytes], new: bool) -> None:
    assert sorted(after) == sorted(before), f"files left or lost beside the outputs: {sorted(after)}"
    changed = [name for name in before if after[name] != before[name]]
    assert changed == (list(before) if new else []), f"mixed outputs: changed {changed} of {list(before)}"


@pytest.mark.parametrize(
    "point, nth, new, sig",
    [
        ("fsync", 1, False, signal.SIGTERM),  # writing the first temp (--out)
        ("fsync", 3, False, signal.SIGHUP),  # writing the last temp (--history)
        ("fsync", 2, False, signal.SIGINT),
        ("link", 2, True, signal.SIGTERM),  # keeping a link to the old files: signals wait, the renames follow
        ("replace", 1, True, signal.SIGINT),  # after the first rename: the others follow, then the signal acts
        ("replace", 2, True, signal.SIGHUP),
        ("replace", 1, True, signal.SIGTERM),
    ],
)
def test_drill_outputs_are_all_old_or_all_new(workdir: Path, sig: int, point: str, nth: int, new: bool):
    before = seed(workdir, ["d.json", "d.csv", "h.jsonl"])
    interrupted(hooked_run(workdir, point, sig, nth, DRILL_H), sig)
    after = snapshot(workdir / "o")
    all_old_or_all_new(before, after, new)
    if new:
        history = after["h.jsonl"].decode().splitlines()
        assert len(history) == 2 and json.loads(history[1])["run"] == 2
        assert json.loads(after["d.json"])["review"]["run"] == 2
    again = run(workdir, DRILL_H)  # the next run works and appends after what is there
    assert again.returncode in (0, 1) and not again.stderr, again.stderr
    assert len((workdir / "o" / "h.jsonl").read_text().splitlines()) == (3 if new else 2)


@pytest.mark.parametrize("point, nth, new", [("fsync", 2, False), ("link", 1, True), ("replace", 1, True)])
def test_calibrate_outputs_are_all_old_or_all_new(workdir: Path, point: str, nth: int, new: bool):
    before = seed(workdir, ["c.yaml", "c.csv"])
    interrupted(hooked_run(workdir, point, signal.SIGTERM, nth, CALIBRATE), signal.SIGTERM)
    all_old_or_all_new(before, snapshot(workdir / "o"), new)
    assert run(workdir, CALIBRATE).returncode == 0


@pytest.mark.parametrize("point, new, sig", [("fsync", False, signal.SIGHUP), ("replace", True, signal.SIGINT)])
def test_compile_leaves_no_temp_when_stopped(workdir: Path, point: str, new: bool, sig: int):
    before = seed(workdir, ["plan.json"])
    interrupted(hooked_run(workdir, point, sig, 1, COMPILE), sig)
    all_old_or_all_new(before, snapshot(workdir / "o"), new)


def test_a_new_output_stopped_while_written_leaves_nothing(workdir: Path):
    interrupted(hooked_run(workdir, "fsync", signal.SIGTERM, 1, COMPILE), signal.SIGTERM)
    assert not (workdir / "o").exists()  # the folder made for it is removed too
    assert run(workdir, COMPILE).returncode == 0


@pytest.mark.parametrize(
    "point, new, sig",
    [
        ("fsync", False, signal.SIGINT),
        ("fsync", False, signal.SIGTERM),
        ("link", True, signal.SIGHUP),
        ("replace", True, signal.SIGTERM),
    ],
)
def test_note_leaves_no_backup_and_no_stale_lock(workdir: Path, point: str, new: bool, sig: int):
    assert run(workdir, [*SIMULATE, "--out", "o/r.json"]).returncode == 0
    assert run(workdir, [*NOTE[:4], "alpha", *NOTE[5:]]).returncode == 0
    before = snapshot(workdir / "o")
    interrupted(hooked_run(workdir, point, sig, 1, NOTE), sig)
    after = snapshot(workdir / "o")
    assert sorted(after) == ["note.md", "r.json"], sorted(after)  # no .bak, no .tmp, no .note.md.lock
    assert ("beta" in after["note.md"].decode()) is new and after["r.json"] == before["r.json"]
    assert run(workdir, NOTE).returncode == 0  # the lock is free: the next note goes in


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def _start_sweep(workdir: Path) -> tuple[subprocess.Popen[str], list[int]]:
    args = [*CALIBRATE[:4], "scenarios/alerts_day_800.jsonl", "--workers", "2", "--out", "o/c.yaml"]
    args += ["--csv", "o/c.csv", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "budget", *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group: the test's Ctrl-C goes to the whole group, as a terminal's does
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        preexec_fn=_as_at_a_terminal,
    )
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) == 2, "the sweep did not start two workers"
    time.sleep(0.5)  # the workers are busy with their first tasks
    return proc, workers


def _gone(workers: list[int]) -> bool:
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(w) for w in workers)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_stopped_sweep_stops_its_workers_and_says_one_line(workdir: Path, how: str):
    proc, workers = _start_sweep(workdir)
    try:
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sig = signal.SIGINT if how == "ctrl-c" else signal.SIGTERM
    assert proc.returncode == EXPECTED_EXIT[sig] and err.splitlines() == [f"budget: interrupted ({sig.name})"], err
    assert _gone(workers), "a worker outlived its parent"
    assert not (workdir / "o").exists()


def test_a_killed_sweep_parent_takes_its_workers_with_it(workdir: Path):
    proc, workers = _start_sweep(workdir)
    proc.kill()
    proc.communicate(timeout=20)
    assert _gone(workers), "the workers were orphaned"


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130():
    """The console script (budget.__main__:run) loads the CLI itself: a Ctrl-C in that import is not a traceback."""
    script = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'budget.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "from budget.__main__ import run\n"
        "run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "budget: interrupted (SIGINT)\n", "")


def test_the_budget_command_a_learner_types_is_that_loader():
    script = Path(sys.executable).parent / "budget"  # the console script the venv's install wrote
    assert "from budget.__main__ import run" in script.read_text()
