"""Which store ``BUDGET_KEEPER_STATE`` names: a ``redis://`` URL (Redis) or a path (SQLite)."""

from __future__ import annotations

import os

from budget.errors import BudgetError
from budget.traffic.live.redisstore import RedisStore
from budget.traffic.live.store import STATE_ENV, SqliteStore, Store


def open_store(value: str | None = None, keeper: bool = False) -> Store:
    """The store ``BUDGET_KEEPER_STATE`` (or ``value``) names: a ``redis://`` URL or a SQLite path.
    ``keeper``: the store of a keeper serving requests (SQLite: checkpoints in a thread of its own)."""
    target = os.environ.get(STATE_ENV, "") if value is None else value
    if not target:
        raise BudgetError(f"{STATE_ENV} is not set (a SQLite path or a redis:// URL)")
    if target.startswith("redis://"):
        return RedisStore(target)
    return SqliteStore(target, background_checkpoint=keeper)
