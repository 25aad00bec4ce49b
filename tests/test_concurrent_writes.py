"""Many writers of one file at once: every appended record is kept (the history's read-modify-write is locked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from budget.files import locked
from tests.conftest import ROOT

WRITERS = 8


def test_eight_drills_at_once_keep_eight_history_records(workdir: Path):
    argv = [sys.executable, "-m", "budget", "drill", "--budget-spec", "specs/payment_gateway_85_15.yaml"]
    argv += ["--alerts", "scenarios/samples/alerts.csv", "--history", "h.jsonl"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [*argv, "--out", f"d{i}.json"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for i in range(WRITERS)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode in (0, 1) for p in procs) and not any(errors), errors
    records = [json.loads(line) for line in (workdir / "h.jsonl").read_text().splitlines()]
    assert sorted(r["run"] for r in records) == list(range(1, WRITERS + 1))  # none lost, none numbered twice
    runs = sorted(json.loads((workdir / f"d{i}.json").read_text())["review"]["run"] for i in range(WRITERS))
    assert runs == list(range(1, WRITERS + 1))  # each drill's result names the record it appended
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []  # no lock file left


def test_the_lock_is_released_and_removed_when_the_holder_fails(tmp_path: Path):
    target = tmp_path / "h.jsonl"
    try:
        with locked(target):
            assert (tmp_path / ".h.jsonl.lock").exists()
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert not (tmp_path / ".h.jsonl.lock").exists()
    with locked(target, timeout=0.5):  # free again at once
        pass


def test_a_lock_in_a_new_folder_leaves_nothing_when_the_writer_fails(tmp_path: Path):
    try:
        with locked(tmp_path / "new" / "deeper" / "h.jsonl"):
            assert (tmp_path / "new" / "deeper" / ".h.jsonl.lock").exists()
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert list(tmp_path.iterdir()) == []  # the folders made for the lock are gone with it


def test_a_drill_history_in_a_new_folder_is_created(workdir: Path):
    argv = [sys.executable, "-m", "budget", "drill", "--budget-spec", "specs/payment_gateway_85_15.yaml"]
    argv += ["--alerts", "scenarios/samples/alerts.csv", "--history", "out/hist/h.jsonl", "--out", "out/d.json"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1) and not proc.stderr, proc.stderr
    assert sorted(p.name for p in (workdir / "out" / "hist").iterdir()) == ["h.jsonl"]
