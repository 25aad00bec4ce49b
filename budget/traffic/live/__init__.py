"""The live keeper: the simulator's keeper deciding real requests in a LiteLLM proxy.

``engine`` (:class:`LiveKeeper`: one decision per request), ``day`` (the store's log as the keeper's
scenario, and the live day's result), ``contract`` (the request's metadata), ``store`` and
``redisstore`` (SQLite or Redis state shared by the proxy's workers), ``clock`` (the injectable
clock) and ``litellm_hook`` (the proxy callback; the only module that imports litellm or fastapi,
and only the proxy imports it).
"""

from budget.traffic.live.backends import open_store
from budget.traffic.live.clock import CLOCK_ENV
from budget.traffic.live.engine import SPEC_ENV, Decision, LiveKeeper, is_live_state, live_day, result_from_state
from budget.traffic.live.store import STATE_ENV, SqliteStore

__all__ = [
    "CLOCK_ENV",
    "SPEC_ENV",
    "STATE_ENV",
    "Decision",
    "LiveKeeper",
    "SqliteStore",
    "is_live_state",
    "live_day",
    "open_store",
    "result_from_state",
]
