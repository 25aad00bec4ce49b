"""The live keeper in a real LiteLLM proxy (litellm[proxy]==1.108.7) on the chapter's plan, against a fake
upstream on 127.0.0.1 that counts every hit; time moves by the keeper's clock file, not the wall."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from budget.keeper import simulate
from budget.model import load_scenario, load_spec
from budget.traffic import live_day
from tests.conftest import run_cli
from tests.live_helpers import ELEVEN, Net, live_net

SPEC = "specs/budget_network.yaml"
USER = {"role": "user", "content": "diagnose the alert"}
Q45 = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    with live_net(tmp_path_factory.mktemp("live"), SPEC) as n:
        yield n


def md(inc: str, sev: str = "P2", phase: str = "triage", **more: object) -> dict[str, object]:
    return {"incident_id": inc, "severity": sev, "phase": phase, **more}


def test_the_chapter_outage_in_the_proxy_ends_with_the_simulators_query(net: Net, tmp_path: Path):
    spec = load_spec(SPEC)
    sc = load_scenario("scenarios/fail_local_45m.json", spec)
    net.at(ELEVEN)
    net.upstream.reset()
    net.upstream.fail("local-coder")
    first = sc.incidents[0]
    status, _, _ = net.ask("local-coder", md(first.id, first.severity, blast_radius=first.blast_radius))
    assert status == 500  # the upstream failed once; the keeper marks the tier down
    net.wait_down("local-coder")
    served_top: set[str] = set()
    seen: dict[str, int] = {}
    for minute in (0, 1, 2, 3, 5):
        net.at(ELEVEN + minute * 60)
        for inc in sc.incidents:
            status, what, fields = net.ask("local-coder", md(inc.id, inc.severity, blast_radius=inc.blast_radius))
            seen[what] = seen.get(what, 0) + 1
            if status == 200:
                assert what == "frontier-reviewer" and minute >= 2  # never before the policy's 90 s
                served_top.add(inc.id)
            else:
                assert status == 429 and what in ("queued", "degraded", "manual"), (status, what, fields)
                assert fields["reason"]
    # the call that found it down, then the keeper's own probes, one a minute, which found it still failing
    probes = net.wait_probes(ELEVEN, 4)
    assert [p["answered"] for p in probes] == [False] * 4
    assert net.upstream.stats().get("local-coder") == 1 + len(probes)
    assert net.upstream.stats().get("frontier-reviewer") == seen["frontier-reviewer"]
    net.at(ELEVEN + 45 * 60)
    net.upstream.fail("local-coder", False)
    keeper = net.keeper()
    assert keeper.set_tier("local-coder", False, "operator: back")
    keeper.store.close()
    net.at(ELEVEN + 46 * 60)
    status, what, _ = net.ask("local-coder", md(sc.incidents[2].id, sc.incidents[2].severity))
    assert (status, what) == (200, "local-coder")
    sim = simulate(spec, sc).to_dict()
    assert served_top == {d["id"] for d in sim["decisions"] if d["route"] == "failover"}
    proc = run_cli(["inspect", "--result", str(net.state), "--query", Q45 + " && token_health_min<0.60"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout


def test_a_misbehaving_caller_is_refused_and_never_reaches_the_top_tier(net: Net):
    net.at(ELEVEN + 86400)  # a new day
    net.upstream.reset()
    before = net.upstream.stats().get("frontier-reviewer", 0)
    status, what, fields = net.ask("frontier-reviewer", md("m1", "P3"), fallbacks=["frontier-reviewer"])
    assert (status, what) == (429, "refused")
    assert "frontier-reviewer" in fields["reason"] and fields["decision"] == "refused"
    # its own fallbacks and retries are dropped: it is served where the keeper says, once
    status, what, _ = net.ask("local-coder", md("m2", "P3"), fallbacks=["frontier-reviewer"], num_retries=5)
    assert (status, what) == (200, "local-coder")
    # an api_base of its own the proxy itself rejects before any hook (1.108.7); nothing reaches an upstream
    status, _, _ = net.ask("local-coder", md("m3", "P3"), api_base="http://127.0.0.1:9")
    assert status != 200
    assert net.upstream.stats().get("frontier-reviewer", 0) == before
    assert net.upstream.stats().get("local-coder") == 1
    status, what, _ = net.ask("frontier-reviewer", md("m2", "P3", purpose="review"))
    assert (status, what) == (200, "frontier-reviewer")  # a review is the top tier's own work


def test_bad_input_is_refused_with_one_line_and_the_proxy_keeps_serving(net: Net):
    net.at(ELEVEN + 86400 + 600)
    cases = [
        (None, "metadata.incident_id"),
        (md("b1", "P9"), "metadata.severity"),
        (md("b1", "P1", phase="lunch"), "metadata.phase"),
        (md("b1", "P1", blast_radius=9), "metadata.blast_radius"),
    ]
    for meta, field in cases:
        status, what, fields = net.ask("local-coder", meta)
        assert (status, what) == (429, "refused")
        assert fields["reason"].startswith(field)
    status, what, _ = net.ask("local-coder", md("b2", "warning"))
    assert (status, what) == (200, "local-coder")
    log = net.proxy.log_path.read_text(errors="replace")
    assert "budget-keeper: refused request for 'local-coder': metadata.severity" in log
    assert "keeper error" not in log and "keeper unavailable" not in log


def test_a_tier_its_upstream_took_down_comes_back_when_the_keepers_probe_answers(net: Net):
    day = ELEVEN + 2 * 86400
    net.at(day)
    net.upstream.reset()
    net.upstream.fail("local-coder")
    assert net.ask("local-coder", md("p1", "P2"))[0] == 500
    net.wait_down("local-coder")
    net.at(day + 30)  # within the first minute: no probe yet
    assert net.ask("local-coder", md("p1", "P2"))[:2] == (429, "degraded")  # a P2 is not failed over
    net.at(day + 61)  # a minute on: this request is refused and the keeper asks local-coder itself, once
    assert net.ask("local-coder", md("p2", "P3"))[0] == 429
    assert net.ask("local-coder", md("p3", "P3"))[0] == 429
    assert [p["answered"] for p in net.wait_probes(day, 1)] == [False]
    assert net.upstream.stats() == {"local-coder": 2}  # the failed call and one probe, not one per request
    net.upstream.fail("local-coder", False)  # the upstream is back; nobody tells the keeper
    net.at(day + 125)
    assert net.ask("local-coder", md("p1", "P2"))[0] == 429  # decided while still down; its probe answers
    assert [p["answered"] for p in net.wait_probes(day, 2)] == [False, True]
    net.wait_down("local-coder", up=True)
    net.at(day + 185)  # the keeper's next tick: the tier is back (instant return); p1 went to the manual channel
    assert net.ask("local-coder", md("p4", "P2"))[:2] == (200, "local-coder")
    assert net.upstream.stats() == {"local-coder": 4}  # + the probe that answered + the request served
    assert "local-coder back up at 11:02:05: probe answered" in net.proxy.log_path.read_text(errors="replace")
    events = [
        (e["time"], e["event"], e["by"]) for e in live_day(str(net.state), "2026-01-03")[1]["live"]["tier_events"]
    ]
    assert events == [
        ("11:00:00", "down", "upstream"),
        ("11:01:01", "probe failed", "probe"),
        ("11:02:05", "probe answered", "probe"),
        ("11:02:05", "up", "probe"),
    ]


def test_every_endpoint_of_the_proxy_goes_through_the_keeper_and_a_stream_is_reconciled(net: Net):
    day = ELEVEN + 3 * 86400
    net.at(day)
    net.upstream.reset()
    p3 = md("e1", "P3")
    asks = {
        "/v1/messages": {"model": "frontier-reviewer", "max_tokens": 9, "metadata": p3, "messages": [USER]},
        "/v1/responses": {"model": "frontier-reviewer", "input": "diagnose", "metadata": p3},
        "/v1/completions": {"model": "frontier-reviewer", "prompt": "diagnose", "metadata": p3},
        "/v1/embeddings": {"model": "frontier-reviewer", "input": "diagnose", "metadata": p3},
    }
    for path, body in asks.items():
        status, headers, data = net.proxy.post(path, body)
        assert status == 429, path
        # the header, or (the other endpoints' error shapes drop it) the decision in the error's message
        assert headers.get("x-budget-decision") == "refused" or re.search(rb"decision\W+refused", data), path
    assert net.upstream.stats() == {}  # a caller cannot reach the top tier by another door
    # a stream: decided before the first byte, its usage reconciled when it ends
    body = {"model": "local-coder", "stream": True, "metadata": md("e2", "P3"), "messages": [USER]}
    status, _, data = net.proxy.post("/v1/chat/completions", body)
    assert status == 200 and b"data: [DONE]" in data
    keeper = net.keeper()
    try:
        for _ in range(100):
            usage = [b for k, b in keeper.store.events("2026-01-04") if k == "usage"]
            if usage:
                break
            time.sleep(0.1)
        assert [u["total_tokens"] for u in usage] == [11.0]  # the fake's usage: 4 prompt + 7 completion tokens
        # the reservation (4 + 512 tokens when max_tokens is not set) replaced by the usage reported
        assert keeper.store.counters("2026-01-04")["tier:local-coder"] == 11.0
    finally:
        keeper.store.close()
