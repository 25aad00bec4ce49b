"""budget review: each revisit signal firing and not, on hand-built histories; the drill's evidence; the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from budget.drill import (
    FIRES,
    NO_DATA,
    QUIET,
    apply_history,
    history_entry,
    history_from_text,
    load_alerts,
    read_history,
    review,
    run_drill,
)
from budget.errors import BudgetError
from budget.model import load_spec
from tests.conftest import ROOT, run_cli

D0 = date(2026, 9, 1)


def run_ev(failover=3, critical=2, waited=(), wide=(), after=5, opened=None) -> dict:
    return {
        "token_health_min": 0.8,
        "failover_to_frontier": failover,
        "manual_queue": after,
        "manual_after_timeout": after,
        "critical": critical,
        "critical_waited": len(waited),
        "critical_waited_ids": list(waited),
        "frontier_noncritical": len(wide),
        "frontier_noncritical_ids": list(wide),
        "manual_opened": opened,
    }


def rec(offset: int, health=0.8, degraded=0, spent=0.8, runs=None, spec="s.yaml", old=False) -> dict:
    r = {
        "run": offset + 1,
        "day": (D0 + timedelta(days=offset)).isoformat(),
        "spec": spec,
        "flow": 800,
        "token_health_min": health,
        "outages": {"15": health},
    }
    if old:
        return r
    r |= {"daily_budget_tokens": 1_000_000, "queue_limit": 15}
    r["baseline"] = {"token_health_min": 1.0, "degraded_queue": degraded, "spent_tokens": 0, "spent_share": spent}
    r["runs"] = runs if runs is not None else {"15": run_ev()}
    return r


def signals(records: list[dict], spec: str | None = None) -> dict:
    text = "".join(json.dumps(r) + "\n" for r in records)
    result = review(history_from_text(text, "h.jsonl"), "h.jsonl", spec)
    return {s.key: s for s in result.signals}


def status(records: list[dict], key: str) -> str:
    return signals(records)[key].status


# --- the appendix's five ----------------------------------------------------------------------


def test_no_degraded_mode_in_a_month():
    month = [rec(i) for i in range(30)]
    s = signals(month)["no_degraded_mode"]
    assert s.status == FIRES and "on any of 30 days from 2026-09-01 to 2026-09-30" in s.finding
    month[12] = rec(12, degraded=4)
    s = signals(month)["no_degraded_mode"]
    assert s.status == QUIET and s.evidence == ["2026-09-13: 4 tasks degraded on the day as it happened"]
    assert status([rec(i) for i in range(7)], "no_degraded_mode") == NO_DATA  # a week cannot say "a month"
    assert status([rec(i, old=True) for i in range(30)], "no_degraded_mode") == NO_DATA


def test_health_below_half_more_than_once_a_week():
    week = [rec(i, health=0.45 if i in (1, 5) else 0.8) for i in range(7)]
    s = signals(week)["health_below_half"]
    assert s.status == FIRES
    assert [e.split(":")[0] for e in s.evidence] == ["2026-09-02", "2026-09-06"]
    apart = [rec(i, health=0.45 if i in (0, 8) else 0.8) for i in range(14)]
    assert status(apart, "health_below_half") == QUIET
    assert status([rec(0, health=0.45), rec(1)], "health_below_half") == NO_DATA
    old = [rec(i, health=0.4, old=True) for i in range(2)]  # old records have token_health_min: enough
    assert status(old, "health_below_half") == FIRES


def test_failover_stuck_at_zero():
    stuck = {"15": run_ev(failover=0, critical=2, waited=("a-1", "a-2")), "30": run_ev(failover=0, critical=3)}
    s = signals([rec(0), rec(1, runs=stuck)])["failover_stuck"]
    assert s.status == FIRES
    assert s.evidence[0].startswith("2026-09-02: no failover in the 15m outage (2 P0/P1 arrived; waited: a-1, a-2)")
    partly = {"15": run_ev(failover=0, critical=2), "30": run_ev(failover=1, critical=3)}
    assert status([rec(0, runs=partly)], "failover_stuck") == QUIET
    none_critical = {"15": run_ev(failover=0, critical=0)}
    assert status([rec(0, runs=none_critical)], "failover_stuck") == NO_DATA


def test_evidence_cut_to_the_records_ids_says_how_many_more_there_were():
    ids = tuple(f"a-{n}" for n in range(1, 11))  # a record keeps 10 ids and the full count
    stuck = run_ev(failover=0, critical=13, waited=ids) | {"critical_waited": 13}
    s = signals([rec(0, runs={"15": stuck})])["failover_stuck"]
    assert s.evidence[0].endswith(f"(13 P0/P1 arrived; waited: {', '.join(ids)} and 3 more)")
    whole = run_ev(failover=0, critical=10, waited=ids)
    assert signals([rec(0, runs={"15": whole})])["failover_stuck"].evidence[0].endswith(f"{', '.join(ids)})")
    wide = run_ev(wide=ids) | {"frontier_noncritical": 12}
    assert signals([rec(0, runs={"15": wide})])["failover_too_wide"].evidence == [
        f"2026-09-01, 15m outage: 12 P2/P3 tasks ({', '.join(ids)} and 2 more)"
    ]
    # the manual channel's record keeps no count: a full list says it may be cut
    opened = run_ev(opened={"time": "11:02", "queue": 12, "tasks": list(ids)})
    evidence = signals([rec(0, runs={"15": opened})])["manual_nervous"].evidence
    assert evidence[0].endswith(f"(limit 15): {', '.join(ids)} (the record keeps the first 10)")


def test_manual_queue_growing_two_months_in_a_row():
    def month(offset: int, after: int) -> list[dict]:
        return [rec(offset + i, runs={"15": run_ev(after=after)}) for i in range(3)]

    growing = month(0, 4) + month(30, 6) + month(61, 9)  # September, October, November
    s = signals(growing)["manual_growth"]
    assert s.status == FIRES and s.evidence == ["15m outage: 2026-09 4.0 -> 2026-10 6.0 -> 2026-11 9.0"]
    assert status(month(0, 4) + month(30, 6) + month(61, 5), "manual_growth") == QUIET
    assert status(month(0, 4) + month(30, 6), "manual_growth") == NO_DATA
    assert status(month(0, 4) + month(30, 6) + month(92, 9), "manual_growth") == NO_DATA  # December missing


def test_less_than_60_percent_spent_in_a_day():
    s = signals([rec(0), rec(1, spent=0.55)])["low_spend"]
    assert s.status == FIRES and s.evidence == ["2026-09-02: 55.0% of 1,000,000 spent"]
    assert status([rec(0), rec(1, spent=0.6)], "low_spend") == QUIET


def test_a_day_just_under_60_percent_never_reads_as_60():
    # the test is spent_share < 0.60; the evidence is rounded down, so it never shows the threshold itself
    just_under = signals([rec(0), rec(1, spent=0.5996)])["low_spend"]
    assert just_under.status == FIRES and just_under.evidence == ["2026-09-02: 59.9% of 1,000,000 spent"]
    at = signals([rec(0), rec(1, spent=0.6)])["low_spend"]  # quiet: the evidence is the last day, at the line
    assert at.status == QUIET and at.evidence == ["2026-09-02: 60.0% of 1,000,000 spent"]
    assert signals([rec(0), rec(1, spent=0.29)])["low_spend"].evidence == ["2026-09-02: 29.0% of 1,000,000 spent"]
    assert status([rec(0, old=True)], "low_spend") == NO_DATA


# --- the drill's two --------------------------------------------------------------------------


def test_frontier_serving_non_critical_tasks_in_a_short_outage():
    wide = {"15": run_ev(wide=("t-7", "t-9")), "45": run_ev()}
    s = signals([rec(0, runs=wide)])["failover_too_wide"]
    assert s.status == FIRES and s.evidence == ["2026-09-01, 15m outage: 2 P2/P3 tasks (t-7, t-9)"]
    assert status([rec(0)], "failover_too_wide") == QUIET
    long_only = {"45": run_ev(wide=("t-7",))}  # a long outage may use the expensive tier more widely
    assert status([rec(0, runs=long_only)], "failover_too_wide") == NO_DATA


def test_manual_channel_opening_at_a_moderate_queue():
    early = {"15": run_ev(opened={"time": "11:02", "queue": 4, "tasks": ["t-1"]})}
    s = signals([rec(0, runs=early)])["manual_nervous"]
    assert s.status == FIRES and s.evidence == [
        "2026-09-01, 15m outage: opened at 11:02 by the manual timeout, with 4 open tasks (limit 15): t-1"
    ]
    late = {"15": run_ev(opened={"time": "11:20", "queue": 22, "tasks": ["t-1"]})}
    assert status([rec(0, runs=late)], "manual_nervous") == QUIET
    assert status([rec(0, runs={"15": run_ev(opened=None)})], "manual_nervous") == QUIET  # never opened
    assert status([rec(0, old=True)], "manual_nervous") == NO_DATA


# --- reading the history ---------------------------------------------------------------------


def test_records_of_one_spec_and_the_last_run_of_a_day():
    records = [rec(0, spec="a.yaml", spent=0.5), rec(0, spec="b.yaml"), rec(0, spec="a.yaml", spent=0.9)]
    text = "".join(json.dumps(r) + "\n" for r in records)
    result = review(history_from_text(text, "h.jsonl"), "h.jsonl", "a.yaml")
    assert result.notes == ["1 record of other specs left out"]
    assert {s.key: s.status for s in result.signals}["low_spend"] == QUIET  # the day's last run: 90%
    assert review(history_from_text(text, "h.jsonl"), "h.jsonl").spec == "a.yaml"


def test_bad_history_records_name_their_line():
    bad = json.dumps(rec(1)).replace('"spent_share": 0.8', '"spent_share": NaN')
    text = json.dumps(rec(0)) + "\n" + bad + "\n"
    with pytest.raises(BudgetError, match=r"h\.jsonl:2:\d+: baseline\.spent_share: NaN is not a number"):
        review(history_from_text(text, "h.jsonl"), "h.jsonl")
    with pytest.raises(BudgetError, match=r"h\.jsonl:1: spec: missing"):
        history_from_text('{"day": "2026-09-01"}\n', "h.jsonl")
    broken = rec(0, runs={"15": run_ev(opened="11:02")})
    with pytest.raises(BudgetError, match=r"h\.jsonl:1: runs\.15\.manual_opened: must be a record or null"):
        review(history_from_text(json.dumps(broken) + "\n", "h.jsonl"), "h.jsonl")
    with pytest.raises(BudgetError, match=r"h\.jsonl:1: runs: must map outage minutes"):
        review(history_from_text(json.dumps(rec(0, runs={"x": 1})) + "\n", "h.jsonl"), "h.jsonl")
    with pytest.raises(BudgetError, match="has no records"):
        history_from_text("\n\n", "h.jsonl")


def test_cli_exit_codes(tmp_path: Path):
    (tmp_path / "old.jsonl").write_text(json.dumps(rec(0, old=True)) + "\n")
    old = run_cli(["review", "--history", "old.jsonl"], tmp_path)
    assert old.returncode == 2 and "no signal could be evaluated" in old.stderr
    (tmp_path / "calm.jsonl").write_text("".join(json.dumps(rec(i)) + "\n" for i in range(7)))
    calm = run_cli(["review", "--history", "calm.jsonl"], tmp_path)
    assert calm.returncode == 0, calm.stdout + calm.stderr
    assert calm.stdout.splitlines()[-1] == "0 of 7 signals fire; 2 without enough data"
    as_json = json.loads(run_cli(["review", "--history", "calm.jsonl", "--json"], tmp_path).stdout)
    assert [s["status"] for s in as_json["signals"]] == [NO_DATA, QUIET, QUIET, NO_DATA, QUIET, QUIET, QUIET]


def test_a_quiet_signal_reads_as_the_symptom_checked_and_counts_read_right(tmp_path: Path):
    # a week with one degraded day and one day below 0.5: both signals quiet, and each headline quotes the
    # symptom looked for and says on the same line what was found instead (never the symptom as a fact)
    week = [rec(i, degraded=4 if i == 2 else 0, health=0.45 if i == 3 else 0.8) for i in range(7)]
    (tmp_path / "week.jsonl").write_text("".join(json.dumps(r) + "\n" for r in week))
    lines = run_cli(["review", "--history", "week.jsonl"], tmp_path).stdout.splitlines()
    assert lines[1:5] == [
        'quiet: "no degraded_mode activation in a month" (the budget is too big): '
        "degraded mode on 1 of 7 days of the last month",
        "    - 2026-09-03: 4 tasks degraded on the day as it happened",
        'quiet: "token_health_min below 0.5 more than once a week" (the local tier is too small): '
        "1 day below 0.5 in 7 days, never two within a week",
        "    - 2026-09-04: token_health_min 0.4500",
    ]
    # one day, one month, one short outage: no "1 days", "1 outages" or "(s)"
    (tmp_path / "one.jsonl").write_text(json.dumps(rec(0, runs={"15": run_ev(wide=("t-7",))})) + "\n")
    out = run_cli(["review", "--history", "one.jsonl"], tmp_path).stdout
    assert "s.yaml, 1 day (2026-09-01 .. 2026-09-01)" in out and "    1 of 1 short outage\n" in out
    assert "the history covers 1 month (2026-09)" in out and "0 days below 0.5 in 1 day;" in out
    assert "(s)" not in out and " 1 days" not in out and " 1 outages" not in out


def test_the_shipped_week(workdir: Path):
    """Smoke: the week's review follows from how its days were made (scripts/drill_history_week.py)."""
    proc = run_cli(["review", "--history", "scenarios/drill_history_week.jsonl", "--json"], workdir)
    assert proc.returncode == 1, proc.stderr
    s = {x["signal"]: x for x in json.loads(proc.stdout)["signals"]}
    assert len(s) == 7
    assert s["low_spend"]["status"] == FIRES and s["low_spend"]["evidence"][0].startswith("2026-11-29")  # 560 alerts
    assert s["low_spend"]["evidence"] == ["2026-11-29: 59.8% of 50,000,000 spent"]  # 0.5981: never "60%"
    assert s["no_degraded_mode"]["status"] == QUIET  # 1,150 alerts on 2026-11-25 exhaust the quotas
    assert "2026-11-25" in s["no_degraded_mode"]["evidence"][0]
    assert s["manual_growth"]["status"] == NO_DATA  # one month of history


