"""``budget`` command line: compile, assert, simulate, inspect, note, drill, validate, calibrate, propose, review,
fit, export.

Exit codes: 0 ok; 1 a check failed or the input is invalid (a file a flag names, or a
field in it; or standard output cannot be written, a full disk say); 2 a usage error
(bad flags; a flag's value that cannot be read or is outside its range: ``--failure``,
``--start``, ``--down-tier``, ``--expect-split``, the lists and numbers alike; a
malformed inspect query or a field the result does not have; an output that is one
of the command's inputs); 128 + the signal's number when stopped by one (130 Ctrl-C,
143 SIGTERM, 129 SIGHUP), with one line and every output all old or all new;
141 (128 + SIGPIPE, what a program killed by it gives) when the reader of
standard output went away (``budget drill ... | head -1``), quietly.
Errors are one line on stderr; nothing is written when a command fails: every
command checks its inputs and flags first, computes everything, and only then
writes all its outputs together (:class:`budget.files.outputs.Outputs`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from budget.cli import drill_commands, plan_commands, sweep_commands, traffic_commands
from budget.errors import BudgetError, QueryError, UsageError
from budget.files.cliargs import say_error
from budget.files.commandline import COMMANDS, EXIT_FAIL, EXIT_USAGE, build_parser
from budget.files.interrupts import exit_code, signal_name, signals_raise

EXIT_PIPE = 141  # 128 + SIGPIPE: standard output's reader went away

# Each command imports its modules inside its function: `budget --help` and a usage
# error then cost a bare interpreter start, not pydantic, yaml and every command's module.
_MODULES = (plan_commands, drill_commands, sweep_commands, traffic_commands)


def _handler(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``command`` (``cmd_<name>`` in one of the command modules), looked up at call time."""
    name = "cmd_" + command
    return next(getattr(m, name) for m in _MODULES if hasattr(m, name))


def _streams_never_fail() -> None:
    """A file name that is not valid UTF-8 is printed escaped instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


class _Stdout:
    """Standard output as the commands see it, remembering a write that failed (a full disk, a closed pipe).

    ``print`` and argparse's help write through it; argparse swallows a failed
    write, so the failure is kept here and reported once the command is done.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return int(self.stream.write(text))
        except OSError as exc:
            self.failed = self.failed or exc
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            self.failed = self.failed or exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _quiet_stdout(stream: Any) -> None:
    """Point standard output at /dev/null, so the interpreter's last flush finds nothing to fail on."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real stream (a test's capture): nothing will be flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _stdout_code(out: _Stdout, command: str, code: int) -> int:
    """The exit code once standard output is written out: 141 for a closed pipe, 1 with one line for a failed write."""
    with contextlib.suppress(OSError):
        out.flush()
    if out.failed is None:
        return code
    _quiet_stdout(out.stream)
    if isinstance(out.failed, BrokenPipeError):
        return EXIT_PIPE
    say_error(f"budget {command}".rstrip() + f": error: cannot write to standard output: {out.failed.strerror}")
    return EXIT_FAIL


def main(argv: list[str] | None = None) -> int:
    """Run one command; always returns an exit code (0 ok, 1 failed check or invalid input, 2 usage)."""
    _streams_never_fail()
    out = _Stdout(sys.stdout)
    sys.stdout = out  # type: ignore[assignment]
    command = ""
    try:
        with signals_raise():  # SIGTERM and SIGHUP stop a command the way Ctrl-C does: one line, nothing half-written
            try:
                command, code = _run(argv)
            except KeyboardInterrupt as exc:  # also outside a command: while parsing, while reporting
                say_error(f"budget: interrupted ({signal_name(exc)})")
                return exit_code(exc)
        return _stdout_code(out, command, code)
    finally:
        sys.stdout = out.stream


def _run(argv: list[str] | None) -> tuple[str, int]:
    """The command's name and its exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            sub = f"budget {args.command}" if getattr(args, "command", None) else "budget"
            shown = " ".join(repr(a) for a in extra[:5]) + (" ..." if len(extra) > 5 else "")
            say_error(f"{sub}: usage error: unrecognized arguments: {shown} (see {sub} --help)")
            return "", EXIT_USAGE
    except SystemExit as exc:  # --help, --version, or a usage error already reported in one line
        return "", exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command = getattr(args, "command", None)
    if not command:
        say_error(f"budget: usage error: give a command ({', '.join(COMMANDS)}); see budget --help")
        return "", EXIT_USAGE
    return command, _command(command, args)


def _command(command: str, args: argparse.Namespace) -> int:
    try:
        return int(_handler(command)(args))
    except (QueryError, UsageError) as exc:  # a flag's value, or a query, it cannot read: as the parser says its own
        say_error(f"budget {command}: usage error: {exc} (see budget {command} --help)")
        return EXIT_USAGE
    except BudgetError as exc:
        say_error(f"budget: error: {exc}")
        return EXIT_FAIL
    except RecursionError:
        say_error(f"budget {command}: error: input nested too deeply")
        return EXIT_FAIL
    except MemoryError:
        say_error(f"budget {command}: error: input too large to process")
        return EXIT_FAIL
    except OSError as exc:
        if exc is getattr(sys.stdout, "failed", None):
            return EXIT_FAIL  # a report that could not be printed: said once the command is over
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        say_error(f"budget {command}: error: {name}{exc.strerror or exc}")
        return EXIT_FAIL
    except Exception as exc:  # last resort: a bug must still answer in one line, never a traceback
        say_error(f"budget {command}: internal error: {type(exc).__name__}: {exc} (please report this)")
        return EXIT_FAIL


def run() -> None:
    code = main()
    try:
        sys.stdout.flush()
    except OSError:
        _quiet_stdout(sys.stdout)
    sys.exit(code)


__all__ = ["main", "run", "build_parser"]
