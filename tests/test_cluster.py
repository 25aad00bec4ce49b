"""calibrate --scheduler: the sweep on a Dask cluster gives the local table byte for byte."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from budget.calibration import calibrate, grid
from budget.drill import load_alerts
from budget.model import load_spec
from tests.conftest import ROOT, run_cli

distributed = pytest.importorskip("distributed")

DAY, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
MID = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
SWEEP = [
    "--frontier-shares",
    "0.15:0.20:0.05",
    "--reserves",
    "2000000",
    "--timeouts",
    "60,120",
    "--thresholds",
    "0.65",
    "--outages",
    "15,30",
    "--quiet",
]


@pytest.fixture(scope="module")
def scheduler():
    """A one-worker cluster on the loopback (threads in this process, reached over TCP)."""
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_the_cluster_gives_the_local_table(scheduler: str):
    variants = grid([0.10, 0.20], [700_000, 2_000_000], [60, 120], [0.60])
    local = calibrate(MID, DAY[:300], variants, outages=(15, 30), workers=1)
    remote = calibrate(MID, DAY[:300], variants, outages=(15, 30), scheduler=scheduler)
    assert remote.csv() == local.csv()
    assert remote.recommended == local.recommended


def test_the_cli_on_a_cluster_writes_the_same_files(scheduler: str, workdir: Path):
    base = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml"]
    base += ["--alerts", "scenarios/alerts_day_800.jsonl", *SWEEP]
    here = run_cli([*base, "--out", "local.yaml", "--csv", "local.csv", "--workers", "1"], workdir)
    there = run_cli([*base, "--out", "dask.yaml", "--csv", "dask.csv", "--scheduler", scheduler], workdir)
    assert here.returncode == there.returncode == 0, there.stderr
    assert (workdir / "dask.csv").read_bytes() == (workdir / "local.csv").read_bytes()
    assert (workdir / "dask.yaml").read_bytes() == (workdir / "local.yaml").read_bytes()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(workdir: Path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml"]
    args += ["--alerts", "scenarios/alerts_day_800.jsonl", *SWEEP, "--out", "r.yaml", "--csv", "r.csv"]
    proc = run_cli([*args, "--scheduler", f"tcp://127.0.0.1:{port}"], workdir)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"budget calibrate: usage error: --scheduler tcp://127.0.0.1:{port}: "
        "cannot reach a Dask scheduler (Connection refused) (see budget calibrate --help)"
    ]
    assert not (workdir / "r.csv").exists() and not (workdir / "r.yaml").exists()
