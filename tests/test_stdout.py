"""Standard output that cannot be written: a full disk is one line and exit 1, a closed pipe a quiet 141."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMPILE = ["compile", "--budget-spec", "specs/payment_gateway_85_15.yaml", "--out", "plan.json"]
DRILL = ["drill", "--budget-spec", "specs/payment_gateway_85_15.yaml", "--alerts", "scenarios/samples/alerts.csv"]


def _run(args: list[str], cwd: Path, stdout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "budget", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args, name",
    [(COMPILE, "budget compile"), ([*DRILL, "--out", "d.json"], "budget drill"), (["--help"], "budget")],
)
def test_a_full_disk_on_stdout_is_one_line_and_exit_1(workdir: Path, args: list[str], name: str):
    with open("/dev/full", "w") as full:
        proc = _run(args, workdir, full.fileno())
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [f"{name}: error: cannot write to standard output: No space left on device"], (
        proc.stderr
    )


@pytest.mark.parametrize("args", [[*DRILL, "--out", "d.json"], COMPILE, ["--help"]])
def test_a_closed_pipe_exits_141_quietly(workdir: Path, args: list[str]):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before a byte is written, as `| head -0` leaves it
    try:
        proc = _run(args, workdir, write)
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr
    if args is COMPILE:
        assert (workdir / "plan.json").exists()  # the outputs were written before the report was cut


def test_a_pipe_to_head_ends_quietly(workdir: Path):
    cmd = " ".join([sys.executable, "-m", "budget", *DRILL, "--out", "d.json"]) + " | head -1"
    proc = subprocess.run(
        ["sh", "-c", cmd],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout.startswith("scenarios/samples/alerts.csv: csv") and len(proc.stdout.splitlines()) == 1
    assert proc.stderr == "", proc.stderr
