"""The live keeper's state, shared by every proxy worker: SQLite on one host (the default), Redis for several.

``BUDGET_KEEPER_STATE`` holds a path (SQLite, WAL) or a ``redis://host:port[/db]`` URL. Both stores keep,
per UTC day: the day's log (incidents first seen, tiers down and up, every decision and every usage
reconciled, in order) and the day's counters (tokens reserved and spent per ledger key). The check
and the write of a reservation are one atomic step: one ``BEGIN IMMEDIATE`` transaction in SQLite, one
Lua script in Redis; never a read-modify-write in Python.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from typing import Any, Protocol

from budget.errors import BudgetError

STATE_ENV = "BUDGET_KEEPER_STATE"
CHECKPOINT_EVERY_SEC = 1.0  # the keeper's own thread moves the WAL into the database file this often
BACKSTOP_PAGES = 20_000  # a request checkpoints only if that thread fell this far behind (80 MB of WAL)
FACT_KINDS = ("seen", "down", "up")  # the log's facts: what the keeper's run depends on
FACTS = f"kind IN {FACT_KINDS!r}"  # the same, as SQL: this very text in the index and the queries
Reservation = list[tuple[str, float, float]]  # (ledger key, tokens, limit)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, day TEXT NOT NULL, kind TEXT NOT NULL, body TEXT)",
    "CREATE INDEX IF NOT EXISTS log_day ON log (day, id)",
    # the facts alone (what the keeper's run depends on): without it, reading the facts after a cursor walks
    # every decision and usage row logged since, a cost that grew with the day's traffic
    f"CREATE INDEX IF NOT EXISTS log_facts ON log (day, id) WHERE {FACTS}",
    "CREATE TABLE IF NOT EXISTS incidents (day TEXT, id TEXT, body TEXT, PRIMARY KEY (day, id))",
    "CREATE TABLE IF NOT EXISTS tiers (tier TEXT PRIMARY KEY, down INTEGER NOT NULL, since REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counters (day TEXT, key TEXT, value REAL NOT NULL, PRIMARY KEY (day, key))",
)


class Store(Protocol):
    def first_seen(self, day: str, incident: str, record: dict[str, Any]) -> dict[str, Any]: ...
    def set_tier(self, day: str, tier: str, down: bool, record: dict[str, Any]) -> bool: ...
    def tiers_down(self) -> dict[str, float]: ...
    def reserve(self, day: str, items: Reservation) -> str | None: ...
    def reserve_and_log(self, day: str, items: Reservation, record: Callable[[str | None], dict[str, Any]]) -> None: ...
    def reconcile(self, day: str, items: list[tuple[str, float]], record: dict[str, Any]) -> None: ...
    def log(self, day: str, kind: str, record: dict[str, Any]) -> None: ...
    def events(self, day: str, facts_only: bool = False) -> list[tuple[str, dict[str, Any]]]: ...
    def facts(self, day: str, after: int) -> tuple[list[tuple[str, dict[str, Any]]], int]: ...
    def counters(self, day: str) -> dict[str, float]: ...
    def days(self) -> list[str]: ...
    def get_meta(self, key: str) -> str | None: ...
    def close(self) -> None: ...
    def set_meta(self, key: str, value: str) -> None: ...


def _reserve(con: sqlite3.Connection, day: str, items: Reservation) -> str | None:
    """Within a transaction: add every item if each fits its limit, else nothing; the first key without room."""
    for key, amount, limit in items:
        row = con.execute("SELECT value FROM counters WHERE day=? AND key=?", (day, key)).fetchone()
        if (row[0] if row else 0.0) + amount > limit:
            return key
    _adjust(con, day, [(key, amount) for key, amount, _ in items])
    return None


def _adjust(con: sqlite3.Connection, day: str, items: list[tuple[str, float]]) -> None:
    for key, delta in items:
        con.execute(
            "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (day, key) DO UPDATE SET value = value + ?",
            (day, key, delta, delta),
        )


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


class SqliteStore:
    """One SQLite file in WAL mode, opened per thread; every write is one short transaction.

    ``background_checkpoint`` (the keeper in a proxy): a thread of the store's own copies the WAL into the
    database file every second, so that no request pays for it (SQLite's own checkpoint runs inside the
    commit that fills 1,000 pages, and syncs the file: milliseconds on one request in a few hundred)."""

    def __init__(self, path: str, create: bool = True, background_checkpoint: bool = False) -> None:
        self.path = path
        self.checkpoints = 0  # the background checkpoints run so far
        self._background = background_checkpoint
        self._stop = threading.Event()
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not create:
                raise BudgetError(f"{path}: no keeper state here") from None
            st = None
        except OSError as exc:
            raise BudgetError(f"{STATE_ENV}={path}: cannot open the keeper state ({exc.strerror})") from None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise BudgetError(f"{STATE_ENV}={path}: not a regular file (a SQLite state file is needed)")
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._tx() as con:
            for stmt in _SCHEMA:
                con.execute(stmt)
        if background_checkpoint:
            threading.Thread(target=self._checkpoint_loop, name="budget-keeper-checkpoint", daemon=True).start()

    def _checkpoint_loop(self) -> None:
        con: sqlite3.Connection | None = None
        while not self._stop.wait(CHECKPOINT_EVERY_SEC):
            try:
                if con is None:
                    con = sqlite3.connect(self.path, timeout=1, isolation_level=None, check_same_thread=False)
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints += 1
            except sqlite3.Error:
                pass  # tried again next time; BACKSTOP_PAGES bounds the WAL meanwhile
        if con is not None:
            con.close()

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            try:
                con = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
                if self._background:
                    con.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            except sqlite3.Error as exc:
                raise BudgetError(f"{STATE_ENV}={self.path}: cannot open the keeper state ({exc})") from None
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        """Close every connection this store opened (each thread opens its own) and stop its checkpoints."""
        self._stop.set()
        with self._lock:
            for con in self._all:
                con.close()
            self._all = []

    def _tx(self) -> _Tx:
        return _Tx(self._con(), self.path)

    def first_seen(self, day: str, incident: str, record: dict[str, Any]) -> dict[str, Any]:
        known = self._con().execute("SELECT body FROM incidents WHERE day=? AND id=?", (day, incident)).fetchone()
        if known is not None:  # seen before: a plain read, no write lock (a row once written never changes)
            return dict(json.loads(known[0]))
        with self._tx() as con:
            row = con.execute("SELECT body FROM incidents WHERE day=? AND id=?", (day, incident)).fetchone()
            if row is not None:
                return dict(json.loads(row[0]))
            body = _dump(record)
            con.execute("INSERT INTO incidents VALUES (?, ?, ?)", (day, incident, body))
            con.execute("INSERT INTO log (day, kind, body) VALUES (?, 'seen', ?)", (day, body))
            return record

    def set_tier(self, day: str, tier: str, down: bool, record: dict[str, Any]) -> bool:
        with self._tx() as con:
            row = con.execute("SELECT down FROM tiers WHERE tier=?", (tier,)).fetchone()
            if (row is not None and bool(row[0]) == down) or (row is None and not down):
                return False
            con.execute("INSERT OR REPLACE INTO tiers VALUES (?, ?, ?)", (tier, int(down), record["t"]))
            con.execute(
                "INSERT INTO log (day, kind, body) VALUES (?, ?, ?)", (day, "down" if down else "up", _dump(record))
            )
            return True

    def tiers_down(self) -> dict[str, float]:
        rows = self._con().execute("SELECT tier, since FROM tiers WHERE down=1").fetchall()
        return {str(r[0]): float(r[1]) for r in rows}

    def reserve(self, day: str, items: Reservation) -> str | None:
        with self._tx() as con:
            return _reserve(con, day, items)

    def reserve_and_log(self, day: str, items: Reservation, record: Callable[[str | None], dict[str, Any]]) -> None:
        """Reserve ``items`` (all or none) and log the decision ``record`` makes of the outcome (the key that had
        no room, or None) in one transaction: the decision and its reservation are never apart."""
        with self._tx() as con:
            refused = _reserve(con, day, items)
            con.execute("INSERT INTO log (day, kind, body) VALUES (?, 'decision', ?)", (day, _dump(record(refused))))

    def reconcile(self, day: str, items: list[tuple[str, float]], record: dict[str, Any]) -> None:
        """Move the counters by ``items`` and log the usage ``record``, in one transaction."""
        with self._tx() as con:
            _adjust(con, day, items)
            con.execute("INSERT INTO log (day, kind, body) VALUES (?, 'usage', ?)", (day, _dump(record)))

    def log(self, day: str, kind: str, record: dict[str, Any]) -> None:
        with self._tx() as con:
            con.execute("INSERT INTO log (day, kind, body) VALUES (?, ?, ?)", (day, kind, _dump(record)))

    def events(self, day: str, facts_only: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """The day's log in order; ``facts_only``: only what the keeper's run depends on (seen, down, up)."""
        where = f" AND {FACTS}" if facts_only else ""
        rows = self._con().execute(f"SELECT kind, body FROM log WHERE day=?{where} ORDER BY id", (day,)).fetchall()
        return [(str(k), dict(json.loads(b))) for k, b in rows]

    def facts(self, day: str, after: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """The day's facts (seen, down, up) logged after the cursor ``after``, and the cursor after them."""
        rows = (
            self._con()
            .execute(
                f"SELECT id, kind, body FROM log WHERE day=? AND id>? AND {FACTS} ORDER BY id",
                (day, after),
            )
            .fetchall()
        )
        return [(str(k), dict(json.loads(b))) for _, k, b in rows], (int(rows[-1][0]) if rows else after)

    def counters(self, day: str) -> dict[str, float]:
        rows = self._con().execute("SELECT key, value FROM counters WHERE day=? ORDER BY key", (day,)).fetchall()
        return {str(k): float(v) for k, v in rows}

    def days(self) -> list[str]:
        return [str(r[0]) for r in self._con().execute("SELECT DISTINCT day FROM log ORDER BY day").fetchall()]

    def get_meta(self, key: str) -> str | None:
        row = self._con().execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): the check and the write in one transaction."""

    def __init__(self, con: sqlite3.Connection, path: str) -> None:
        self.con = con
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise BudgetError(f"{STATE_ENV}={self.path}: cannot write the keeper state ({exc})") from None
        return self.con

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            self.con.execute("COMMIT")
        else:
            self.con.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise BudgetError(f"{STATE_ENV}={self.path}: cannot write the keeper state ({exc})") from None
