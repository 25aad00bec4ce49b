"""The live keeper's cost in a real LiteLLM proxy: the same proxy and fake upstream with and without the
keeper (p50/p99 latency side by side, one run), and the decisions a second one host sustains with 4 workers.

Run: .venv/bin/python bench/live.py   (target: p99 added under 2 ms on SQLite; needs litellm[proxy]==1.108.7,
or BUDGET_LITELLM naming its `litellm`). Bounded: a fixed number of requests, all to 127.0.0.1.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# litellm, imported here to time the callback in process, would fetch its model cost map from GitHub:
# its own copy is enough (the proxies started below are given the same setting)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from budget.model import load_spec  # noqa: E402
from budget.traffic import endpoint_prefixes, litellm_yaml  # noqa: E402
from budget.traffic.live.fakeupstream import FakeUpstream  # noqa: E402
from budget.traffic.live.proxy import Proxy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = "specs/budget_network.yaml"
REQUESTS = 3000  # sequential requests per proxy for the latency figures (p99: the 30th slowest)
WARMUP = 30
LOAD_REQUESTS = 800  # requests for the 4-worker throughput, 16 clients at a time
INCIDENTS = 20
DAY = "scenarios/alerts_day_800.jsonl"


def body(i: int) -> dict[str, object]:
    md = {"incident_id": f"bench-{i % INCIDENTS}", "severity": "P2", "phase": "triage"}
    return {"model": "local-coder", "metadata": md, "messages": [{"role": "user", "content": "triage"}]}


def latencies(proxies: list[Proxy]) -> list[list[float]]:
    """Each proxy's sequential request times, the proxies taking turns request by request, so that what else
    the machine does at a moment weighs on both alike."""
    for i in range(WARMUP):
        for proxy in proxies:
            proxy.chat(body(i))
    out: list[list[float]] = [[] for _ in proxies]
    for i in range(REQUESTS):
        for n, proxy in enumerate(proxies[:: 1 if i % 2 else -1]):  # which goes first alternates too
            t = time.perf_counter()
            status, _, _ = proxy.chat(body(i))
            out[n if i % 2 else len(proxies) - 1 - n].append((time.perf_counter() - t) * 1000)
            if status != 200:
                raise SystemExit(f"request {i} got {status}: see {proxy.log_path}")
    return [sorted(x) for x in out]


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def in_process(spec_text: str, tmp: Path) -> None:
    """The keeper's own share: LiveKeeper.decide on SQLite, no proxy around it."""
    from budget.model import spec_from_text
    from budget.traffic.live import LiveKeeper, SqliteStore

    store = SqliteStore(str(tmp / "inproc.db"), background_checkpoint=True)  # as the proxy's keeper opens it
    keeper = LiveKeeper(spec_from_text(spec_text), store, time.time, spec_text=spec_text)
    out = []
    for i in range(2000):
        t = time.perf_counter()
        keeper.decide("local-coder", body(i)["metadata"], 100)
        out.append((time.perf_counter() - t) * 1000)
    keeper.store.close()
    first, last = sorted(out[:500]), sorted(out[-500:])
    report("LiveKeeper.decide in process (SQLite, 2,000 decisions, 20 incidents)", out)
    flat = f"first 500 p50 {pct(first, 0.5):.2f} ms, last 500 p50 {pct(last, 0.5):.2f} ms"
    print(f"  {flat} (flat: no request walks the log)")


def callback_share(tmp: Path) -> None:
    """The callback's own work per served request, as the proxy calls it: the pre-call hook (the decision,
    its reservation and log) and the success event (the usage reconciled); in process, on SQLite."""
    import asyncio
    from types import SimpleNamespace

    os.environ.update(BUDGET_KEEPER_SPEC=str(ROOT / SPEC), BUDGET_KEEPER_STATE=str(tmp / "callback.db"))
    from budget.traffic.live.litellm_hook import KeeperCallback

    callback = KeeperCallback()
    usage = SimpleNamespace(usage=SimpleNamespace(total_tokens=120))

    async def run() -> list[float]:
        out = []
        for i in range(2000):
            data: dict[str, Any] = copy.deepcopy(body(i))
            t = time.perf_counter()
            data = await callback.async_pre_call_hook(None, None, data, "acompletion")
            await callback.async_log_success_event({"litellm_params": {"metadata": data["metadata"]}}, usage, 0, 0)
            out.append((time.perf_counter() - t) * 1000)
        return out

    report("the LiteLLM callback's own work (pre-call hook + success event, 2,000 served requests)", asyncio.run(run()))