def test_the_shipped_weeks_evidence_names_the_cause_the_history_shows(workdir: Path):
    """2026-11-25's failover is held by the token_health guard (its no-outage run is below 0.65), not by the
    failover gate; the manual channel opens by its timeout at a moderate queue. The rules still fire (the
    chapter's), but the evidence says what held the failover and what opened the channel."""
    proc = run_cli(["review", "--history", "scenarios/drill_history_week.jsonl"], workdir)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    stuck = lines.index('FIRES: "failover_to_frontier stuck at 0 during local outages" (the gate is too strict)')
    assert lines[stuck + 1] == (
        "    failover stayed at 0 on 1 of 7 days; that day is below the guard even without an outage, "
        "so the guard, not the gate, held it"
    )
    assert lines[stuck + 2].startswith(
        "    - 2026-11-25: the day is below the 0.65 guard without any outage (token_health_min 0.00), "
        "so the guard, not the gate, held the failover; no failover in the 15m outage (3 P0/P1 arrived"
    )
    # 13 P0/P1 waited in the 45-minute outage; the record keeps the first 10 ids and the count
    assert lines[stuck + 2].endswith(
        "45m outage (13 P0/P1 arrived; waited: alert-00447, alert-00452, alert-00453, alert-00466, alert-00468, "
        "alert-00469, alert-00470, alert-00471, alert-00472, alert-00477 and 3 more)"
    )
    manual = lines.index('FIRES: "the manual channel opening at a moderate queue" (the SLA thresholds are too nervous)')
    assert lines[manual + 1].startswith("    18 of 21 outages; each time the manual timeout opened the channel")
    assert lines[manual + 2] == (
        "    - 2026-11-23, 15m outage: opened at 11:02, 2 min into the outage, by the manual timeout, "
        "with 3 open tasks (limit 15): alert-00326"
    )


