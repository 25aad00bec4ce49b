"""The live keeper on the payment plan in a real LiteLLM proxy with two workers sharing one SQLite state."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live_helpers import ELEVEN, Net, live_net

SPEC = "specs/payment_gateway_80_20_mid.yaml"
SEVERITIES = ["P0", "P1", "P2", "P3"]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    with live_net(tmp_path_factory.mktemp("live2"), SPEC, workers=2) as n:
        yield n


def test_no_p3_and_no_young_task_reaches_the_upper_tiers_while_local_coder_is_down(net: Net):
    net.at(ELEVEN)
    net.upstream.reset()
    net.upstream.fail("local-coder")
    incidents = [(f"pay-{i:02d}", SEVERITIES[i % 4], 1 + i % 5) for i in range(16)]

    def ask(inc: tuple[str, str, int]) -> tuple[int, str, dict]:
        md = {"incident_id": inc[0], "severity": inc[1], "phase": "triage", "blast_radius": inc[2]}
        return net.ask("local-coder", md)

    assert ask(incidents[0])[0] == 500  # the upstream fails once: the keeper marks local-coder down
    net.wait_down("local-coder")
    served: dict[str, list[tuple[int, str]]] = {}
    for minute in (0, 1, 2, 3, 5):
        net.at(ELEVEN + minute * 60)
        for inc in incidents:
            status, what, _ = ask(inc)
            if status == 200:
                served.setdefault(inc[1], []).append((minute, what))
    assert "P3" not in served  # P3 waits for local-coder
    for sev, hits in served.items():
        for minute, tier in hits:
            assert minute >= 2  # older than the policy's 90 s
            assert tier == "mid-coder" or (tier == "frontier-reviewer" and sev in ("P0", "P1"))
    assert served  # the ranked failover did act for the older P0-P2
    # the call that found it down, then one probe a minute (minutes 1, 2, 3, 5) however many requests and
    # workers: the two workers share the interval's probe through the state
    probes = net.wait_probes(ELEVEN, 4)
    assert [p["answered"] for p in probes] == [False] * 4
    hits = net.upstream.stats()
    assert hits.get("local-coder") == 1 + 4
    assert hits.get("mid-coder", 0) + hits.get("frontier-reviewer", 0) == sum(len(v) for v in served.values())


def test_two_workers_share_one_tokens_a_minute_budget(net: Net):
    net.at(ELEVEN + 86400)  # a new day, frontier-reviewer up: 16,000 tokens a minute (capacity_tpm)
    net.upstream.reset()

    def review(i: int) -> tuple[int, str, dict]:
        md = {"incident_id": f"rev-{i}", "severity": "P1", "phase": "triage", "purpose": "review"}
        return net.ask("frontier-reviewer", md, max_tokens=5000)  # ~5,000 tokens reserved each: 3 fit a minute

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(review, range(8)))
    ok = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 429]
    assert len(ok) == 3 and len(refused) == 5
    assert all(r[1] == "degraded" and "tpm:frontier-reviewer" in r[2]["reason"] for r in refused)
    assert net.upstream.stats().get("frontier-reviewer") == 3
    net.at(ELEVEN + 86400 + 60)  # the next minute has room again
    assert review(9)[0] == 200
    keeper = net.keeper()
    decided = [body for kind, body in keeper.store.events("2026-01-02") if kind == "decision"]
    keeper.store.close()
    assert len(decided) == 9  # no decision lost
    assert len({d["worker"] for d in decided}) == 2  # both workers decided, on one budget
