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
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from budget.errors import BudgetError, UsageError
from budget.files.interrupts import deferred
from budget.files.locks import LOCK_TIMEOUT_SEC, locked  # the note's lock, documented here before it had its module

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
    with deferred():  # the temp's name is known as soon as it exists: a signal never orphans it
        fd, p.tmp = tempfile.mkstemp(prefix=f".{p.target.name[:100]}.", suffix=".tmp", dir=p.target.parent)
        fh = os.fdopen(fd, "wb")
    with fh:
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


def _make_folders(targets: list[Path], created: list[Path]) -> None:
    """Create each target's missing folders, outermost first, listing each in ``created`` as it is made."""
    for t in targets:
        missing = [d for d in [t.parent, *t.parent.parents] if not d.exists()]
        for d in reversed(missing):
            d.mkdir()
            created.append(d)


def _encode(text: str, label: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BudgetError(f"{label}: cannot write character {text[exc.start]!r} as UTF-8") from None


def _unlink(path: str | None) -> None:
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _rollback(pending: list[_Pending], created: list[Path]) -> None:
    """Put every output back as it was: temps removed, renamed files restored, new folders removed."""
    for p in pending:
        _unlink(p.tmp)
        p.tmp = None
        if p.renamed:
            if p.backup:
                with contextlib.suppress(OSError):
                    os.replace(p.backup, p.target)
                    p.backup = None
            elif not p.existed:
                _unlink(str(p.target))
            p.renamed = False
        _unlink(p.backup)
        p.backup = None
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()
    created.clear()


def _swap(pending: list[_Pending]) -> Iterator[str]:
    """Keep a hard link to each existing output, then rename every temp into place; yields each label first."""
    for p in pending:
        yield p.label
        if p.existed:
            p.backup = _temp_beside(p.target, "bak")
            os.unlink(p.backup)
            try:
                os.link(p.target, p.backup)
            except OSError:
                p.backup = None
    for p in pending:
        yield p.label
        assert p.tmp is not None
        os.replace(p.tmp, p.target)
        p.tmp, p.renamed = None, True


def commit_files(files: list[tuple[str | os.PathLike[str], str, str | None]]) -> None:
    """Write every ``(path, text, flag)`` or none: temps first, then renames, rolled back on failure.

    The temps are written with signals let through (a signal then removes them
    and leaves every output as it was); the renames run with SIGINT, SIGTERM and
    SIGHUP held back, so a signal never leaves some outputs new and others old.
    """
    pending = [
        _Pending(_label(p, flag), check_output(p, flag), _encode(text, _label(p, flag))) for p, text, flag in files
    ]
    created: list[Path] = []
    new_mode = 0o666 & ~_umask()
    current = pending[0].label if pending else ""
    done = False
    try:
        with deferred():
            _make_folders([p.target for p in pending], created)
        for p in pending:
            current = p.label
            _write_temp(p, new_mode)
        with deferred():
            try:
                for label in _swap(pending):
                    current = label
                done = True
            finally:
                if done:
                    for p in pending:
                        _unlink(p.backup)
                else:
                    _rollback(pending, created)
    except OSError as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise BudgetError(f"{current}: cannot write: {why}; no output was changed") from None
    finally:
        if not done:
            _rollback(pending, created)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    commit_files([(path, text, None)])
    return Path(path)


InputPaths = Mapping[str, "str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None"]


def _same_file(out: Path, given: str | os.PathLike[str]) -> bool:
    """Whether an output (its real path) and an input name one file: same device and inode, else same real path."""
    try:
        return os.path.samestat(os.stat(out), os.stat(given))
    except (OSError, ValueError):
        pass
    try:
        return out == Path(os.path.realpath(os.fspath(given)))
    except (OSError, ValueError):
        return False


def _input_items(inputs: InputPaths) -> Iterator[tuple[str, str | os.PathLike[str]]]:
    for flag, value in inputs.items():
        if value is None:
            continue
        if isinstance(value, (str, os.PathLike)):
            yield flag, value
        else:
            yield from ((flag, v) for v in value)


class Outputs:
    """A command's output files: checked up front, written together by :meth:`commit`.

    ``Outputs({"--out": args.out, "--csv": args.csv}, inputs={"--budget-spec": args.budget_spec})``
    checks every named path (``None`` entries are skipped), refuses two flags that
    name one file, and refuses an output that is one of the command's inputs
    (the same path, a symlink or a hard link to it): a usage error before any work.
    """

    def __init__(self, paths: dict[str, str | os.PathLike[str] | None], inputs: InputPaths | None = None) -> None:
        self.paths = {flag: p for flag, p in paths.items() if p is not None}
        self._texts: dict[str, str] = {}
        seen: dict[Path, str] = {}
        for flag, p in self.paths.items():
            real = check_output(p, flag)
            if real in seen:
                raise UsageError(f"{flag} {p}: the same file as {seen[real]}; give each output its own file")
            seen[real] = flag
        self._real = seen
        self.also_inputs(inputs or {})

    def also_inputs(self, inputs: InputPaths) -> None:
        """Refuse an output that is one of ``inputs`` too: inputs a command learns as it reads (a spec's
        ``include:``), checked as soon as they are known and still before anything is written."""
        for real, flag in self._real.items():
            for in_flag, given in _input_items(inputs):
                if _same_file(real, given):
                    raise UsageError(
                        f"{_label(self.paths[flag], flag)}: the same file as the input {_label(given, in_flag)}; "
                        "refusing to overwrite an input (give another output file)"
                    )

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


__all__ = ["LOCK_TIMEOUT_SEC", "Outputs", "atomic_write_text", "check_output", "commit_files", "locked"]
