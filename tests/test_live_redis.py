"""The proxy's keeper on a Redis that does not answer: every request refused in one log line, the proxy keeps
serving, and once Redis answers the keeper decides again (its state in Redis)."""

from __future__ import annotations

from pathlib import Path

from budget.traffic.live.proxy import free_port
from budget.traffic.live.redisstore import RedisStore
from tests.live_helpers import ELEVEN, live_net, start_redis


def test_a_redis_that_does_not_answer_fails_closed_and_the_keeper_resumes(tmp_path: Path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with live_net(tmp_path, "specs/budget_network.yaml", state=url) as net:
        net.at(ELEVEN)
        md = {"incident_id": "r1", "severity": "P1", "phase": "triage"}
        status, what, fields = net.ask("local-coder", md)
        assert (status, what) == (429, "refused")
        assert fields["reason"].startswith("keeper unavailable") and "Redis does not answer" in fields["reason"]
        assert net.upstream.stats() == {}
        proc = start_redis(port)
        try:
            status, what, _ = net.ask("local-coder", md)
            assert (status, what) == (200, "local-coder")
            store = RedisStore(url)
            kinds = [kind for kind, _ in store.events("2026-01-01")]
            store.close()
            assert kinds[:2] == ["seen", "decision"] and set(kinds) <= {"seen", "decision", "usage"}
        finally:
            proc.terminate()
            proc.wait(10)
        log = net.proxy.log_path.read_text(errors="replace")
        assert log.count("budget-keeper: refused (keeper unavailable)") == 1