def day_requests() -> list[tuple[int, dict[str, object]]]:
    """The shipped day of 800 alerts as the pipeline would ask: each incident's triage when it fires,
    its classification 40 s later and its diagnosis 100 s later, in time order."""
    import calendar
    import json

    out = []
    for line in (ROOT / DAY).read_text().splitlines():
        a = json.loads(line)
        t0 = calendar.timegm(time.strptime(a["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        for offset, phase in ((0, "triage"), (40, "classification"), (100, "diagnosis")):
            md = {"incident_id": a["id"], "severity": a["severity"], "phase": phase, "blast_radius": a["blast_radius"]}
            out.append((t0 + offset, md))
    out.sort(key=lambda r: r[0])
    return out


def a_day(spec_text: str, tmp: Path) -> None:
    """A whole day on one keeper, the clock injected: 800 incidents (2,400 decisions) from 00:00 to 24:00,
    local-coder down 11:00-11:45; the keeper's decide alone, on SQLite."""
    from budget.model import spec_from_text
    from budget.traffic.live import LiveKeeper, SqliteStore

    requests = day_requests()
    day0 = requests[0][0] - requests[0][0] % 86400
    now = [0.0]
    store = SqliteStore(str(tmp / "day.db"), background_checkpoint=True)
    keeper = LiveKeeper(spec_from_text(spec_text), store, lambda: now[0], spec_text=spec_text)
    marks = [(day0 + 11 * 3600, True), (day0 + 11 * 3600 + 45 * 60, False)]
    out = []
    for second, md in requests:
        now[0] = second
        while marks and second >= marks[0][0]:
            keeper.set_tier("local-coder", marks.pop(0)[1], "bench")
        t = time.perf_counter()
        keeper.decide("local-coder", md, 100)
        out.append((time.perf_counter() - t) * 1000)
    keeper.store.close()
    report(f"LiveKeeper.decide over a day ({DAY}, {len(out):,} decisions, SQLite)", out)


def report(what: str, out: list[float]) -> None:
    out.sort()
    print(
        f"{what}: p50 {pct(out, 0.5):.2f} ms, p99 {pct(out, 0.99):.2f} ms, max {out[-1]:.2f} ms, "
        f"{len(out) / (sum(out) / 1000):.0f} decisions/s on one core"
    )


def main() -> None:
    spec = load_spec(ROOT / SPEC)
    upstream = FakeUpstream().start()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp_dir:
        tmp = Path(tmp_dir)
        with_keeper = tmp / "keeper.yaml"
        with_keeper.write_text(litellm_yaml(spec, SPEC))
        plain = yaml.safe_load(with_keeper.read_text())
        del plain["litellm_settings"]["callbacks"]
        without = tmp / "plain.yaml"
        without.write_text(yaml.safe_dump(plain, sort_keys=False))
        env = {
            f"{s}_{w}": upstream.base if w == "API_BASE" else "fake"
            for s in endpoint_prefixes(spec).values()
            for w in ("API_BASE", "API_KEY")
        }
        env.update(BUDGET_KEEPER_STATE=str(tmp / "keeper.db"), BUDGET_KEEPER_SPEC=str(ROOT / SPEC))
        in_process((ROOT / SPEC).read_text(), tmp)
        a_day((ROOT / SPEC).read_text(), tmp)
        callback_share(tmp)
        names = ("without the keeper", "with the keeper (SQLite)")
        proxies = [Proxy(c, env, tmp / f"{c.stem}.log") for c in (without, with_keeper)]
        try:
            for proxy in proxies:
                proxy.wait_ready()
            lat = latencies(proxies)
        finally:
            for proxy in proxies:
                proxy.stop()
        rows = [(name, pct(x, 0.5), pct(x, 0.99)) for name, x in zip(names, lat, strict=True)]
        print(f"{REQUESTS} sequential requests each, one worker each, the two proxies taking turns; fake upstream")
        print(f"{'proxy':28} {'p50 ms':>8} {'p99 ms':>8}")
        for name, p50, p99 in rows:
            print(f"{name:28} {p50:8.2f} {p99:8.2f}")
        added50, added99 = rows[1][1] - rows[0][1], rows[1][2] - rows[0][2]
        verdict = "ok" if added99 < 2.0 else "over the 2 ms target"
        print(f"{'added by the keeper':28} {added50:8.2f} {added99:8.2f}  ({verdict})")
        proxy = Proxy(with_keeper, env, tmp / "workers.log", workers=4)
        try:
            proxy.wait_ready()
            with ThreadPoolExecutor(16) as pool:
                t = time.perf_counter()
                statuses = list(pool.map(lambda i: proxy.chat(body(i))[0], range(LOAD_REQUESTS)))
                elapsed = time.perf_counter() - t
        finally:
            proxy.stop()
        decided = sum(1 for s in statuses if s in (200, 429))
        print(f"4 workers, 16 clients: {decided} decisions in {elapsed:.1f} s = {decided / elapsed:.0f} decisions/s")
    upstream.stop()


if __name__ == "__main__":
    main()
