"""Signals as exceptions, and the moments they must wait.

A command stops on SIGINT (Ctrl-C), SIGTERM or SIGHUP the same way: the signal
becomes a ``KeyboardInterrupt`` (:class:`Interrupted` for SIGTERM and SIGHUP,
inside :func:`signals_raise`), so every ``finally`` runs: temporary files are
removed, a lock file is released, nothing is left half-written. The few steps
that must not be cut in two (the renames that put a command's outputs in
place, taking and releasing a lock) run inside :func:`deferred`, which holds
the three signals back; one that arrives meanwhile is acted upon as soon as
the step is over. The CLI exits with 128 + the signal's number: 130 for
Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, the shell's own convention.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program was, as Ctrl-C raises ``KeyboardInterrupt``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal that stopped the run: SIGINT for a plain ``KeyboardInterrupt``."""
    return int(getattr(exc, "signum", signal.SIGINT))


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)."""
    return 128 + signal_of(exc)


def signal_name(exc: KeyboardInterrupt) -> str:
    return signal.Signals(signal_of(exc)).name


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP raise :class:`Interrupted` (a signal set to be ignored stays ignored).

    Only the main thread can set handlers; elsewhere this does nothing. The
    previous handlers are back on leaving.
    """
    old: dict[signal.Signals, object] = {}
    if _main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup: keep ignoring the hangup
                old[sig] = signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while inside; one that came meanwhile acts on leaving.

    Python runs signal handlers in the main thread whichever thread the kernel
    chose (a library's native threads do not block signals), so the step swaps
    the handlers for one that only notes the signal, then puts them back and
    raises what it noted. Outside the main thread handlers cannot be set, and
    signals are handled by the main thread anyway: the step runs as it is.
    """
    noted: list[int] = []
    old: dict[signal.Signals, object] = {}
    if _main_thread():
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is not None:  # None: a handler set outside Python, left alone
                old[sig] = signal.signal(sig, lambda signum, frame: noted.append(signum))
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)  # the handler put back acts on it now