def test_a_stuck_failover_names_the_guard_only_on_a_day_below_it_without_an_outage():
    held = rec(1, runs={"15": run_ev(failover=0, critical=2)}) | {"fail_under": 0.65}
    held["baseline"]["token_health_min"] = 0.61  # below the guard with no outage: the guard held it
    free = rec(2, runs={"15": run_ev(failover=0, critical=2)}) | {"fail_under": 0.65}  # baseline 1.0
    s = signals([rec(0), held, free])["failover_stuck"]
    assert s.finding.endswith(
        "; 1 of them is below the guard even without an outage, so the guard, not the gate, held it"
    )
    assert s.evidence[0].startswith(
        "2026-09-02: the day is below the 0.65 guard without any outage (token_health_min 0.61)"
    )
    assert s.evidence[1].startswith("2026-09-03: no failover in the 15m outage")


# --- the drill writes what the signals need ------------------------------------------------

DAY, REPORT = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
MID = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")


def test_history_entry_keeps_the_old_keys_and_adds_the_evidence(tmp_path: Path):
    result = run_drill(MID, DAY, outages=(15,), spec_name="mid", report=REPORT, evidence=True)
    entry = history_entry(result.to_dict())
    assert list(entry)[:5] == ["day", "spec", "flow", "token_health_min", "outages"]
    assert entry["baseline"]["spent_share"] == round(entry["baseline"]["spent_tokens"] / 50_000_000, 4)
    assert set(entry["runs"]["15"]) >= {"critical", "frontier_noncritical", "manual_opened", "manual_after_timeout"}
    text = apply_history(result, read_history(tmp_path / "h.jsonl", "mid"))
    written = json.loads(text)
    assert written == {"run": 1, **entry}


