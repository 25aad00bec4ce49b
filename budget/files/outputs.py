"""All-or-nothing outputs: a command's files are written together, or none of them is touched.

:class:`Outputs` is what every command uses. It checks each output path before
any work is done (an existing path that is not a regular file, such as
``/dev/null`` or a folder, is refused; two flags naming one file are refused),
takes each file's text when the command has computed everything, and
:meth:`Outputs.commit` then writes every file to a temporary beside it and
renames them all into place. If any write or rename fails, the files already
renamed are put back, so each existing output stays byte-identical. A replaced
file keeps its mode (and, for root, its owner); a new one gets ``0666 & ~umask``.
A symlink is written through: the link stays, its target is replaced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from budget.errors import BudgetError, UsageError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _label(path: str | os.PathLike[str], flag: str | None) -> str:
    name = str(path) if str(path).strip() else repr(str(path))
    return f"{flag} {name}" if flag else name


def _stat(path: str, label: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except ValueError:
        raise UsageError(f"{label}: not a valid file name") from None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise UsageError(f"{label}: a folder on the path is a file") from None
        raise UsageError(f"{label}: {exc.strerror}") from None


def check_output(path: str | os.PathLike[str], flag: str | None = None) -> Path:
    """The real path an output will be written to; refuses what cannot or must not be replaced."""
    label = _label(path, flag)
    raw = os.fspath(path)
    if not raw.strip():
        raise UsageError(f"{label}: give a file name")
    try:
        target = os.path.realpath(raw)  # through symlinks: a link to a file keeps being a link
    except (ValueError, OSError):
        raise UsageError(f"{label}: not a valid file name") from None
    st = _stat(target, label)
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
        raise UsageError(f"{label}: exists and is {kind}; refusing to replace it (give a file path)")
    parent = os.path.dirname(target)
    while parent and parent != os.path.dirname(parent):
        pst = _stat(parent, label)
        if pst is not None:
            if not stat.S_ISDIR(pst.st_mode):
                raise UsageError(f"{label}: {parent} is not a folder")
            break
        parent = os.path.dirname(parent)
    return Path(target)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@dataclass
class _Pending:
    label: str
    target: Path
    data: bytes
    tmp: str | None = None
    backup: str | None = None
    existed: bool = False
    renamed: bool = False


def _temp_beside(target: Path, tag: str) -> str:
    fd, name = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=f".{tag}", dir=target.parent)
    os.close(fd)
    return name


def _write_temp(p: _Pending, new_mode: int) -> None:
    fd, p.tmp = tempfile.mkstemp(prefix=f".{p.target.name[:100]}.", suffix=".tmp", dir=p.target.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(p.data)
        fh.flush()
        os.fsync(fh.fileno())
        try:
            st = os.stat(p.target)
        except FileNotFoundError:
            os.fchmod(fh.fileno(), new_mode)
            return
        p.existed = True
        os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
        if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            with contextlib.suppress(OSError):
                os.fchown(fh.fileno(), st.st_uid, st.st_gid)


def _make_folders(targets: list[Path]) -> list[Path]:
    created: list[Path] = []
    for t in targets:
        missing = [d for d in [t.parent, *t.parent.parents] if not d.exists()]
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    return created


def _encode(text: str, label: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BudgetError(f"{label}: cannot write character {text[exc.start]!r} as UTF-8") from None


def _unlink(path: str | None) -> None:
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)


def commit_files(files: list[tuple[str | os.PathLike[str], str, str | None]]) -> None:
    """Write every ``(path, text, flag)`` or none: temps first, then renames, rolled back on failure."""
    pending = [
        _Pending(_label(p, flag), check_output(p, flag), _encode(text, _label(p, flag))) for p, text, flag in files
    ]
    created: list[Path] = []
    new_mode = 0o666 & ~_umask()
    current = pending[0].label if pending else ""
    try:
        created = _make_folders([p.target for p in pending])
        for p in pending:
            current = p.label
            _write_temp(p, new_mode)
        for p in pending:
            current = p.label
            if p.existed:
                p.backup = _temp_beside(p.target, "bak")
                os.unlink(p.backup)
                try:
                    os.link(p.target, p.backup)
                except OSError:
                    p.backup = None
        for p in pending:
            current = p.label
            assert p.tmp is not None
            os.replace(p.tmp, p.target)
            p.tmp, p.renamed = None, True
    except OSError as exc:
        for p in pending:
            _unlink(p.tmp)
            if p.renamed:
                if p.backup:
                    with contextlib.suppress(OSError):
                        os.replace(p.backup, p.target)
                        p.backup = None
                elif not p.existed:
                    _unlink(str(p.target))
            _unlink(p.backup)
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()
        why = getattr(exc, "strerror", None) or str(exc)
        raise BudgetError(f"{current}: cannot write: {why}; no output was changed") from None
    for p in pending:
        _unlink(p.backup)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    commit_files([(path, text, None)])
    return Path(path)


class Outputs:
    """A command's output files: checked up front, written together by :meth:`commit`.

    ``Outputs({"--out": args.out, "--csv": args.csv})`` checks every named path
    (``None`` entries are skipped) and refuses two flags that name one file.
    """

    def __init__(self, paths: dict[str, str | os.PathLike[str] | None]) -> None:
        self.paths = {flag: p for flag, p in paths.items() if p is not None}
        self._texts: dict[str, str] = {}
        seen: dict[Path, str] = {}
        for flag, p in self.paths.items():
            real = check_output(p, flag)
            if real in seen:
                raise UsageError(f"{flag} {p}: the same file as {seen[real]}; give each output its own file")
            seen[real] = flag

    def __contains__(self, flag: str) -> bool:
        return flag in self.paths

    def set(self, flag: str, text: str) -> None:
        if flag not in self.paths:
            raise KeyError(flag)
        self._texts[flag] = text

    def commit(self) -> None:
        missing = [f for f in self.paths if f not in self._texts]
        if missing:
            raise RuntimeError(f"outputs without text: {missing}")
        commit_files([(self.paths[f], self._texts[f], f) for f in self.paths])

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)


LOCK_TIMEOUT_SEC = 10.0


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT_SEC) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``.<name>.lock`` beside ``path`` for a read-modify-write.

    The lock file is removed on release (while still held); a waiter that got
    the lock on a removed file sees that the path no longer names its file and
    tries again, so two holders never overlap and no lock file is left behind.
    """
    target = Path(os.path.realpath(os.fspath(path)))
    lock = target.parent / f".{target.name[:200]}.lock"
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise BudgetError(f"{path}: cannot lock for writing: {exc.strerror}") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise BudgetError(
                            f"{path}: another writer holds it for over {timeout:g} s; try again"
                        ) from None
                    time.sleep(0.005)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)
