"""budget export: a LiteLLM proxy config that LiteLLM's own Router loads, a Portkey config of Portkey's shape."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from budget.model import load_spec, spec_from_text, tier_capacity_tpm
from budget.traffic import global_fallbacks, litellm_dict, litellm_yaml, portkey_dict, reachable, tier_limits
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
    assert global_fallbacks(spec) == [{"local-coder": ["mid-coder"]}]  # Portkey's routine chain
    assert "frontier-reviewer" not in reachable(global_fallbacks(spec), "local-coder")
    text = litellm_yaml(spec, PAYMENT)
    for name in ("LOCAL_CODER_API_BASE", "MID_CODER_API_KEY", "FRONTIER_REVIEWER_API_BASE", "BUDGET_KEEPER_SPEC"):
        assert f"#   {name}\n" in text


def test_tiers_whose_env_names_collide_are_refused_in_one_line(workdir: Path):
    text = (ROOT / TEXTBOOK).read_text().replace("frontier-reviewer", "local_coder")
    (workdir / "twins.yaml").write_text(text)
    proc = run_cli(["export", "--budget-spec", "twins.yaml", "--to", "litellm", "--out", "out/c.yaml"], workdir)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "share the environment variables LOCAL_CODER_*" in proc.stderr
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


# --- Portkey -------------------------------------------------------------------------------------
# The shape below is Portkey's config schema as the open-source gateway validates and runs it:
# src/middlewares/requestValidator/schema/config.ts (the zod configSchema: strategy.mode in single /
# loadbalance / fallback / conditional, strategy.on_status_codes, strategy.conditions[{query, then}],
# strategy.default; targets recurse; a target needs provider credentials or strategy + targets) and
# src/services/conditionalRouter.ts (operators $eq $ne $gt $gte $lt $lte $in $nin $regex $and $or;
# query keys metadata.*, params.*, url.pathname; then/default name a target), Portkey-AI/gateway at
# commit 669825cbe89ee51569918b8f78a9db486fd69dd4, with the docs' "Conditional Routing" page and the
# Admin API's config example (targets with virtual_key, override_params).
OPERATORS = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: dict[str, Any]
    then: str


class Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["single", "loadbalance", "fallback", "conditional"]
    on_status_codes: list[int] | None = None
    conditions: list[Condition] | None = None
    default: str | None = None


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    strategy: Strategy | None = None
    targets: list[Target] | None = None
    provider: str | None = None
    api_key: str | None = None
    virtual_key: str | None = None
    override_params: dict[str, Any] | None = None
    weight: float | None = None
    on_status_codes: list[int] | None = None
    request_timeout: int | None = None

    @model_validator(mode="after")
    def _has_route(self) -> Target:
        nested = self.strategy is not None and self.targets
        credentials = self.virtual_key or (self.provider and self.api_key)
        assert nested or credentials, "a target needs strategy + targets, or provider credentials"
        if self.strategy and self.strategy.mode == "conditional":
            names = {t.name for t in self.targets or []}
            assert self.strategy.conditions, "conditional needs conditions"
            for c in self.strategy.conditions:
                assert c.then in names, f"then names no target: {c.then}"
                _check_query(c.query)
            assert self.strategy.default in names, "default names no target"
        return self


def _check_query(query: dict[str, Any]) -> None:
    for key, value in query.items():
        if key in ("$and", "$or"):
            assert isinstance(value, list) and value
            for sub in value:
                _check_query(sub)
            continue
        assert key.split(".")[0] in ("metadata", "params", "url"), key
        if isinstance(value, dict):
            assert set(value) <= OPERATORS, value
            assert all(isinstance(v, list) for op, v in value.items() if op in ("$in", "$nin"))
            assert all(isinstance(v, (int, float)) for op, v in value.items() if op in ("$gt", "$gte", "$lt", "$lte"))


def _resolve(config: dict[str, Any], metadata: dict[str, str]) -> dict[str, Any]:
    """Portkey's ConditionalRouter.resolveTarget, in Python (metadata values are strings)."""

    def holds(query: dict[str, Any]) -> bool:
        for key, value in query.items():
            if key == "$and":
                return all(holds(q) for q in value)
            if key == "$or":
                return any(holds(q) for q in value)
            actual = metadata.get(key.split(".", 1)[1]) if key.startswith("metadata.") else None
            for op, want in value.items():
                ok = {
                    "$eq": lambda a, w: a == w,
                    "$in": lambda a, w: a in w,
                    "$gt": lambda a, w: a is not None and float(a) > float(w),
                }[op](actual, want)
                if not ok:
                    return False
        return True

    strategy = config["strategy"]
    name = next((c["then"] for c in strategy["conditions"] if holds(c["query"])), strategy["default"])
    return next(t for t in config["targets"] if t["name"] == name)


def _tiers_of(target: dict[str, Any]) -> list[str]:
    return [t["virtual_key"] for t in target.get("targets", [target])]


def test_portkey_config_has_portkeys_shape_and_routes_by_severity_and_age(workdir: Path):
    proc = run_cli(
        [
            "export",
            "--budget-spec",
            PAYMENT,
            "--to",
            "portkey",
            "--out",
            "out/portkey.json",
            "--limits-out",
            "out/l.json",
        ],
        workdir,
    )
    assert proc.returncode == 0, proc.stderr
    config = json.loads((workdir / "out" / "portkey.json").read_text())
    Target.model_validate(config)
    assert config["strategy"]["mode"] == "conditional"
    named = {t["name"]: _tiers_of(t) for t in config["targets"]}
    assert named["routine"] == ["local-coder", "mid-coder"]  # the cheap tier, the middle tier as its fallback
    assert named["failover"] == ["local-coder", "mid-coder", "frontier-reviewer"]
    assert set().union(*named.values()) == {"local-coder", "mid-coder", "frontier-reviewer"}
    route = lambda **m: _tiers_of(_resolve(config, {k: str(v) for k, v in m.items()}))  # noqa: E731
    assert route(severity="P1", age_s=120)[-1] == "frontier-reviewer"
    assert route(severity="P0", age_s=91)[-1] == "frontier-reviewer"
    for quiet in ({"severity": "P0", "age_s": 90}, {"severity": "P2", "age_s": 900}, {}):
        assert "frontier-reviewer" not in route(**quiet), quiet
    assert route(tier="mid-coder") == ["mid-coder"]
    assert route(tier="mid-coder", severity="P1", age_s=300) == ["mid-coder", "frontier-reviewer"]
    limits = json.loads((workdir / "out" / "l.json").read_text())
    assert {t: v["tpm"] for t, v in limits.items()} == tier_capacity_tpm(load_spec(ROOT / PAYMENT))
    assert "frontier-reviewer" in proc.stdout and "Portkey keeps rate limits" in proc.stdout


def test_portkey_schema_check_rejects_what_portkey_rejects():
    good = portkey_dict(load_spec(ROOT / TEXTBOOK))
    Target.model_validate(good)
    for broken in (
        {**good, "strategy": {**good["strategy"], "mode": "ranked"}},
        {**good, "strategy": {**good["strategy"], "default": "nowhere"}},
        {**good, "targets": [{"name": "routine"}, *good["targets"][1:]]},
        {
            **good,
            "strategy": {
                **good["strategy"],
                "conditions": [{"query": {"metadata.age_s": {"$older": 9}}, "then": "failover"}],
            },
        },
    ):
        with pytest.raises(ValueError):
            Target.model_validate(broken)


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
