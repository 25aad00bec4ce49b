"""All-or-nothing outputs: checked before any work, written together, rolled back, mode kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from budget.errors import BudgetError, UsageError
from budget.files import Outputs, commit_files
from budget.files import outputs as fsutil
from tests.conftest import run_cli

DRILL = ["drill", "--budget-spec", "specs/payment_gateway_85_15.yaml", "--alerts", "scenarios/alerts_day_800.jsonl"]
SIM = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_45m.json"]


def _one_line_error(proc, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    return proc.stderr


def test_out_dev_null_is_refused_and_stays_a_device(workdir: Path):
    err = _one_line_error(run_cli([*SIM, "--out", "/dev/null"], workdir), 2)
    assert "--out /dev/null: exists and is a character device; refusing to replace it" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_out_fifo_or_folder_is_refused_before_any_work(workdir: Path):
    os.mkfifo(workdir / "pipe")
    assert "a named pipe" in _one_line_error(run_cli([*SIM, "--out", "pipe"], workdir), 2)
    (workdir / "dir").mkdir()
    assert "exists and is a folder" in _one_line_error(run_cli([*SIM, "--out", "dir"], workdir), 2)
    (workdir / "file").write_text("x")
    assert "a folder on the path is a file" in _one_line_error(run_cli([*SIM, "--out", "file/r.json"], workdir), 2)


def test_two_flags_naming_one_file_are_refused(workdir: Path):
    err = _one_line_error(run_cli([*DRILL, "--out", "d.json", "--csv", "./d.json"], workdir), 2)
    assert "--csv ./d.json: the same file as --out" in err
    assert not (workdir / "d.json").exists()


def _outputs(workdir: Path) -> dict[str, bytes]:
    return {p: (workdir / p).read_bytes() for p in ("d.json", "d.csv", "h.jsonl")}


def _seed_outputs(workdir: Path) -> None:
    for p in ("d.json", "d.csv"):
        (workdir / p).write_text(f"old {p}\n")
    (workdir / "h.jsonl").write_text('{"run": 1, "spec": "specs/payment_gateway_85_15.yaml", "flow": 800}\n')


@pytest.mark.parametrize(
    "extra, pattern",
    [
        (["--down-tier", "gpu"], "unknown tier 'gpu'"),
        (["--start", "25:00"], "--start: must be a time of day"),
        (["--outages", "15,0"], "--outages: 0 must be between 1 and 1440"),
        (["--severity-map", "nope.yaml"], "nope.yaml: no such file"),
        (["--fail-under", "nan"], "--fail-under"),
    ],
)
def test_a_failed_drill_leaves_out_csv_and_history_byte_identical(workdir: Path, extra: list[str], pattern: str):
    _seed_outputs(workdir)
    before = _outputs(workdir)
    argv = [*DRILL, "--out", "d.json", "--csv", "d.csv", "--history", "h.jsonl", *extra]
    proc = run_cli(argv, workdir)
    assert pattern in _one_line_error(proc, proc.returncode) and proc.returncode in (1, 2)
    assert _outputs(workdir) == before


@pytest.mark.parametrize(
    "history, pattern",
    [
        (b'{"run": 1}\n\xff\xfe\n', r"h\.jsonl:2: not UTF-8 text"),
        (b'{"run": 1}\n{"run": 2,\n', r"h\.jsonl:2: not valid JSON"),
        (b"[1, 2]\n", r"h\.jsonl:1: must be a JSON object"),
        (b'{"spec": "specs/payment_gateway_85_15.yaml", "token_health_min": NaN}\n', r"h\.jsonl:1: not valid JSON"),
        (b'{"spec": "specs/payment_gateway_85_15.yaml", "token_health_min": "low"}\n', r"token_health_min: must be"),
    ],
)
def test_a_bad_history_fails_before_the_drill_and_is_kept(workdir: Path, history: bytes, pattern: str):
    import re

    _seed_outputs(workdir)
    (workdir / "h.jsonl").write_bytes(history)
    before = _outputs(workdir)
    err = _one_line_error(run_cli([*DRILL, "--out", "d.json", "--csv", "d.csv", "--history", "h.jsonl"], workdir), 1)
    assert re.search(pattern, err), err
    assert _outputs(workdir) == before


def test_a_good_drill_writes_all_three_and_keeps_modes(workdir: Path):
    _seed_outputs(workdir)
    os.chmod(workdir / "d.json", 0o640)
    os.chmod(workdir / "h.jsonl", 0o604)
    run_cli([*DRILL, "--out", "d.json", "--csv", "d.csv", "--history", "h.jsonl"], workdir)
    assert (workdir / "d.csv").read_text().startswith("outage_min,")
    assert len((workdir / "h.jsonl").read_text().splitlines()) == 2
    assert stat.S_IMODE((workdir / "d.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((workdir / "h.jsonl").stat().st_mode) == 0o604


def test_compile_with_a_failing_split_writes_nothing(workdir: Path):
    (workdir / "p.json").write_text("old\n")
    argv = ["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "p.json", "--expect-split", "80/20"]
    proc = run_cli(argv, workdir)
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "not written" in proc.stdout
    assert (workdir / "p.json").read_text() == "old\n"
    argv[-1] = "nan/nan"
    assert "--expect-split: split 'nan/nan'" in _one_line_error(run_cli(argv, workdir), 2)
    assert (workdir / "p.json").read_text() == "old\n"


def test_calibrate_without_a_recommendation_writes_nothing(workdir: Path):
    (workdir / "r.yaml").write_text("old\n")
    argv = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml"]
    argv += ["--alerts", "scenarios/alerts_day_800.jsonl", "--out", "r.yaml", "--csv", "s.csv"]
    argv += ["--frontier-shares", "0.1", "--reserves", "700000", "--timeouts", "120", "--thresholds", "0.6"]
    proc = run_cli([*argv, "--outages", "15", "--targets", "15:1.0", "--workers", "1"], workdir)
    assert proc.returncode == 1 and "nothing written" in proc.stdout, proc.stdout
    assert (workdir / "r.yaml").read_text() == "old\n" and not (workdir / "s.csv").exists()


def test_symlinked_output_is_written_through(tmp_path: Path):
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("real.txt")
    commit_files([(tmp_path / "link.txt", "new", "--out")])
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"


def test_a_failing_rename_rolls_back_every_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a, b = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    a.write_text("old a")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2 and str(dst) == str(b):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", flaky)
    with pytest.raises(BudgetError, match=r"sub/b\.txt: cannot write: No space left on device; no output was changed"):
        commit_files([(a, "new a", "--out"), (b, "new b", "--csv")])
    assert a.read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temp, backup or new folder left


def test_outputs_must_all_have_text():
    outs = Outputs({"--out": "x.json", "--csv": None})
    assert list(outs) == ["--out"]
    with pytest.raises(RuntimeError):
        outs.commit()


def test_empty_output_name_is_a_usage_error():
    with pytest.raises(UsageError, match="give a file name"):
        Outputs({"--out": ""})
    with pytest.raises(UsageError, match="not a valid file name"):
        Outputs({"--out": "a\x00b"})