def test_a_wide_failover_policy_fires_the_drill_signal():
    wide = MID.model_copy(update={"policy": MID.policy.model_copy(update={"failover_severities": SEVS})})
    ranked = history_entry(run_drill(MID, DAY, outages=(15,), spec_name="mid", report=REPORT, evidence=True).to_dict())
    widened = history_entry(
        run_drill(wide, DAY, outages=(15,), spec_name="mid", report=REPORT, evidence=True).to_dict()
    )
    assert ranked["runs"]["15"]["frontier_noncritical"] == 0
    assert widened["runs"]["15"]["frontier_noncritical"] > 0
    assert status([ranked], "failover_too_wide") == QUIET
    assert status([widened], "failover_too_wide") == FIRES


SEVS = ("P0", "P1", "P2", "P3")


def test_a_manual_timeout_longer_than_the_outage_keeps_the_channel_shut():
    nervous = history_entry(run_drill(MID, DAY, outages=(15,), spec_name="mid", report=REPORT, evidence=True).to_dict())
    patient = history_entry(
        run_drill(
            MID, DAY, outages=(15,), spec_name="mid", report=REPORT, evidence=True, manual_timeout_sec=3600
        ).to_dict()
    )
    assert nervous["runs"]["15"]["manual_opened"]["queue"] <= 15
    assert patient["runs"]["15"]["manual_opened"] is None
    assert status([nervous], "manual_nervous") == FIRES
    assert status([patient], "manual_nervous") == QUIET
