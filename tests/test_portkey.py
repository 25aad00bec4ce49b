"""The exported Portkey config in the real open-source Portkey gateway, against a fake upstream that counts.

``make test`` installs the gateway (gateways/portkey, npm ``@portkey-ai/gateway`` 1.15.2) and the test
starts it on a free 127.0.0.1 port. Each request carries the exported config in ``x-portkey-config``
and the caller's metadata in ``x-portkey-metadata``, as docs/gateways.md tells callers to; what the
upstream saw, tier by tier, is the proof.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from budget.model import load_spec
from budget.traffic import endpoint_prefixes, portkey_dict
from budget.traffic.live.fakeupstream import FakeUpstream
from budget.traffic.live.proxy import free_port
from tests.conftest import ROOT, run_cli

GATEWAY = ROOT / "gateways" / "portkey"
SERVER = GATEWAY / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
PAYMENT = "specs/payment_gateway_80_20_mid.yaml"
TEXTBOOK = "specs/budget_network.yaml"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream().start()
    try:
        yield up
    finally:
        up.stop()


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not SERVER.exists():
        pytest.fail("the Portkey gateway is not installed: `make test` installs it (make gateways)")
    port = free_port()
    proc = subprocess.Popen(
        [node, "-r", str(GATEWAY / "loopback.cjs"), str(SERVER), f"--port={port}", "--headless"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=GATEWAY,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"the Portkey gateway exited with {proc.returncode}")
                time.sleep(0.2)
        else:
            pytest.fail("the Portkey gateway did not listen within 30 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _env(spec: Path, upstream: FakeUpstream) -> dict[str, str]:
    """Every tier's key and host for the export, all pointing at the fake upstream."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    for tier, prefix in endpoint_prefixes(load_spec(spec)).items():
        env[f"{prefix}_API_KEY"] = f"sk-{tier}"
        env[f"{prefix}_API_BASE"] = upstream.base
    return env


