"""budget export: a LiteLLM proxy config that LiteLLM's own Router loads, a Portkey config of Portkey's shape."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from budget.model import load_spec, spec_from_text
from budget.traffic import litellm_dict, litellm_yaml, tier_limits
from tests.conftest import ROOT, run_cli

PAYMENT = "specs/payment_gateway_80_20_mid.yaml"
TEXTBOOK = "specs/budget_network.yaml"


@pytest.mark.parametrize("spec_path", [PAYMENT, TEXTBOOK])
def test_litellm_config_is_the_keeper_wired_into_the_proxy(workdir: Path, spec_path):
    """What the file says; tests/test_live_proxy.py starts the real proxy with it, unedited."""
    proc = run_cli(["export", "--budget-spec", spec_path, "--to", "litellm", "--out", "out/config.yaml"], workdir)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((workdir / "out" / "config.yaml").read_text())
    spec = load_spec(ROOT / spec_path)
    assert config == litellm_dict(spec)  # the comments add nothing the data does not say
    assert [m["model_name"] for m in config["model_list"]] == list(spec.tiers)  # one model group per tier
    for model, lim in zip(config["model_list"], tier_limits(spec), strict=True):
        params = model["litellm_params"]
        assert "tpd" not in params and "tpm" not in params  # 1.108.7 forwards tpd upstream
        assert params["input_cost_per_token"] == pytest.approx(lim.price_per_million / 1e6)
        assert params["input_cost_per_token"] > 0
        assert params["api_base"].startswith("os.environ/") and params["api_key"].startswith("os.environ/")
    assert config["litellm_settings"]["callbacks"] == "budget.traffic.live.litellm_hook.keeper"
    assert config["litellm_settings"]["num_retries"] == 0 == config["router_settings"]["num_retries"]
    assert "fallbacks" not in config["router_settings"]  # the keeper decides every failover
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    for name in ("LITELLM_MASTER_KEY", "BUDGET_KEEPER_STATE", "BUDGET_KEEPER_SPEC"):
        assert name in proc.stdout


def test_payment_spec_chain_and_header(workdir: Path):
    spec = load_spec(ROOT / PAYMENT)
    text = litellm_yaml(spec, PAYMENT)
    for name in ("LOCAL_CODER_API_BASE", "MID_CODER_API_KEY", "FRONTIER_REVIEWER_API_BASE", "BUDGET_KEEPER_SPEC"):
        assert f"#   {name}\n" in text


def test_tiers_whose_env_names_collide_are_refused_in_one_line(workdir: Path):
    text = (ROOT / TEXTBOOK).read_text().replace("frontier-reviewer", "local_coder")
    (workdir / "twins.yaml").write_text(text)
    proc = run_cli(["export", "--budget-spec", "twins.yaml", "--to", "litellm", "--out", "out/c.yaml"], workdir)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "would both read LOCAL_CODER_API_KEY" in proc.stderr
    assert not (workdir / "out" / "c.yaml").exists()


def test_names_travel_through_a_yaml_serializer():
    text = (ROOT / TEXTBOOK).read_text().replace("frontier-reviewer", "'frontier: #review'")
    spec = spec_from_text(text, "odd.yaml")
    config = yaml.safe_load(litellm_yaml(spec, "odd.yaml"))
    assert [m["model_name"] for m in config["model_list"]] == ["local-coder", "frontier: #review"]


def test_explicit_capacity_is_exported_as_given():
    own = re.sub(r"  capacity_tpm:.*\n    frontier-reviewer: \d+.*\n", "", (ROOT / PAYMENT).read_text())
    text = own + "  capacity_tpm: {local-coder: 70000, mid-coder: 9000, frontier-reviewer: 4000}\n"
    spec = spec_from_text(text, "pg.yaml")
    assert {lim.tier: lim.tpm for lim in tier_limits(spec)} == {
        "local-coder": 70000,
        "mid-coder": 9000,
        "frontier-reviewer": 4000,
    }


# Portkey: tests/test_portkey.py runs the exported config in the real open-source gateway.


def test_export_of_an_invalid_spec_is_one_line_and_writes_nothing(workdir: Path):
    (workdir / "specs" / "bad.yaml").write_text("daily_budget_tokens: 10\nphases:\n  triage: {local-coder: 5}\n")
    for to in ("litellm", "portkey"):
        proc = run_cli(["export", "--budget-spec", "specs/bad.yaml", "--to", to, "--out", "out/c"], workdir)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert "bad.yaml" in proc.stderr and "quota sum" in proc.stderr
        assert not (workdir / "out" / "c").exists()
    one = "daily_budget_tokens: 5\nphases:\n  triage: {local-coder: 5}\n"
    (workdir / "specs" / "one.yaml").write_text(one)
    proc = run_cli(["export", "--budget-spec", "specs/one.yaml", "--to", "portkey", "--out", "out/c"], workdir)
    assert proc.returncode == 1 and "at least two tiers" in proc.stderr and not (workdir / "out" / "c").exists()
    proc = run_cli(["export", "--budget-spec", PAYMENT, "--to", "kong", "--out", "out/c"], workdir)
    assert proc.returncode == 2 and not (workdir / "out" / "c").exists()


def test_export_is_deterministic(workdir: Path):
    outs = []
    for n in (1, 2):
        run_cli(["export", "--budget-spec", PAYMENT, "--to", "litellm", "--out", f"out/{n}.yaml"], workdir)
        outs.append((workdir / "out" / f"{n}.yaml").read_bytes())
    assert outs[0] == outs[1] and os.path.getsize(workdir / "out" / "1.yaml") > 0
