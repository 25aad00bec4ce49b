"""budget export: a LiteLLM proxy config that LiteLLM's own Router loads, a Portkey config of Portkey's shape."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from budget.model import load_spec, spec_from_text, tier_capacity_tpm
from budget.traffic import global_fallbacks, litellm_dict, litellm_yaml, reachable, tier_limits
from tests.conftest import ROOT, run_cli

PAYMENT = "specs/payment_gateway_80_20_mid.yaml"
TEXTBOOK = "specs/budget_network.yaml"


def _router_from(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    """Load a proxy config the way the proxy does: Router(model_list=..., **router_settings).

    No network: the model cost map is LiteLLM's bundled copy, and every api_base points at 127.0.0.1.
    """
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for model in config["model_list"]:
        for key in ("api_base", "api_key"):
            env = model["litellm_params"][key].removeprefix("os.environ/")
            monkeypatch.setenv(env, "http://127.0.0.1:9/v1" if key == "api_base" else "sk-none")
    from litellm import Router

    async def build() -> dict[str, Any]:  # deployment budgets start a task on the running loop
        router = Router(model_list=config["model_list"], **config["router_settings"])
        try:
            settings = router.settings()
            registry = router.registry()
            deployments = {}
            for name in registry.names(kind="groups"):
                d = registry.deployment(name)  # model_info.id is the tier
                assert d is not None
                deployments[name] = d.litellm_params
            return {"settings": settings, "deployments": deployments}
        finally:
            router.retire()

    return asyncio.run(build())


@pytest.mark.parametrize("spec_path", [PAYMENT, TEXTBOOK])
def test_litellm_router_loads_the_exported_config(workdir: Path, monkeypatch: pytest.MonkeyPatch, spec_path):
    proc = run_cli(["export", "--budget-spec", spec_path, "--to", "litellm", "--out", "out/config.yaml"], workdir)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((workdir / "out" / "config.yaml").read_text())
    spec = load_spec(ROOT / spec_path)
    assert config == litellm_dict(spec)  # the comments add nothing the data does not say
    loaded = _router_from(config, monkeypatch)
    tpm = tier_capacity_tpm(spec)
    assert list(loaded["deployments"]) == list(spec.tiers)  # every tier, one model group each
    for tier, params in loaded["deployments"].items():
        assert params.tpm == tpm[tier] > 0
        assert params.tpd == spec.tier_total(tier)
        assert params.budget_duration == "1d" and params.max_budget > 0
        assert params.api_base == "http://127.0.0.1:9/v1"
    settings = loaded["settings"]
    assert settings.allowed_fails == 3 and settings.cooldown_time == spec.policy.relapse_min * 60
    chain = settings.fallbacks or []  # the Router keeps an empty chain as None
    assert chain == config["router_settings"]["fallbacks"]
    for tier in spec.tiers[:-1]:  # LiteLLM follows fallbacks of fallbacks: no path reaches the top tier
        assert spec.most_expensive not in reachable(chain, tier)


def test_payment_spec_chain_and_comments(workdir: Path):
    spec = load_spec(ROOT / PAYMENT)
    assert global_fallbacks(spec) == [{"local-coder": ["mid-coder"]}]
    assert "frontier-reviewer" not in reachable(global_fallbacks(spec), "local-coder")
    text = litellm_yaml(spec, PAYMENT)
    assert '"fallbacks": ["mid-coder", "frontier-reviewer"]' in text  # how a P0/P1 caller asks for the top tier
    assert "older than 90 s" in text and "2,500,000 tokens" in text


def test_explicit_capacity_is_exported_as_given():
    own = re.sub(r"  capacity_tpm:.*\n    frontier-reviewer: \d+.*\n", "", (ROOT / PAYMENT).read_text())
    text = own + "  capacity_tpm: {local-coder: 70000, mid-coder: 9000, frontier-reviewer: 4000}\n"
    spec = spec_from_text(text, "pg.yaml")
    tpm = {m["model_name"]: m["litellm_params"]["tpm"] for m in litellm_dict(spec)["model_list"]}
    assert tpm == {"local-coder": 70000, "mid-coder": 9000, "frontier-reviewer": 4000}
    assert {lim.tier: lim.tpm for lim in tier_limits(spec)} == tpm


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
