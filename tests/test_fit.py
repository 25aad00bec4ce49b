"""budget fit: a LiteLLM spend log in, the workload of a spec's policy out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.errors import BudgetError, UsageError
from budget.model import load_spec
from budget.traffic import (
    Workload,
    fit_spend_log,
    generate,
    parse_spend_log,
    parse_tier_map,
    read_spend_log,
    to_csv,
    to_json,
)
from tests.conftest import ROOT, run_cli

SAMPLES = ROOT / "scenarios" / "samples"
TEXTBOOK_PHASES = (
    ("triage", 3.0 / 8.3),
    ("classification", 2.0 / 8.3),
    ("diagnosis", 1.5 / 8.3),
    ("plan", 0.8 / 8.3),
    ("remediation", 0.7 / 8.3),
    ("postmortem", 0.3 / 8.3),
)
TWO_TIERS = {
    "tiers": ("local-coder", "frontier-reviewer"),
    "phase_tier": {},
    "model_groups": {"local-coder": ("local-coder",), "frontier-reviewer": ("frontier-reviewer",)},
    "price_per_million": {"local-coder": 0.10, "frontier-reviewer": 3.00},
}
WORKLOADS = {
    "payment, three tiers, mapped model groups": (Workload(incidents=200), "map"),
    "textbook, two tiers named as tiers": (
        Workload(
            incidents=300,
            tokens_per_incident=50_000,
            disputed_share=0.10,
            phase_shares=TEXTBOOK_PHASES,
            **TWO_TIERS,  # type: ignore[arg-type]
        ),
        "price",
    ),
    "heavy tail, many failures and other traffic": (
        Workload(
            incidents=500,
            tokens_per_incident=80_000,
            spread=0.45,
            review_share=0.2,
            disputed_share=0.3,
            failed_share=0.12,
            untagged_share=0.5,
        ),
        "tiers",
    ),
    "a small day": (Workload(incidents=61, tokens_per_incident=20_000, review_share=0.05), "map"),
}


def _fit(workload: Workload, how: str, text: str, name: str):
    log = parse_spend_log(text, name)
    if how == "map":
        return fit_spend_log(log, tier_map=workload.tier_map())
    if how == "tiers":
        return fit_spend_log(log, tier_map=workload.tier_map(), tiers=workload.tiers)
    return fit_spend_log(log)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("label", list(WORKLOADS))
def test_fit_recovers_a_known_workload(label, seed):
    """The held-out check: tokens/incident within 5 %, review within 0.01, disputed 0.02, phases 0.02."""
    workload, how = WORKLOADS[label]
    rows = generate(workload, seed=seed)
    text, name = (to_csv(rows), "held_out.csv") if seed % 2 else (to_json(rows), "held_out.json")
    fit = _fit(workload, how, text, name)
    assert fit.tiers == workload.tiers
    assert abs(fit.tokens_per_incident / workload.tokens_per_incident - 1) <= 0.05
    assert fit.review_share is not None and abs(fit.review_share - workload.review_share) <= 0.01
    assert fit.disputed_share is not None and abs(fit.disputed_share - workload.disputed_share) <= 0.02
    assert set(fit.phase_shares) == {p for p, _ in workload.phase_shares}
    for phase, share in workload.phase_shares:
        assert abs(fit.phase_shares[phase] - share) <= 0.02, phase
    assert fit.incidents == workload.incidents
    assert fit.failed == sum(1 for r in rows if r["status"] == "failure")


@pytest.mark.parametrize("name", ["litellm_spend_logs.json", "litellm_spend_logs.csv"])
def test_the_shipped_samples_recover_their_workload(name):
    w = Workload()
    fit = fit_spend_log(read_spend_log(SAMPLES / name), tier_map=w.tier_map())
    assert abs(fit.tokens_per_incident / w.tokens_per_incident - 1) <= 0.05
    assert fit.review_share is not None and abs(fit.review_share - w.review_share) <= 0.01
    assert fit.disputed_share is not None and abs(fit.disputed_share - w.disputed_share) <= 0.02
    assert all(abs(fit.phase_shares[p] - s) <= 0.02 for p, s in w.phase_shares)


def test_json_and_csv_of_the_same_day_fit_alike_and_the_samples_are_reproducible():
    a = fit_spend_log(read_spend_log(SAMPLES / "litellm_spend_logs.json"), tier_map=Workload().tier_map())
    b = fit_spend_log(read_spend_log(SAMPLES / "litellm_spend_logs.csv"), tier_map=Workload().tier_map())
    assert a.policy() == b.policy()
    rows = generate(Workload(incidents=30), seed=11)
    assert to_json(rows) == (SAMPLES / "litellm_spend_logs.json").read_text()


def test_failed_requests_are_left_out_and_counted():
    rows = generate(Workload(incidents=80, failed_share=0.2), seed=5)
    ok = [r for r in rows if r["status"] == "success"]
    with_failures = fit_spend_log(parse_spend_log(to_json(rows), "a.json"), tier_map=Workload().tier_map())
    without = fit_spend_log(parse_spend_log(to_json(ok), "b.json"), tier_map=Workload().tier_map())
    assert with_failures.failed == len(rows) - len(ok) > 0 and without.failed == 0
    assert with_failures.policy() == without.policy()


def _row(n: int, group: str, tokens: int, at: str = "2026-11-24T10:00:05Z", **extra) -> dict:
    row = {
        "request_id": f"req-{n}",
        "startTime": at,
        "model_group": group,
        "total_tokens": tokens,
        "spend": tokens * {"cheap": 0.1, "top": 3.0}.get(group, 0.6) / 1e6,
        "status": "success",
        "metadata": {},
        "request_tags": [],
    }
    row.update(extra)
    return row


def _tagged(n, group, tokens, incident, phase="triage", **extra):
    return _row(n, group, tokens, request_tags=[f"incident:{incident}", f"phase:{phase}"], **extra)


def test_each_statistic_by_hand():
    rows = [
        _tagged(1, "cheap", 6_000, "A"),
        _tagged(2, "cheap", 4_000, "A", "plan", startTime="2026-11-24T10:00:59Z"),
        _tagged(3, "top", 1_500, "A", "triage", startTime="2026-11-24T10:01:00Z"),
        _tagged(4, "cheap", 20_000, "B", "plan", startTime="2026-11-24T10:07:00Z"),
        _tagged(5, "cheap", 9_000, "B", "plan", status="failure"),
        _tagged(6, "cheap", 30_000, "C"),
        _row(7, "embed", 99_999),  # other traffic: no incident tag
    ]
    fit = fit_spend_log(parse_spend_log(json.dumps(rows), "day.json"))
    assert fit.tiers == ("cheap", "top") and fit.order_source == "observed price per token"
    assert (fit.records, fit.failed, fit.untagged, fit.incidents, fit.reviewed) == (7, 1, 1, 3, 1)
    assert fit.tokens_per_incident == 20_000  # median of A 10,000, B 20,000, C 30,000
    assert fit.review_share == 0.15  # A's review 1,500 of its 10,000 work tokens
    assert fit.disputed_share == round(1 / 3, 4)
    assert fit.capacity_tpm == {"cheap": 40_000, "top": 1_500}  # 10:00 holds 6,000 + 4,000 + 30,000
    assert fit.phase_shares == {"triage": 0.6, "plan": 0.4}  # 36,000 and 24,000 work tokens
    assert fit.policy()["capacity_tpm"] == {"cheap": 40_000, "top": 1_500}


def test_the_three_tagging_places_read_alike_and_must_agree():
    styles = [
        {"metadata": {"spend_logs_metadata": {"incident_id": "INC-7", "phase": "triage"}}},
        {"metadata": {"incident_id": "INC-7", "phase": "triage"}},
        {"request_tags": ["User-Agent: curl/8", "incident:INC-7", "phase:triage"]},
        {"metadata": json.dumps({"incident_id": "INC-7"}), "request_tags": json.dumps(["phase:triage"])},
    ]
    for n, extra in enumerate(styles):
        rec = parse_spend_log(json.dumps([_row(n, "cheap", 10, **extra)]), "x.json").records[0]
        assert (rec.incident, rec.phase) == ("INC-7", "triage"), extra
    clash = _row(1, "cheap", 10, metadata={"incident_id": "INC-7"}, request_tags=["incident:INC-8"])
    with pytest.raises(BudgetError, match=r"x\.json:record 1 \(request_id req-1\): incident_id: the tags disagree"):
        parse_spend_log(json.dumps([clash]), "x.json")


def test_tier_order_from_tiers_spec_map_or_price():
    rows = [_tagged(1, "qwen", 5_000, "A"), _tagged(2, "opus", 500, "A")]
    rows[0]["spend"], rows[1]["spend"] = 0.0, 0.0
    log = parse_spend_log(json.dumps(rows), "x.json")
    with pytest.raises(BudgetError, match="cannot tell which of opus and qwen is cheaper.*give --tiers"):
        fit_spend_log(log)
    assert fit_spend_log(log, tiers=["qwen", "opus"]).top_tier == "opus"
    mapped = fit_spend_log(
        log, {"qwen": "local-coder", "opus": "frontier-reviewer"}, spec=load_spec(ROOT / "specs/budget_network.yaml")
    )
    assert mapped.tiers == ("local-coder", "frontier-reviewer") and mapped.review_share == 0.1
    with pytest.raises(BudgetError, match=r"x\.json:record 1 .*unknown tier 'qwen' .*--tier-map qwen=TIER"):
        fit_spend_log(log, tiers=["local-coder", "frontier-reviewer"])


def test_tier_map_parsing():
    assert parse_tier_map(["a=x,b=y", "c=x"]) == {"a": "x", "b": "y", "c": "x"}
    for bad in (["a"], ["=x"], ["a=x,a=y"]):
        with pytest.raises(UsageError):
            parse_tier_map(bad)


def _cli_fit(workdir: Path, rows_or_text, name: str = "log.json", *extra: str):
    text = rows_or_text if isinstance(rows_or_text, str) else json.dumps(rows_or_text)
    (workdir / name).write_text(text)
    return run_cli(["fit", "--spend-logs", name, "--out", "out/fit.yaml", *extra], workdir)


def _one_line_error(proc, code: int, pattern: str, workdir: Path):
    import re

    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr
    assert not (workdir / "out" / "fit.yaml").exists()


CSV_HEADER = "request_id,startTime,model_group,total_tokens,spend,status,metadata,request_tags\n"


@pytest.mark.parametrize(
    "content, name, extra, pattern",
    [
        (
            [_row(1, "cheap", 10), _row(2, "top", 10)],
            "log.json",
            (),
            r"log\.json:record 1 \(request_id req-1\)?.*no incident tag",
        ),
        (
            CSV_HEADER + 'r1,2026-11-24 10:00:00,cheap,5,0,success,,"[""incident:A""]"\n'
            'r2,2026-11-24 10:00:01,gpt-x,5,0,success,,"[""incident:A""]"\n',
            "log.csv",
            ("--tiers", "cheap,top"),
            r"log\.csv:3 \(request_id r2\): unknown tier 'gpt-x' \(tiers: cheap, top; map it with --tier-map gpt-x=",
        ),
        (
            [_tagged(1, "cheap", 10, "A"), _tagged(2, "top", -5, "A")],
            "log.json",
            (),
            r"log\.json:record 2 \(request_id req-2\): total_tokens: must not be negative, got -5",
        ),
        (
            CSV_HEADER + 'r1,2026-11-24 10:00:00,cheap,-5,0,success,,"[""incident:A""]"\n',
            "log.csv",
            (),
            r"log\.csv:2 \(request_id r1\): total_tokens: must not be negative",
        ),
        ({"alerts": []}, "log.json", (), r"log\.json: not LiteLLM's spend-log shape: expected the JSON list"),
        ([{"timestamp": "2026-11-24T10:00:00Z", "severity": "page"}], "log.json", (), r"record 1: not LiteLLM's"),
        ("timestamp,severity,service\n2026-11-24T10:00:00Z,page,api\n", "log.csv", (), r"log\.csv:1: not a Lite"),
        ([_tagged(1, "cheap", 10, "A", status="timeout")], "log.json", (), r"record 1.*status: must be success"),
        ([_tagged(1, "cheap", 10, "A", startTime="yesterday")], "log.json", (), r"startTime: not an ISO 8601"),
        ("[{]", "log.json", (), r"log\.json:1: not valid JSON"),
        (
            [_tagged(1, "cheap", 10, "A", status="failure")],
            "log.json",
            (),
            r"every request with an incident tag failed",
        ),
    ],
)
def test_bad_spend_logs_get_one_line_naming_the_record(workdir: Path, content, name, extra, pattern):
    _one_line_error(_cli_fit(workdir, content, name, *extra), 1, pattern, workdir)


def test_bad_tier_map_is_a_usage_error(workdir: Path):
    proc = _cli_fit(workdir, [_tagged(1, "cheap", 10, "A")], "log.json", "--tier-map", "cheap")
    _one_line_error(proc, 2, r"--tier-map 'cheap': must be MODEL_GROUP=TIER", workdir)


def test_cli_fit_of_the_sample_writes_a_fragment_the_spec_includes(workdir: Path):
    tier_map = ",".join(f"{g}={t}" for g, t in Workload().tier_map().items())
    spec = "specs/payment_gateway_80_20_mid.yaml"
    args = ["fit", "--spend-logs", "scenarios/samples/litellm_spend_logs.csv", "--tier-map", tier_map]
    proc = run_cli([*args, "--budget-spec", spec, "--out", "specs/fit.yaml"], workdir)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "294 records: 274 used, 6 failed requests left out, 14 without an incident tag left out" in out
    assert "tokens_per_incident" in out and "p10" in out and "p90" in out
    assert "a spec uses it with `include: fit.yaml`" in out
    first = (workdir / "specs" / "fit.yaml").read_text()
    # the spec's own workload entries would win over the fragment's: include it in the plan alone
    spec_text = (workdir / spec).read_text().split("\npolicy:")[0] + "\ninclude: fit.yaml\n"
    (workdir / "specs" / "fitted.yaml").write_text(spec_text)
    merged = load_spec(workdir / "specs" / "fitted.yaml").policy
    assert merged.disputed_share is not None and set(merged.capacity_tpm) == set(load_spec(workdir / spec).tiers)
    assert set(merged.phase_shares) == set(load_spec(workdir / spec).phases)
    proc = run_cli([*args, "--budget-spec", spec, "--out", "specs/fit.yaml"], workdir)
    assert (workdir / "specs" / "fit.yaml").read_text() == first  # deterministic


def test_readme_shows_what_fit_and_export_print(workdir: Path):
    readme = (ROOT / "README.md").read_text()
    fit = [
        *"fit --spend-logs scenarios/samples/litellm_spend_logs.json --out out/payment_fit.yaml".split(),
        *"--budget-spec specs/payment_gateway_80_20_mid.yaml".split(),
        "--tier-map",
        "qwen-coder-32b=local-coder,qwen-coder-32b-b=local-coder,gpt-4.1-mini=mid-coder,claude-opus=frontier-reviewer",
    ]
    export = "export --budget-spec specs/payment_gateway_80_20_mid.yaml --to litellm --out out/litellm_config.yaml"
    for args in (fit, export.split()):
        proc = run_cli(args, workdir)
        assert proc.returncode == 0, proc.stderr
        for line in proc.stdout.splitlines():
            assert line in readme, line
