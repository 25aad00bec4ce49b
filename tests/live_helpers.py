"""Shared by the real-proxy tests: a fake upstream, an exported config and a LiteLLM proxy with the keeper."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.model import load_spec
from budget.traffic import endpoint_prefixes
from budget.traffic.live import LiveKeeper
from budget.traffic.live.fakeupstream import FakeUpstream
from budget.traffic.live.proxy import Proxy, decision_of

ROOT = Path(__file__).resolve().parents[1]
ELEVEN = 1767265200.0  # 2026-01-01 11:00 UTC


@dataclass
class Net:
    proxy: Proxy
    upstream: FakeUpstream
    env: dict[str, str]
    clock: Path
    state: Path

    def at(self, t: float) -> None:
        tmp = self.clock.with_suffix(".tmp")
        tmp.write_text(repr(t))
        tmp.replace(self.clock)

    def keeper(self) -> LiveKeeper:
        return LiveKeeper.from_env(self.env)

    def ask(self, model: str, md: dict[str, Any] | None, **extra: Any) -> tuple[int, str, dict[str, Any]]:
        """(status, the tier that served it or the keeper's decision, the decision fields)."""
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "diagnose the alert"}]}
        if md is not None:
            body["metadata"] = md
        body.update(extra)
        status, headers, data = self.proxy.chat(body)
        if status == 200:
            return status, headers.get("x-litellm-model-group", "?"), {}
        fields = decision_of(data)
        return status, headers.get("x-budget-decision", fields.get("decision", "?")), fields

    def wait_down(self, tier: str, timeout: float = 10, up: bool = False) -> None:
        """The failure event (a probe) lands shortly after the response: wait until the keeper noted the tier
        down (``up``: back up)."""
        keeper = self.keeper()
        try:
            for _ in range(int(timeout / 0.1)):
                if (tier in keeper.store.tiers_down()) != up:
                    return
                time.sleep(0.1)
        finally:
            keeper.store.close()
        raise AssertionError(f"{tier} was never marked {'up' if up else 'down'}")

    def wait_probes(self, t: float, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The keeper's probes of the UTC day of ``t``, once ``count`` of them are logged (they run after the
        response that took them); then a short wait shows no more come."""
        from budget.traffic.live.clock import day_and_second

        keeper = self.keeper()
        day = day_and_second(t)[0]
        try:
            for _ in range(int(timeout / 0.1)):
                probes = [body for kind, body in keeper.store.events(day) if kind == "probe"]
                if len(probes) >= count:
                    time.sleep(0.3)
                    return [body for kind, body in keeper.store.events(day) if kind == "probe"]
                time.sleep(0.1)
        finally:
            keeper.store.close()
        raise AssertionError(f"{count} probes expected, {len(probes)} logged")


@contextmanager
def live_net(tmp: Path, spec_path: str, workers: int = 1, state: str | None = None) -> Iterator[Net]:
    upstream = FakeUpstream().start()
    config = tmp / "config.yaml"
    subprocess.run(
        [sys.executable, "-m", "budget", "export", "--budget-spec", spec_path, "--to", "litellm", "--out", str(config)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    clock = tmp / "clock"
    env = {
        f"{stem}_{what}": (upstream.base if what == "API_BASE" else f"key-{stem.lower()}")
        for stem in endpoint_prefixes(load_spec(ROOT / spec_path)).values()
        for what in ("API_BASE", "API_KEY")
    }
    env.update(
        BUDGET_KEEPER_STATE=state or str(tmp / "keeper.db"),
        BUDGET_KEEPER_SPEC=str(ROOT / spec_path),
        BUDGET_KEEPER_CLOCK=str(clock),
        LITELLM_MASTER_KEY="sk-test-master",
    )
    net = Net(Proxy(config, env, tmp / "proxy.log", workers), upstream, env, clock, tmp / "keeper.db")
    net.at(ELEVEN)
    try:
        net.proxy.wait_ready()
        yield net
    finally:
        net.proxy.stop()
        upstream.stop()


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A real redis-server on 127.0.0.1:``port`` (no persistence), answering when this returns."""
    import shutil
    import socket

    import pytest

    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc


def chapter_live_day(tmp: Path) -> Path:
    """A keeper state in ``tmp``: the chapter's 20 incidents asked about at 11:00, 11:02 and 11:44 while
    local-coder is down for 45 minutes (the clock injected), each request served answered with 90 tokens,
    then local-coder back; returns the state's path."""
    from budget.model import load_scenario
    from budget.traffic.live import SqliteStore

    spec_path = ROOT / "specs" / "budget_network.yaml"
    spec = load_spec(spec_path)
    incidents = load_scenario(ROOT / "scenarios" / "fail_local_45m.json", spec).incidents
    now = [ELEVEN]
    lk = LiveKeeper(spec, SqliteStore(str(tmp / "k.db")), lambda: now[0], 120, "instant", spec_path.read_text())
    lk.set_tier("local-coder", True, "upstream 500")
    for minute in (0, 2, 44):
        now[0] = ELEVEN + minute * 60
        for inc in incidents:
            md = {"incident_id": inc.id, "severity": inc.severity, "phase": "triage", "blast_radius": inc.blast_radius}
            d = lk.decide("local-coder", md, 100)
            if d.served:  # the upstream answers it, as the proxy's success event reports
                lk.reconcile(d.to_dict(), 90, d.tier)
    now[0] = ELEVEN + 45 * 60
    lk.set_tier("local-coder", False, "operator: back")
    return tmp / "k.db"
