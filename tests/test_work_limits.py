"""Limits that bound work: counted before anything large is built, the same in the code and in docs/limits.md,
and what one command writes the next accepts."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from budget.calibration import grid
from budget.cli import main
from budget.errors import UsageError
from budget.files import limits
from budget.traffic import spendlog
from tests.conftest import ROOT

SPEC = "specs/payment_gateway_85_15.yaml"
TIERS = "qwen-coder-32b=local-coder,qwen-coder-32b-b=local-coder,gpt-4.1-mini=mid-coder,claude-opus=frontier-reviewer"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    return err


def _days(path: Path, days: int) -> None:
    """A stream of one alert a day."""
    day0 = datetime(2020, 1, 1, 11, tzinfo=UTC)
    with path.open("w") as fh:
        for i in range(days):
            at = (day0 + timedelta(days=i)).isoformat()
            fh.write(json.dumps({"id": f"a{i}", "timestamp": at, "severity": "warning", "service": "api"}) + "\n")


def test_a_huge_grid_is_refused_before_it_is_built():
    axis = list(range(100))
    started = time.monotonic()
    with pytest.raises(UsageError, match="100,000,000 variants, over the limit of 1,000"):
        grid([x / 100 + 0.001 for x in axis], axis, [x + 1.0 for x in axis], [x / 100 for x in axis])
    assert time.monotonic() - started < 1  # 10^8 variants would take ~20 s and a GiB to build


def test_calibrate_refuses_a_huge_grid_in_one_line(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    sweep = ["--frontier-shares", "0.01:0.99:0.01", "--reserves", "0:99:1", "--timeouts", "1:100:1"]
    argv = ["calibrate", "--budget-spec", SPEC, "--alerts", "scenarios/samples/alerts.csv", *sweep]
    argv += ["--thresholds", "0.01:0.99:0.01", "--out", "c.yaml", "--csv", "c.csv"]
    assert main(argv) == 2
    assert "98,010,000 variants, over the limit of 1,000" in _one_line(capsys)


def test_two_thousand_days_of_one_alert_are_refused_by_the_day_limit(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    _days(workdir / "days.jsonl", 2000)
    started = time.monotonic()
    assert main(["drill", "--budget-spec", SPEC, "--alerts", "days.jsonl", "--out", "d.json"]) == 2
    err = _one_line(capsys)
    assert "2,000 days x 4 runs = 8,000 day replays, over the 120 limit" in err
    sweep = ["calibrate", "--budget-spec", SPEC, "--alerts", "days.jsonl", "--out", "c.yaml", "--csv", "c.csv"]
    assert main(sweep) == 2
    assert "2,000 days x 660 runs = 1,320,000 day replays, over the 5,000 limit" in _one_line(capsys)
    assert time.monotonic() - started < 10 and not (workdir / "d.json").exists()


def test_a_drill_of_a_few_days_is_within_the_limit(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    _days(workdir / "days.jsonl", 3)
    assert main(["drill", "--budget-spec", SPEC, "--alerts", "days.jsonl", "--out", "d.json"]) in (0, 1)
    assert len(json.loads((workdir / "d.json").read_text())["days"]) == 3


def test_review_reads_a_history_up_to_the_limit_drill_writes(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    week = (workdir / "scenarios" / "drill_history_week.jsonl").read_text()
    copies = (6 * 1024 * 1024) // len(week) + 1  # over 5 MiB, the old bound review read with
    (workdir / "h.jsonl").write_text(week * copies)
    argv = ["drill", "--budget-spec", SPEC, "--alerts", "scenarios/samples/alerts.csv", "--out", "d.json"]
    assert main([*argv, "--history", "h.jsonl"]) in (0, 1)  # drill appends to it
    assert main(["review", "--history", "h.jsonl", "--spec", "specs/payment_gateway_80_20_mid.yaml"]) in (0, 1)
    assert "larger than" not in capsys.readouterr().err


def test_a_history_is_never_written_past_its_limit(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    history = workdir / "h.jsonl"
    history.write_text((workdir / "scenarios" / "drill_history_week.jsonl").read_text())
    before = history.read_bytes()
    monkeypatch.setattr("budget.drill.history.MAX_HISTORY_BYTES", len(before) + 10)
    argv = ["drill", "--budget-spec", SPEC, "--alerts", "scenarios/samples/alerts.csv", "--out", "d.json"]
    assert main([*argv, "--history", "h.jsonl"]) == 1
    assert "would take the history past the" in _one_line(capsys)
    assert history.read_bytes() == before and not (workdir / "d.json").exists()
    assert not [p.name for p in workdir.iterdir() if p.name.startswith(".")]  # the lock is released and removed


@pytest.mark.parametrize(
    "tokens, message", [(10**15, "record 1 (request_id"), (9_000_000, "policy.tokens_per_incident")]
)
def test_fit_of_absurd_token_counts_names_the_file(workdir, monkeypatch, capsys, tokens, message):
    monkeypatch.chdir(workdir)
    rows = json.loads((workdir / "scenarios" / "samples" / "litellm_spend_logs.json").read_text())
    for row in rows:
        row["total_tokens"], row["prompt_tokens"] = tokens, tokens - row["completion_tokens"]
    (workdir / "big.json").write_text(json.dumps(rows))
    assert main(["fit", "--spend-logs", "big.json", "--tier-map", TIERS, "--out", "f.yaml"]) == 1
    err = _one_line(capsys)
    assert err.startswith("budget: error: big.json") and message in err


_UNITS = {"MiB": 1024 * 1024, "KiB": 1024, "days": 86400}
_TABLE_ROW = re.compile(r"^\| `(MAX_[A-Z_]+)`(?:, `(MAX_[A-Z_]+)`)? \| ([^|]+) \|", re.M)


def _doc_number(text: str) -> int:
    m = re.fullmatch(r"\s*([\d,]+)\s*(MiB|KiB|days)?\s*", text)
    assert m, f"not a limit's value: {text!r}"
    return int(m.group(1).replace(",", "")) * _UNITS.get(m.group(2) or "", 1)


def test_every_limit_in_the_docs_is_the_one_the_code_enforces():
    rows = _TABLE_ROW.findall((ROOT / "docs" / "limits.md").read_text())
    assert len(rows) > 20
    documented = set()
    for first, second, value in rows:
        names = [n for n in (first, second) if n]
        numbers = [_doc_number(v) for v in (value.split(", ") if second else [value])]
        for name, number in zip(names, numbers, strict=True):
            home = spendlog if name == "MAX_SPEND_LOG_BYTES" else limits  # the spend log's reader keeps its own
            assert getattr(home, name) == number, f"docs/limits.md says {name} is {value.strip()}"
            documented.add(name)
    in_code = {n for n in dir(limits) if n.startswith("MAX_")} | {"MAX_SPEND_LOG_BYTES"}
    assert in_code == documented, f"limits not in docs/limits.md: {sorted(in_code - documented)}"


@pytest.mark.parametrize("index", ["9" * 5000, "9" * 19, "²", "-" + "9" * 4400])
def test_a_query_index_of_any_size_is_a_query_error(index: str):
    from budget.errors import QueryError
    from budget.gateway import evaluate

    with pytest.raises(QueryError, match="query: column"):  # what the Simulator's query box shows, not a crash
        evaluate(f"timeline.{index} == 1", {"timeline": [{"minute": 0}]})


def test_a_drill_never_writes_a_result_inspect_would_refuse(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    monkeypatch.setattr("budget.cli.drill_commands.MAX_RESULT_BYTES", 1000)
    argv = ["drill", "--budget-spec", SPEC, "--alerts", "scenarios/samples/alerts.csv", "--out", "d.json"]
    assert main([*argv, "--history", "h.jsonl"]) == 1
    assert "over the 1,000 that inspect and validate read" in _one_line(capsys)
    assert sorted(p.name for p in workdir.iterdir()) == ["scenarios", "specs"]  # no result, no history, no lock


def test_the_longest_drill_the_day_limit_allows_is_read_back(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    _days(workdir / "days.jsonl", limits.MAX_DRILL_DAY_RUNS // 4)  # 30 days at the default three outages
    argv = ["drill", "--budget-spec", SPEC, "--alerts", "days.jsonl", "--out", "d.json"]
    assert main(argv) in (0, 1)
    assert main(["inspect", "--result", "d.json", "--query", "days.29.flow == 1"]) == 0, capsys.readouterr()
