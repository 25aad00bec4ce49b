"""budget export: a LiteLLM proxy config that LiteLLM's own Router loads, a Portkey config of Portkey's shape."""

from __future__ import annotations

import asyncio
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
