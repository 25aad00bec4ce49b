"""An output never overwrites an input of the same command: refused before anything runs, one line, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from budget.cli import main

SPEC = "specs/payment_gateway_85_15.yaml"
ALERTS = "scenarios/samples/alerts.csv"
SPEND = "scenarios/samples/litellm_spend_logs.json"
RESULT = "scenarios/fail_local_45m.json"
TIERS = "qwen-coder-32b=local-coder,qwen-coder-32b-b=local-coder,gpt-4.1-mini=mid-coder,claude-opus=frontier-reviewer"

CASES = {
    "compile --out its spec": (["compile", "--budget-spec", SPEC, "--out", "{}"], SPEC),
    "simulate --out its scenario": (
        ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", RESULT, "--out", "{}"],
        RESULT,
    ),
    "note --out its result": (["note", "--result", RESULT, "--case", "beta", "--out", "{}"], RESULT),
    "drill --csv its alerts": (
        ["drill", "--budget-spec", SPEC, "--alerts", ALERTS, "--out", "d.json", "--csv", "{}"],
        ALERTS,
    ),
    "drill --history its alerts": (
        ["drill", "--budget-spec", SPEC, "--alerts", ALERTS, "--out", "d.json", "--history", "{}"],
        ALERTS,
    ),
    "drill --out its second alert file": (
        [
            "drill",
            "--budget-spec",
            SPEC,
            "--alerts",
            "scenarios/alerts_day_800.jsonl",
            "--alerts",
            ALERTS,
            "--out",
            "{}",
        ],
        ALERTS,
    ),
    "fit --out its spend log": (["fit", "--spend-logs", SPEND, "--tier-map", TIERS, "--out", "{}"], SPEND),
    "export --out its spec": (["export", "--budget-spec", SPEC, "--to", "litellm", "--out", "{}"], SPEC),
    "export --limits-out its spec": (
        ["export", "--budget-spec", SPEC, "--to", "portkey", "--out", "p.json", "--limits-out", "{}"],
        SPEC,
    ),
    "calibrate --csv its alerts": (
        ["calibrate", "--budget-spec", SPEC, "--alerts", ALERTS, "--out", "c.yaml", "--csv", "{}"],
        ALERTS,
    ),
}


def _output_as(workdir: Path, target: str, how: str) -> str:
    """The output path naming ``target``: itself, another spelling, a symlink or a hard link."""
    if how == "same path":
        return target
    if how == "another spelling":
        return f"./{Path(target).parts[0]}/../{target}"
    name = f"other-{Path(target).name}"
    if how == "symlink":
        (workdir / name).symlink_to(workdir / target)
    else:
        os.link(workdir / target, workdir / name)
    return name


@pytest.mark.parametrize("how", ["same path", "another spelling", "symlink", "hard link"])
@pytest.mark.parametrize("case", list(CASES))
def test_an_output_naming_an_input_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str, how: str
):
    monkeypatch.chdir(workdir)
    argv, target = CASES[case]
    out = _output_as(workdir, target, how)
    before = sorted(p.name for p in workdir.iterdir())
    original = (workdir / target).read_bytes()
    assert main([a.replace("{}", out) for a in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "refusing to overwrite an input" in err, err
    assert "the same file as the input --" in err and target in err
    assert (workdir / target).read_bytes() == original
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing written beside it


def test_the_drill_history_is_its_own_input_by_design(workdir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(workdir)
    argv = ["drill", "--budget-spec", SPEC, "--alerts", ALERTS, "--out", "d.json", "--history", "h.jsonl"]
    assert main(argv) in (0, 1) and main(argv) in (0, 1)
    assert len((workdir / "h.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    "command",
    [
        ["compile", "--budget-spec", "specs/with_fit.yaml", "--out", "specs/fit.yaml"],
        ["export", "--budget-spec", "specs/with_fit.yaml", "--to", "litellm", "--out", "specs/fit.yaml"],
        [
            "drill",
            "--budget-spec",
            "specs/with_fit.yaml",
            "--alerts",
            "scenarios/samples/alerts.csv",
            "--out",
            "o.json",
            "--csv",
            "specs/fit.yaml",
        ],
    ],
    ids=["compile", "export", "drill"],
)
def test_the_fragment_a_spec_includes_is_an_input_too(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
):
    """``include: fit.yaml`` is read as the spec is: an output naming it is refused, the fragment kept."""
    monkeypatch.chdir(workdir)
    fragment = "policy:\n  queue_limit: 15\n"
    (workdir / "specs" / "fit.yaml").write_text(fragment)
    spec = (workdir / "specs" / "budget_network.yaml").read_text() + "include: fit.yaml\n"
    (workdir / "specs" / "with_fit.yaml").write_text(spec)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the same file as the input include: specs/fit.yaml" in err
    assert (workdir / "specs" / "fit.yaml").read_text() == fragment
