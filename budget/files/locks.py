"""A lock beside a file for its read-modify-write: the capstone note, the drill history.

:func:`locked` holds an exclusive ``flock`` on ``.<name>.lock`` beside the file
while the caller reads, merges and writes it, so two writers never interleave
and no record is lost. The lock file is removed on release (while still held);
a waiter that got the lock on a removed file sees that the path no longer names
its file and tries again, so two holders never overlap. Taking and releasing
the lock hold signals back (:func:`budget.files.interrupts.deferred`), and the
release runs in ``finally``: a run stopped by Ctrl-C, SIGTERM or SIGHUP leaves
no lock file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from budget.errors import BudgetError
from budget.files.interrupts import deferred

LOCK_TIMEOUT_SEC = 10.0
_POLL_SEC = 0.005


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of ``path``: ``.<name>.lock`` beside the file it names (through symlinks)."""
    target = Path(os.path.realpath(os.fspath(path)))
    return target.parent / f".{target.name[:200]}.lock"


def _try_lock(lock: Path, path: str | os.PathLike[str]) -> int | None:
    """An open descriptor holding the lock, or None when another writer holds it (or just released it)."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise BudgetError(f"{os.fspath(path)}: cannot lock for writing: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    try:
        same = os.path.samestat(os.fstat(fd), os.stat(lock))
    except FileNotFoundError:
        same = False
    if not same:  # the holder before us removed this file on release: take the new one
        os.close(fd)
        return None
    return fd


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, outermost first, listing each in ``created``."""
    missing = [d for d in [folder, *folder.parents] if not d.exists()]
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer made it first: it is not ours to remove
            d.mkdir()
            created.append(d)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT_SEC) -> Iterator[None]:
    """Hold the lock of ``path`` for a read-modify-write (see the module's doc); waits up to ``timeout`` s.

    A missing folder is created for the lock (the file's own writer would create it too) and removed
    again on release when nothing was written into it.
    """
    lock = lock_path(path)
    deadline = time.monotonic() + timeout
    fd: int | None = None
    created: list[Path] = []
    try:
        while True:
            with deferred():
                _make_folders(lock.parent, created)
                fd = _try_lock(lock, path)
            if fd is not None:
                break
            if time.monotonic() > deadline:
                raise BudgetError(f"{os.fspath(path)}: another writer holds it for over {timeout:g} s; try again")
            time.sleep(_POLL_SEC)
        yield
    finally:
        with deferred():
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.unlink(lock)
                os.close(fd)
            for d in reversed(created):
                with contextlib.suppress(OSError):  # not empty: the outputs went there
                    d.rmdir()
