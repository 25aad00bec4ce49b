"""The learner's work kept in SQLite: it survives a restart, two tabs lose nothing, a bad database is left alone."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.workbench import SavedSpec, SpecExists, WorkbenchStore, learner_name, open_work, save_spec
from budget.workbench import store as store_module


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "workbench.sqlite"


def test_entries_and_the_current_spec_survive_a_restart(db: Path) -> None:
    first = open_work("ana", db)
    entry = first.record("Simulator", "45 min", "budget simulate ...", "failover_to_frontier 5")
    first.interpret(entry.id, "  the guard breaks first  ")
    first.keep_spec(SavedSpec("budget_network.yaml", "shipped", "a: 1\n", "a: 2\n"))
    again = open_work("ana", db)  # a new server process opens the same file
    assert [(e.title, e.interpretation) for e in again.entries] == [("45 min", "the guard breaks first")]
    assert again.spec() == SavedSpec("budget_network.yaml", "shipped", "a: 1\n", "a: 2\n")
    assert again.saved and again.error is None
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION


def test_two_tabs_never_lose_an_entry(db: Path) -> None:
    tab1, tab2 = open_work("ana", db), open_work("ana", db)
    tab1.record("Simulator", "run 1", "cmd 1", "out 1")
    tab2.record("Drill", "run 2", "cmd 2", "out 2")
    tab1.record("Compare", "run 3", "cmd 3", "out 3")
    assert [e.title for e in tab1.entries] == [e.title for e in tab2.entries] == ["run 1", "run 2", "run 3"]


def test_editing_a_runs_query_updates_its_entry_and_entries_can_be_deleted(db: Path) -> None:
    book = open_work("ana", db)
    for query in ("degraded_queue==1", "degraded_queue==15", "degraded_queue==15 && failover_to_frontier==5"):
        book.record("Simulator", "45 min", f"budget inspect --query {query!r}", "out", slot="run-1")
    book.record("Simulator", "45 min", "budget inspect --query 'x'", "out", slot="run-2")
    assert [e.command for e in book.entries] == [
        "budget inspect --query 'degraded_queue==15 && failover_to_frontier==5'",
        "budget inspect --query 'x'",
    ]
    book.delete(book.entries[0].id)
    assert [e.command for e in book.entries] == ["budget inspect --query 'x'"]


def test_each_learner_has_their_own_workbook_and_spec(db: Path) -> None:
    open_work("ana", db).record("Simulator", "ana's", "cmd", "out")
    open_work("ana", db).keep_spec(SavedSpec("x.yaml", "upload", "t", "t"))
    bo = open_work("bo", db)
    assert bo.entries == [] and bo.spec() is None
    with pytest.raises(BudgetError, match="learner name: type a name"):
        learner_name("   ")
    assert learner_name("  Ana   Lee ") == "Ana Lee"


def _unchanged_after(db: Path, book_error: str | None, want: str, before: bytes) -> None:
    assert book_error is not None and want in book_error and str(db) in book_error
    assert db.read_bytes() == before  # never overwritten


def test_a_corrupt_database_is_refused_in_one_line_and_left_as_it_is(db: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database, it is a learner's notes" * 100)
    before = db.read_bytes()
    with caplog.at_level(logging.WARNING, logger="budget.workbench"):
        book = open_work("ana", db)
    _unchanged_after(db, book.error, "not a workbench database (corrupt)", before)
    assert "\n" not in (book.error or "")
    assert any("in memory only" in r.getMessage() for r in caplog.records)
    entry = book.record("Simulator", "45 min", "cmd", "out")  # the app keeps working, in memory
    book.interpret(entry.id, "still mine")
    assert [(e.title, e.interpretation) for e in book.entries] == [("45 min", "still mine")]
    assert not book.saved
    assert db.read_bytes() == before


def test_a_database_from_a_newer_schema_is_not_touched(db: Path) -> None:
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, future TEXT)")
        con.execute("PRAGMA user_version = 7")
    before = db.read_bytes()
    book = open_work("ana", db)
    _unchanged_after(db, book.error, "written by a newer workbench (schema 7, this one reads 1)", before)
    book.record("Simulator", "45 min", "cmd", "out")
    assert db.read_bytes() == before


def test_a_database_with_other_tables_is_not_taken_over(db: Path) -> None:
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = db.read_bytes()
    _unchanged_after(db, open_work("ana", db).error, "holds other tables (invoices)", before)


def test_a_locked_database_says_so_and_the_session_goes_on_in_memory(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.05)
    book = open_work("ana", db)
    book.record("Simulator", "first", "cmd 1", "out 1")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        assert [e.title for e in book.entries] == ["first"]  # what was read stays on the page
        assert book.error is not None and "locked by another program" in book.error
        book.record("Drill", "second", "cmd 2", "out 2")
        assert [e.title for e in book.entries] == ["first", "second"]
        assert open_work("bo", db).error is not None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [e.title for e in open_work("ana", db).entries] == ["first"]  # nothing half-written


def test_a_read_only_database_is_read_only_in_one_line(db: Path) -> None:
    open_work("ana", db).record("Simulator", "kept", "cmd", "out")
    before = db.read_bytes()

    def read_only(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)

    with pytest.raises(store_module.StoreError, match=r"workbook database .*: cannot be written \(read-only\)"):
        WorkbenchStore(db, connect=read_only)
    assert db.read_bytes() == before


def test_two_sessions_saving_one_new_spec_name_the_second_is_told_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import ROOT

    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.setenv("BUDGET_WORKBENCH_ROOT", str(tmp_path))
    text = (tmp_path / "specs" / "budget_network.yaml").read_text()
    versions = [text.replace("# Daily", f"# session {n}: Daily", 1) for n in range(8)]

    def save(version: str) -> str:
        try:
            save_spec("my_team", version)
            return "saved"
        except SpecExists as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(save, versions))
    assert outcomes.count("saved") == 1
    assert set(outcomes) - {"saved"} == {"specs/my_team.yaml exists: overwrite it, or save under another name"}
    assert (tmp_path / "specs" / "my_team.yaml").read_text() == versions[outcomes.index("saved")]
    assert sorted(p.name for p in (tmp_path / "specs").iterdir() if p.name.startswith(".")) == []  # no temp left
    save_spec("my_team", versions[0], overwrite=True)  # asked, and confirmed
    assert (tmp_path / "specs" / "my_team.yaml").read_text() == versions[0]


def test_a_write_held_briefly_by_another_session_is_waited_for_not_taken_for_a_lock(db: Path) -> None:
    import threading

    book = open_work("ana", db)
    book.record("Simulator", "first", "cmd 1", "out 1")
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another tab's write under way
    holder.execute("INSERT INTO entries (learner, page, title, command, output) VALUES ('bo', 'p', 't', 'c', 'o')")
    assert [e.title for e in book.entries] == ["first"] and book.error is None  # a read does not wait for it
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        book.record("Drill", "second", "cmd 2", "out 2")  # waits the second out, then writes
    finally:
        release.join()
        holder.close()
    assert book.error is None
    assert [e.title for e in open_work("ana", db).entries] == ["first", "second"]
