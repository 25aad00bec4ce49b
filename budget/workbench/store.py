"""Where a learner's work is kept: the workbook and the current spec, in an embedded SQLite database.

One database (``$BUDGET_WORKBENCH_DB``, or ``data/workbench.sqlite`` under the workbench's root) holds
a workbook and a current spec per learner name. Every change is one statement in its own transaction
(an entry is an INSERT, an interpretation an UPDATE of its row), so two browser tabs of one learner
never lose each other's entries. The schema's version is ``PRAGMA user_version``: a database from a
newer workbench, a corrupt file, a locked or read-only one is refused with one line and never
written to. Nothing here knows Streamlit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from budget.errors import BudgetError
from budget.workbench.library import root
from budget.workbench.workbook import Entry, Workbook

log = logging.getLogger("budget.workbench")
_T = TypeVar("_T")

DB_ENV = "BUDGET_WORKBENCH_DB"
DEFAULT_DB = Path("data") / "workbench.sqlite"
DEFAULT_LEARNER = "learner"
SCHEMA_VERSION = 1
# a page waits this long for another writer, then says the database is locked and goes on in memory: long
# enough that sessions writing at once (several tabs, a busy 2-core machine) wait for each other instead
LOCK_WAIT_S = 8.0
MAX_LEARNER_CHARS = 40

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, learner TEXT NOT NULL, slot TEXT, page TEXT NOT NULL,"
    " title TEXT NOT NULL, command TEXT NOT NULL, output TEXT NOT NULL, interpretation TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS entries_learner ON entries (learner, id)",
    "CREATE TABLE IF NOT EXISTS current_spec ("
    " learner TEXT PRIMARY KEY, name TEXT NOT NULL, origin TEXT NOT NULL, original TEXT NOT NULL, text TEXT NOT NULL)",
)
TABLES = {"entries", "current_spec", "sqlite_sequence"}


class StoreError(BudgetError):
    """The workbench database cannot be used (locked, read-only, corrupt, newer): the app works in memory."""


def db_path() -> Path:
    env = os.environ.get(DB_ENV)
    return Path(env) if env else root() / DEFAULT_DB


def learner_name(text: str) -> str:
    """A learner's name as typed, trimmed; a one-line error when it is empty or too long."""
    name = " ".join(text.split())
    if not name:
        raise BudgetError("learner name: type a name (your work is kept under it)")
    if len(name) > MAX_LEARNER_CHARS or not name.isprintable():
        raise BudgetError(f"learner name: at most {MAX_LEARNER_CHARS} printable characters")
    return name


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return "locked by another program"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return "cannot be written (read-only)"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "not a workbench database (corrupt)"
    return text


@dataclass(frozen=True)
class SavedSpec:
    name: str
    origin: str
    original: str
    text: str


