"""The live keeper's engine: the simulator's decisions per request, state shared under concurrency."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.keeper import simulate
from budget.model import load_scenario, load_spec
from budget.traffic.live import LiveKeeper, SqliteStore
from budget.traffic.live.proxy import free_port
from budget.traffic.live.redisstore import RedisStore
from tests.live_helpers import start_redis

ELEVEN = 1767265200.0  # 2026-01-01 11:00 UTC
COMPOSITE = ("failover_to_frontier", "degraded_queue", "manual_queue_after_120s", "token_health_min")


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def keeper(tmp_path: Path, spec_path: str, clock: Clock, store=None) -> LiveKeeper:
    text = Path(spec_path).read_text()
    return LiveKeeper(load_spec(spec_path), store or SqliteStore(str(tmp_path / "k.db")), clock, 120, "instant", text)


def test_the_chapter_outage_live_ends_with_the_simulators_composite_query(tmp_path):
    spec = load_spec("specs/budget_network.yaml")
    sc = load_scenario("scenarios/fail_local_45m.json", spec)
    clock = Clock(ELEVEN)
    lk = keeper(tmp_path, "specs/budget_network.yaml", clock)
    lk.set_tier("local-coder", True, "upstream 500")
    served_top: set[str] = set()
    for minute in (0, 1, 2, 3, 5, 10, 44):
        clock.t = ELEVEN + minute * 60
        for inc in sc.incidents:
            md = {"incident_id": inc.id, "severity": inc.severity, "phase": "triage", "blast_radius": inc.blast_radius}
            d = lk.decide("local-coder", md, 100)
            assert d.tier in (None, "frontier-reviewer")
            if d.decision == "failover":
                served_top.add(inc.id)
    clock.t = ELEVEN + 45 * 60
    lk.set_tier("local-coder", False, "operator: back")
    live = lk.result()
    sim = simulate(spec, sc).to_dict()
    assert {k: live[k] for k in COMPOSITE} == {k: sim[k] for k in COMPOSITE}
    assert (live["failover_to_frontier"], live["degraded_queue"], live["manual_queue_after_120s"]) == (5, 15, 15)
    assert len(served_top) == 5
    (tmp_path / "day.jsonl").write_text(lk.alerts())
    from tests.conftest import run_cli

    proc = run_cli(
        [
            "drill",
            "--budget-spec",
            str(Path.cwd() / "specs/budget_network.yaml"),
            "--alerts",
            "day.jsonl",
            "--outages",
            "45",
            "--out",
            "drill.json",
        ],
        tmp_path,
    )
    assert proc.returncode == 1, proc.stderr  # the 45-minute drill of the live day falls below the guard
    assert "day.jsonl: jsonl, 20 records, 20 incidents" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("45m"))
    assert row.split()[3:5] == ["15", "0.55"]  # the manual channel and token_health_min: simulate's 0.555, rounded down
    assert {d["id"] for d in sim["decisions"] if d["route"] == "failover"} == served_top


def test_payment_plan_keeps_p3_and_young_tasks_off_the_upper_tiers(tmp_path):
    clock = Clock(ELEVEN)
    lk = keeper(tmp_path, "specs/payment_gateway_80_20_mid.yaml", clock)
    lk.set_tier("local-coder", True, "upstream 500")
    sev = ["P0", "P1", "P2", "P3"] * 4
    for minute in range(0, 6):
        clock.t = ELEVEN + minute * 60 + 30
        for i, s in enumerate(sev):
            d = lk.decide("local-coder", {"incident_id": f"i{i}", "severity": s, "phase": "triage"}, 100)
            if s == "P3" or minute < 2:
                assert d.tier is None, (minute, s, d)


def test_a_caller_that_names_the_top_tier_is_refused(tmp_path):
    lk = keeper(tmp_path, "specs/budget_network.yaml", Clock(ELEVEN))
    d = lk.decide("frontier-reviewer", {"incident_id": "x", "severity": "P3", "phase": "triage"}, 10)
    assert d.decision == "refused" and "model" in d.reason and d.tier is None
    d = lk.decide("local-coder", {"incident_id": "x", "severity": "sev9", "phase": "triage"}, 10)
    assert d.decision == "refused" and d.reason.startswith("metadata.severity")
    d = lk.decide("local-coder", None, 10)
    assert d.decision == "refused" and d.reason.startswith("metadata.incident_id")
    d = lk.decide("local-coder", {"incident_id": "x", "severity": "critical", "phase": "triage"}, 10)
    assert (d.decision, d.tier, d.severity) == ("serve", "local-coder", "P0")


def test_a_state_path_that_is_a_directory_is_one_clear_error(tmp_path):
    with pytest.raises(BudgetError, match="not a regular file"):
        SqliteStore(str(tmp_path))


def _hammer(lk: LiveKeeper, n: int, prefix: str, out: list) -> None:
    for i in range(n):
        out.append(lk.decide("local-coder", {"incident_id": f"{prefix}{i}", "severity": "P2", "phase": "triage"}, 1000))


def _concurrent(tmp_path: Path, store_of) -> None:
    """Threads, each with its own keeper on one store, cannot pass the tier's tokens a minute together."""
    clock = Clock(ELEVEN)
    keepers = [keeper(tmp_path, "specs/budget_network.yaml", clock, store_of()) for _ in range(4)]
    limit = keepers[0].tpm["local-coder"]
    n = int(limit // 1000 // 4) + 5  # together they ask for more than the minute's capacity
    outs: list[list] = [[] for _ in keepers]
    threads = [threading.Thread(target=_hammer, args=(k, n, f"t{j}-", outs[j])) for j, k in enumerate(keepers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    served = sum(1 for o in outs for d in o if d.served)
    assert served == int(limit // 1000)
    counters = keepers[0].store.counters("2026-01-01")
    assert counters["tpm:local-coder:29454420"] <= limit
    decisions = [e for e in keepers[0].store.events("2026-01-01") if e[0] == "decision"]
    assert len(decisions) == 4 * n  # none lost
    for k in keepers:
        k.store.close()


def test_sqlite_reservations_hold_under_concurrency(tmp_path):
    # as in a proxy: each keeper's store checkpoints in a thread of its own while the others write
    _concurrent(tmp_path, lambda: SqliteStore(str(tmp_path / "shared.db"), background_checkpoint=True))


def test_the_keeper_reads_only_the_facts_however_busy_the_day(tmp_path):
    """Each request reads the facts logged since the last one; that read must not walk the day's decisions
    and usage (it did: a cost that grew with the day's traffic). A state written before the facts index
    gets it when the keeper opens it."""
    import sqlite3

    from budget.traffic.live.store import FACTS

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, day TEXT NOT NULL, kind TEXT NOT NULL, body TEXT)")
    con.execute("CREATE INDEX log_day ON log (day, id)")
    con.executemany("INSERT INTO log (day, kind, body) VALUES ('2026-01-01', 'decision', '{}')", [()] * 500)
    con.commit()
    con.close()
    store = SqliteStore(str(path))
    store.log("2026-01-01", "seen", {"id": "a"})
    assert store.facts("2026-01-01", 0) == ([("seen", {"id": "a"})], 501)
    query = f"SELECT id, kind, body FROM log WHERE day=? AND id>? AND {FACTS} ORDER BY id"
    plan = store._con().execute("EXPLAIN QUERY PLAN " + query, ("2026-01-01", 0)).fetchall()
    assert "USING INDEX log_facts" in plan[0][-1]
    store.close()


def test_the_keepers_store_checkpoints_in_its_own_thread(tmp_path):
    """The keeper's SQLite store copies the WAL into the database file itself, so no request pays for it;
    the request connections checkpoint only far behind (a backstop)."""
    import time

    from budget.traffic.live.store import BACKSTOP_PAGES

    path = tmp_path / "keeper.db"
    store = SqliteStore(str(path), background_checkpoint=True)
    assert store._con().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
    empty = path.stat().st_size
    for i in range(300):
        store.log("2026-01-01", "decision", {"id": i, "reason": "x" * 200})
    deadline = time.monotonic() + 10
    while path.stat().st_size == empty and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.stat().st_size > empty and store.checkpoints > 0  # the log is in the database file itself
    store.close()
    plain = SqliteStore(str(tmp_path / "cli.db"))  # the command line's reads: SQLite's own checkpoints
    assert plain._con().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    plain.close()


@pytest.fixture(scope="module")
def redis_url():
    port = free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_redis_reservations_hold_under_concurrency(tmp_path, redis_url):
    _concurrent(tmp_path, lambda: RedisStore(redis_url))


def test_a_redis_that_does_not_answer_is_one_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BudgetError, match="Redis does not answer"):
        RedisStore(f"redis://127.0.0.1:{port}/0")


def test_budget_fit_reads_the_live_day_as_a_spend_log(tmp_path):
    import json

    from tests.conftest import run_cli

    clock = Clock(ELEVEN)
    lk = keeper(tmp_path, "specs/budget_network.yaml", clock)
    for i in range(12):
        clock.t = ELEVEN + i * 300
        for phase, tokens in (("triage", 900), ("diagnosis", 2400), ("plan", 1500)):
            d = lk.decide("local-coder", {"incident_id": f"inc-{i}", "severity": "P2", "phase": phase}, 100)
            assert d.served
            lk.reconcile(d.to_dict(), tokens, d.tier)
        md = {"incident_id": f"inc-{i}", "severity": "P2", "phase": "plan", "purpose": "review"}
        d = lk.decide("frontier-reviewer", md, 100)
        assert d.decision == "review"
        lk.reconcile(d.to_dict(), 3000, d.tier)
    rows = lk.spend_log()
    assert len(rows) == 48 and rows[0]["metadata"] == {"incident_id": "inc-0", "phase": "triage", "keeper": "serve"}
    (tmp_path / "live.json").write_text(json.dumps(rows))
    proc = run_cli(["fit", "--spend-logs", "live.json", "--out", "fit.yaml"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "12 incidents, 12 reviewed by frontier-reviewer" in proc.stdout
    assert "tokens_per_incident        4,800" in proc.stdout  # 900 + 2,400 + 1,500 per incident, as served
    assert lk.store.counters("2026-01-01")["tier:local-coder"] == 12 * (900 + 2400 + 1500)  # reconciled exactly


def test_one_probe_an_interval_for_a_tier_its_upstream_took_down_and_none_for_an_operators(tmp_path):
    clock = Clock(ELEVEN)
    store = SqliteStore(str(tmp_path / "k.db"))
    workers = [keeper(tmp_path, "specs/budget_network.yaml", clock, store) for _ in range(3)]
    workers[0].set_tier("local-coder", True, "upstream failed: 500", by="upstream")
    workers[0].set_tier("frontier-reviewer", True, "operator: maintenance")
    probes = []
    for second in (30, 61, 62, 90, 121, 150):
        clock.t = ELEVEN + second
        for i, w in enumerate(workers):
            d = w.decide("local-coder", {"incident_id": f"i{second}-{i}", "severity": "P3", "phase": "triage"}, 100)
            if d.probe:
                probes.append((second, d.probe))
    assert probes == [(61, "local-coder"), (121, "local-coder")]  # one worker a minute; never the operator's tier
    clock.t = ELEVEN + 125
    assert not workers[1].probed("local-coder", False, "still 500")
    assert "local-coder" in store.tiers_down()
    assert workers[2].probed("local-coder", True, "the upstream answered", tokens=3)
    assert set(store.tiers_down()) == {"frontier-reviewer"}
    day = workers[0].result()
    assert day["live"]["tokens_by_tier"] == {"local-coder": 3}


def test_a_tier_its_upstream_took_down_before_midnight_is_still_probed_the_next_day(tmp_path):
    """The probe follows the outage over midnight (it was not asked again: down all the next day); an
    operator's down carried over is still never probed."""
    midnight = ELEVEN + 13 * 3600  # 2026-01-02 00:00 UTC
    clock = Clock(midnight - 30)
    lk = keeper(tmp_path, "specs/budget_network.yaml", clock)
    lk.set_tier("local-coder", True, "upstream failed: 500", by="upstream")
    lk.set_tier("frontier-reviewer", True, "operator: maintenance")
    probes = []
    for second in (10, 40, 100):
        clock.t = midnight + second
        d = lk.decide("local-coder", {"incident_id": f"n{second}", "severity": "P3", "phase": "triage"}, 100)
        probes.append(d.probe)
    assert probes == [None, "local-coder", "local-coder"]  # 40, 70 and 130 s after the down: one a minute
    clock.t = midnight + 110
    assert lk.probed("local-coder", True, "the upstream answered")
    assert set(lk.store.tiers_down()) == {"frontier-reviewer"}


def test_the_probe_interval_is_read_from_the_environment(tmp_path):
    env = {"BUDGET_KEEPER_SPEC": "specs/budget_network.yaml", "BUDGET_KEEPER_STATE": str(tmp_path / "k.db")}
    assert LiveKeeper.from_env(env).probe_sec == 60
    assert LiveKeeper.from_env({**env, "BUDGET_KEEPER_PROBE_SEC": "0"}).probe_sec == 0
    assert LiveKeeper.from_env({**env, "BUDGET_KEEPER_PROBE_SEC": "15"}).probe_sec == 15
    with pytest.raises(BudgetError, match="BUDGET_KEEPER_PROBE_SEC: must be a number of seconds"):
        LiveKeeper.from_env({**env, "BUDGET_KEEPER_PROBE_SEC": "soon"})


def test_a_request_sent_upstream_counts_as_served_only_when_the_upstream_answered(tmp_path):
    clock = Clock(ELEVEN)
    lk = keeper(tmp_path, "specs/budget_network.yaml", clock)
    first = lk.decide("local-coder", {"incident_id": "a", "severity": "P2", "phase": "triage"}, 100)
    lk.reconcile(first.to_dict(), None, first.tier)  # the upstream failed it (the proxy's failure event)
    second = lk.decide("local-coder", {"incident_id": "b", "severity": "P2", "phase": "triage"}, 100)
    lk.reconcile(second.to_dict(), 80, second.tier)
    live = lk.result()["live"]
    assert (live["served_by_tier"], live["failed_by_tier"]) == ({"local-coder": 1}, {"local-coder": 1})
    assert [(r["incident"], r["decision"], r["upstream"]) for r in live["requests_log"]] == [
        ("a", "serve", "failed"),
        ("b", "serve", "answered"),
    ]