def _export(workdir: Path, spec_path: str, upstream: FakeUpstream) -> str:
    out = workdir / "out" / "portkey.json"
    proc = subprocess.run(
        [sys.executable, "-m", "budget", "export"] + ["--budget-spec", spec_path, "--to", "portkey", "--out", str(out)],
        cwd=workdir,
        env=_env(workdir / spec_path, upstream),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return out.read_text(encoding="utf-8")


def _ask(gateway: str, config: str, metadata: dict[str, Any]) -> int:
    body = json.dumps({"model": "whatever-the-caller-says", "messages": [{"role": "user", "content": "diagnose"}]})
    request = urllib.request.Request(
        f"{gateway}/v1/chat/completions",
        data=body.encode(),
        headers={
            "content-type": "application/json",
            "x-portkey-config": json.dumps(json.loads(config), separators=(",", ":")),  # one header line
            "x-portkey-metadata": json.dumps({k: str(v) for k, v in metadata.items()}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _hits(upstream: FakeUpstream, gateway: str, config: str, **metadata: Any) -> tuple[int, dict[str, int]]:
    before = upstream.stats()
    status = _ask(gateway, config, metadata)
    after = upstream.stats()
    return status, {m: n - before.get(m, 0) for m, n in after.items() if n > before.get(m, 0)}


def test_the_gateway_accepts_the_config_and_routine_work_stays_on_the_cheap_tier(
    workdir: Path, upstream: FakeUpstream, gateway: str
):
    upstream.reset()
    config = _export(workdir, PAYMENT, upstream)
    for severity, age in (("P3", 5), ("P0", 5), ("P1", 300), ("P2", 300)):
        status, hits = _hits(upstream, gateway, config, severity=severity, age_s=age, incident_id="INC-1")
        assert (status, hits) == (200, {"local-coder": 1}), (severity, age)
    # the key the export wrote is the one the upstream received
    assert upstream.last_auth == "Bearer sk-local-coder"


def test_payment_plan_while_local_coder_is_down_nothing_young_and_no_p3_climbs(
    workdir: Path, upstream: FakeUpstream, gateway: str
):
    upstream.reset()
    config = _export(workdir, PAYMENT, upstream)
    upstream.fail("local-coder")
    # P3 at any age, and every severity younger than failover_min_age_sec (90 s): the local tier only,
    # its error back to the caller, who waits (the keeper's degraded queue); never mid-coder or the top tier
    for severity, age in (("P3", 3000), ("P0", 30), ("P1", 90), ("P2", 60)):
        status, hits = _hits(upstream, gateway, config, severity=severity, age_s=age)
        assert (status, hits) == (500, {"local-coder": 1}), (severity, age, hits)
    # P2 older than 90 s: the middle tier takes it (mid_failover_severities), never the top tier
    status, hits = _hits(upstream, gateway, config, severity="P2", age_s=120)
    assert (status, hits) == (200, {"local-coder": 1, "mid-coder": 1})
    # P0/P1 older than 90 s: the middle tier first; the top tier only when the middle tier fails too
    status, hits = _hits(upstream, gateway, config, severity="P1", age_s=120)
    assert (status, hits) == (200, {"local-coder": 1, "mid-coder": 1})
    upstream.fail("mid-coder")
    status, hits = _hits(upstream, gateway, config, severity="P0", age_s=120)
    assert (status, hits) == (200, {"local-coder": 1, "mid-coder": 1, "frontier-reviewer": 1})
    status, hits = _hits(upstream, gateway, config, severity="P2", age_s=120)
    assert (status, hits) == (500, {"local-coder": 1, "mid-coder": 1})


def test_textbook_plan_failover_reaches_the_top_tier_only_for_old_p0_p1(
    workdir: Path, upstream: FakeUpstream, gateway: str
):
    upstream.reset()
    config = _export(workdir, TEXTBOOK, upstream)
    upstream.fail("local-coder")
    assert _hits(upstream, gateway, config, severity="P1", age_s=91) == (
        200,
        {"local-coder": 1, "frontier-reviewer": 1},
    )
    for severity, age in (("P2", 600), ("P3", 600), ("P0", 89)):
        assert _hits(upstream, gateway, config, severity=severity, age_s=age) == (500, {"local-coder": 1})
    # a review names its tier: it goes there and nowhere else
    upstream.fail("local-coder", False)
    assert _hits(upstream, gateway, config, tier="frontier-reviewer", severity="P3") == (
        200,
        {"frontier-reviewer": 1},
    )


def test_tier_names_that_look_like_target_names_never_share_a_target(workdir: Path, upstream: FakeUpstream):
    spec = workdir / "specs" / "names.yaml"
    spec.write_text(
        "daily_budget_tokens: 300\nphases:\n  triage: {routine: 100, failover: 50, x: 50, x-failover: 100}\n",
        encoding="utf-8",
    )
    config = json.loads(_export(workdir, "specs/names.yaml", upstream))
    names = [t["name"] for t in config["targets"]]
    assert len(names) == len(set(names))
    wanted = {c["then"] for c in config["strategy"]["conditions"]} | {config["strategy"]["default"]}
    assert wanted <= set(names)


def test_tiers_that_would_read_one_key_are_refused_before_anything_is_written(workdir: Path):
    spec = workdir / "specs" / "twins.yaml"
    spec.write_text("daily_budget_tokens: 20\nphases:\n  triage: {local-coder: 10, local_coder: 10}\n")
    proc = run_cli(["export", "--budget-spec", "specs/twins.yaml", "--to", "portkey", "--out", "out/p.json"], workdir)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "'local-coder' and 'local_coder' would both read LOCAL_CODER_API_KEY" in proc.stderr
    assert not (workdir / "out" / "p.json").exists()


def test_a_missing_key_names_the_variables_to_set(workdir: Path):
    proc = run_cli(["export", "--budget-spec", PAYMENT, "--to", "portkey", "--out", "out/p.json"], workdir)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "set LOCAL_CODER_API_KEY, MID_CODER_API_KEY, FRONTIER_REVIEWER_API_KEY" in proc.stderr
    assert not (workdir / "out" / "p.json").exists()


def test_the_config_is_what_the_keeper_would_allow_tier_by_tier():
    """The chains come from the keeper's own rule: the top tier takes failover_severities, a middle one the mid's."""
    spec = load_spec(ROOT / PAYMENT)
    env = {f"{p}_API_KEY": "k" for p in endpoint_prefixes(spec).values()}
    config = portkey_dict(spec, env)
    chains = {t["name"]: [x["override_params"]["model"] for x in t.get("targets", [t])] for t in config["targets"]}
    assert chains == {
        "@1:mid-coder>P0,P1": ["mid-coder", "frontier-reviewer"],
        "@1:mid-coder": ["mid-coder"],
        "@2:frontier-reviewer": ["frontier-reviewer"],
        "@0:local-coder>P0,P1": ["local-coder", "mid-coder", "frontier-reviewer"],
        "@0:local-coder>P2": ["local-coder", "mid-coder"],
        "@0:local-coder": ["local-coder"],
    }


class _Webhook:
    """A guardrail webhook on 127.0.0.1 that answers every check with one verdict and keeps what it was sent."""

    def __init__(self, verdict: bool) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread

        self.calls: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                hook.calls.append(json.loads(self.rfile.read(int(self.headers.get("content-length") or 0))))
                data = json.dumps({"verdict": verdict}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/check"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_webhook_guardrail_can_deny_but_only_a_config_that_carries_it(
    workdir: Path, upstream: FakeUpstream, gateway: str
):
    """What docs/gateways.md claims of a keeper beside Portkey: it can veto, and the caller can leave it out."""
    upstream.reset()
    config = json.loads(_export(workdir, TEXTBOOK, upstream))
    hook = _Webhook(verdict=False)
    try:
        guarded = {
            **config,
            "before_request_hooks": [
                {
                    "type": "guardrail",
                    "id": "keeper",
                    "deny": True,
                    "checks": [{"id": "default.webhook", "parameters": {"webhookURL": hook.url, "failOnError": True}}],
                }
            ],
        }
        upstream.fail("local-coder")
        # the guardrail sees the routed request (the chain's first model) and the caller's metadata; its "no" is
        # HTTP 446 and no upstream is called, not even the first tier of the chain
        assert _hits(upstream, gateway, json.dumps(guarded), severity="P1", age_s=300) == (446, {})
        assert hook.calls and hook.calls[-1]["metadata"]["severity"] == "P1"
        assert hook.calls[-1]["request"]["json"]["model"] == "local-coder"
        # the same caller with the exported config alone: nothing asks the keeper
        assert _hits(upstream, gateway, json.dumps(config), severity="P1", age_s=300) == (
            200,
            {"local-coder": 1, "frontier-reviewer": 1},
        )
    finally:
        hook.close()