class WorkbenchStore:
    """The database at ``path``, checked on opening: usable, our schema, not newer."""

    def __init__(self, path: Path, connect: Callable[[Path], sqlite3.Connection] | None = None) -> None:
        self.path = path
        self._connect = connect or self._open
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"workbook database {path}: cannot create its folder ({exc.strerror})") from None
        with self._transaction() as con:
            self._check(con)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction: a write takes the lock at once (so the check and the write see the same rows); a
        read does not wait behind another session's write that has not reached its commit."""
        con = None
        try:
            con = self._connect(self.path)
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con is not None and con.in_transaction:
                con.execute("ROLLBACK")
            raise StoreError(f"workbook database {self.path}: {_reason(exc)}") from None
        finally:
            if con is not None:
                con.close()

    def _check(self, con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"workbook database {self.path}: written by a newer workbench (schema {version}, this one reads "
                f"{SCHEMA_VERSION}); left untouched"
            )
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and tables - TABLES:
            raise StoreError(
                f"workbook database {self.path}: holds other tables ({', '.join(sorted(tables - TABLES))}); "
                "left untouched"
            )
        if version < SCHEMA_VERSION:
            for statement in SCHEMA:
                con.execute(statement)
        # written even when it is already set: a database that cannot be written is found now, not mid-session
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- the workbook --------------------------------------------------------------------------
    def entries(self, learner: str) -> list[Entry]:
        with self._transaction(write=False) as con:
            rows = con.execute(
                "SELECT id, page, title, command, output, interpretation FROM entries WHERE learner = ? ORDER BY id",
                (learner,),
            ).fetchall()
        return [Entry(*row) for row in rows]

    def record(self, learner: str, page: str, title: str, command: str, output: str, slot: str | None) -> Entry:
        """One run as an entry: the run's ``slot`` again updates its entry; the same command and output is one."""
        with self._transaction() as con:
            if slot is not None:
                row = con.execute("SELECT id FROM entries WHERE learner = ? AND slot = ?", (learner, slot)).fetchone()
                if row is not None:
                    con.execute(
                        "UPDATE entries SET title = ?, command = ?, output = ? WHERE id = ?",
                        (title, command, output, row[0]),
                    )
                    return self._entry(con, row[0])
            row = con.execute(
                "SELECT id FROM entries WHERE learner = ? AND command = ? AND output = ?", (learner, command, output)
            ).fetchone()
            if row is not None:
                return self._entry(con, row[0])
            cursor = con.execute(
                "INSERT INTO entries (learner, slot, page, title, command, output) VALUES (?, ?, ?, ?, ?, ?)",
                (learner, slot, page, title, command, output),
            )
            return self._entry(con, int(cursor.lastrowid or 0))

    @staticmethod
    def _entry(con: sqlite3.Connection, entry_id: int) -> Entry:
        row = con.execute(
            "SELECT id, page, title, command, output, interpretation FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        return Entry(*row)

    def interpret(self, learner: str, entry_id: int, text: str) -> None:
        with self._transaction() as con:
            con.execute(
                "UPDATE entries SET interpretation = ? WHERE id = ? AND learner = ?", (text.strip(), entry_id, learner)
            )

    def delete(self, learner: str, entry_id: int) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM entries WHERE id = ? AND learner = ?", (entry_id, learner))

    # --- the current spec ----------------------------------------------------------------------
    def spec(self, learner: str) -> SavedSpec | None:
        with self._transaction(write=False) as con:
            row = con.execute(
                "SELECT name, origin, original, text FROM current_spec WHERE learner = ?", (learner,)
            ).fetchone()
        return SavedSpec(*row) if row else None

    def keep_spec(self, learner: str, spec: SavedSpec) -> None:
        with self._transaction() as con:
            con.execute(
                "INSERT INTO current_spec (learner, name, origin, original, text) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (learner) DO UPDATE SET name = excluded.name, origin = excluded.origin, "
                "original = excluded.original, text = excluded.text",
                (learner, spec.name, spec.origin, spec.original, spec.text),
            )


class LearnerWork(Workbook):
    """A learner's workbook and current spec: in the store while it works, in memory from its first failure.

    ``error`` says why the work is not being saved (the store could not be opened or stopped working);
    the entries seen until then stay on the page. Nothing is written to a store that failed.
    """

    def __init__(self, store: WorkbenchStore | None, learner: str, error: str | None = None) -> None:
        super().__init__()
        self.store_or_none, self.learner, self.error = store, learner, error
        self._spec: SavedSpec | None = None

    def _failed(self, exc: StoreError) -> None:
        self.error, self.store_or_none = str(exc), None
        log.warning("%s; the workbench keeps this session's work in memory only", exc)

    def _try(self, call: Callable[[WorkbenchStore], _T]) -> tuple[bool, _T | None]:
        """(True, what the store returned), or (False, None) when there is no store or it just failed."""
        if self.store_or_none is None:
            return False, None
        try:
            return True, call(self.store_or_none)
        except StoreError as exc:
            self._failed(exc)
            return False, None

    @property
    def saved(self) -> bool:
        return self.store_or_none is not None

    @property
    def entries(self) -> list[Entry]:
        ok, seen = self._try(lambda s: s.entries(self.learner))
        if ok and seen is not None:
            self._entries = seen  # what the page shows if the store fails later
            return list(seen)
        return list(self._entries)

    def record(self, page: str, title: str, command: str, output: str, slot: str | None = None) -> Entry:
        ok, entry = self._try(lambda s: s.record(self.learner, page, title, command, output, slot))
        if not ok or entry is None:
            return super().record(page, title, command, output, slot)
        self._entries = [e for e in self._entries if e.id != entry.id] + [entry]  # the copy kept in memory
        if slot is not None:
            self._slots[slot] = entry.id
        return entry

    def interpret(self, entry_id: int, text: str) -> None:
        self._try(lambda s: s.interpret(self.learner, entry_id, text))
        super().interpret(entry_id, text)

    def delete(self, entry_id: int) -> None:
        self._try(lambda s: s.delete(self.learner, entry_id))
        super().delete(entry_id)

    def spec(self) -> SavedSpec | None:
        ok, saved = self._try(lambda s: s.spec(self.learner))
        return saved if ok else self._spec

    def keep_spec(self, spec: SavedSpec) -> None:
        if spec == self._spec:
            return
        self._spec = spec
        self._try(lambda s: s.keep_spec(self.learner, spec))


def open_work(learner: str, path: Path | None = None) -> LearnerWork:
    """The learner's work in the database at ``path`` (default ``db_path()``), or in memory saying why."""
    try:
        return LearnerWork(WorkbenchStore(path or db_path()), learner)
    except StoreError as exc:
        log.warning("%s; the workbench keeps this session's work in memory only", exc)
        return LearnerWork(None, learner, str(exc))
