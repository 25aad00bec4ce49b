"""Watch the live keeper: a real LiteLLM proxy with the keeper on a shipped plan, against the fake upstream.

``python -m budget.traffic.live demo``: exports the plan (``budget export --to litellm``), starts the
fake upstream and the proxy on 127.0.0.1, queues the chapter's 20 incidents at 11:00, pulls the plug on
the cheapest tier and plays keeper minutes (the clock file moves, not the wall clock), printing what
each request got; in the last minute the tier answers again, the keeper's own probe finds it and brings it
back, and the live day's composite query is printed.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from budget.errors import BudgetError
from budget.keeper import manual_key
from budget.keeper.workload import work_tiers
from budget.model import load_spec, scenario_from_dict
from budget.traffic.endpoints import endpoint_prefixes
from budget.traffic.export import litellm_yaml
from budget.traffic.live.engine import LiveKeeper, is_live_state, result_from_state
from budget.traffic.live.fakeupstream import FakeUpstream
from budget.traffic.live.proxy import Proxy, decision_of

ELEVEN = 1767265200.0  # 2026-01-01 11:00 UTC


def keep_state(source: Path, target: str) -> None:
    """The demo's keeper state copied to ``target`` whole (SQLite's backup, then one rename); a file there
    that is not a keeper's state is never replaced."""
    dest = Path(target)
    if dest.exists() and not is_live_state(str(dest)):
        raise BudgetError(f"--state {target}: exists and is not a keeper state; give another path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(tmp) as out:
            src.backup(out)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def wait_up(env: dict[str, str], tier: str, timeout: float = 20.0) -> None:
    """Wait until the keeper noted ``tier`` back up (its probe runs after the response that took it)."""
    import time

    keeper = LiveKeeper.from_env(env)
    try:
        for _ in range(int(timeout / 0.1)):
            if tier not in keeper.store.tiers_down():
                return
            time.sleep(0.1)
    finally:
        keeper.store.close()
    raise BudgetError(f"{tier} answers again but the keeper's probe never brought it back (see the proxy log)")


def run_demo(spec_path: str, minutes: int, state: str | None = None) -> int:
    if not 1 <= minutes <= 60:
        raise BudgetError(f"--minutes: must be from 1 to 60, got {minutes}")
    if state and Path(state).exists() and not is_live_state(state):
        raise BudgetError(f"--state {state}: exists and is not a keeper state; give another path")
    spec = load_spec(spec_path)
    cheap = spec.cheapest
    incidents = scenario_from_dict({"queue": 20, "start": "11:00"}, spec).incidents
    phase0, tier0 = next(iter(spec.phases)), work_tiers(spec)[0]
    with tempfile.TemporaryDirectory(prefix="budget-live-") as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "config.yaml").write_text(litellm_yaml(spec, spec_path))
        clock = tmp / "clock"
        clock.write_text(repr(ELEVEN))
        upstream = FakeUpstream().start()
        env = {
            f"{stem}_{w}": upstream.base if w == "API_BASE" else "fake"
            for stem in endpoint_prefixes(spec).values()
            for w in ("API_BASE", "API_KEY")
        }
        env.update(
            BUDGET_KEEPER_STATE=str(tmp / "keeper.db"),
            BUDGET_KEEPER_SPEC=str(Path(spec_path).resolve()),
            BUDGET_KEEPER_CLOCK=str(clock),
        )
        proxy = Proxy(tmp / "config.yaml", env, tmp / "proxy.log")
        try:
            print(f"starting the LiteLLM proxy with the keeper on {spec_path} (10-45 s) ...", flush=True)
            print(f"proxy up on {proxy.url} after {proxy.wait_ready():.0f} s; fake upstream on {upstream.base}")
            print(f"11:00 the plug is pulled on {cheap}; 20 incidents arrive")
            upstream.fail(cheap)
            for minute in range(minutes):
                clock.write_text(repr(ELEVEN + minute * 60))
                back = minute == minutes - 1
                if back:
                    upstream.fail(cheap, False)
                    print(f"11:{minute:02d} {cheap} answers again; nobody tells the keeper")
                tally: Counter[str] = Counter()
                example: dict[str, str] = {}
                for n, inc in enumerate(incidents):
                    if back and n == 1:  # the minute's first request took the keeper's probe
                        wait_up(env, cheap)
                        print(f"11:{minute:02d} the keeper's probe finds {cheap} answering: back up")
                    md = {
                        "incident_id": inc.id,
                        "severity": inc.severity,
                        "phase": phase0,
                        "blast_radius": inc.blast_radius,
                    }
                    body_in = {"model": tier0, "metadata": md, "messages": [{"role": "user", "content": "triage"}]}
                    status, headers, body = proxy.chat(body_in)
                    what = (
                        headers.get("x-litellm-model-group", "?")
                        if status == 200
                        else headers.get("x-budget-decision", f"http {status}")
                    )
                    key = f"served on {what}" if status == 200 else what
                    tally[key] += 1
                    if status == 429:
                        example.setdefault(key, f"{inc.id} {inc.severity}: {decision_of(body).get('reason', '')}")
                print(f"11:{minute:02d}  " + ", ".join(f"{n} {k}" for k, n in sorted(tally.items())))
                for key, text in sorted(example.items()):
                    if not key.startswith("served"):
                        print(f"        e.g. {text}")
            result = result_from_state(env["BUDGET_KEEPER_STATE"])
            mk = manual_key(120)
            print(f"upstream hits: {upstream.stats()}")
            print(
                f"live day: failover_to_frontier={result['failover_to_frontier']} "
                f"degraded_queue={result['degraded_queue']} {mk}={result.get(mk)} "
                f"token_health_min={result['token_health_min']}"
            )
            if state:
                keep_state(Path(env["BUDGET_KEEPER_STATE"]), state)
                query = (
                    f"failover_to_frontier=={result['failover_to_frontier']} && "
                    f"degraded_queue=={result['degraded_queue']} && {mk}=={result.get(mk)}"
                )
                print(f"the live day's state: {state}; check it as a simulated run, or on the Live keeper page:")
                print(f'  budget inspect --result {state} --query "{query}"')
        finally:
            proxy.stop()
            upstream.stop()
    return 0
