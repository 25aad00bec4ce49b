"""``budget`` command line: compile, assert, simulate, inspect, note, drill, validate, calibrate, propose, review,
fit, export.

Exit codes: 0 ok; 1 a check failed or the input is invalid; 2 a usage error
(bad flags, a malformed inspect query or a field the result does not have).
Errors are one line on stderr; nothing is written when a command fails: every
command checks its inputs and flags first, computes everything, and only then
writes all its outputs together (:class:`budget.files.outputs.Outputs`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from budget.cli import drill_commands, plan_commands, sweep_commands, traffic_commands
from budget.errors import BudgetError, QueryError, UsageError
from budget.files.cliargs import say_error
from budget.files.commandline import COMMANDS, EXIT_FAIL, EXIT_USAGE, build_parser

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


def main(argv: list[str] | None = None) -> int:
    """Run one command; always returns an exit code (0 ok, 1 failed check or invalid input, 2 usage)."""
    _streams_never_fail()
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            sub = f"budget {args.command}" if getattr(args, "command", None) else "budget"
            shown = " ".join(repr(a) for a in extra[:5]) + (" ..." if len(extra) > 5 else "")
            say_error(f"{sub}: usage error: unrecognized arguments: {shown} (see {sub} --help)")
            return EXIT_USAGE
    except SystemExit as exc:  # --help, --version, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command = getattr(args, "command", None)
    if not command:
        say_error(f"budget: usage error: give a command ({', '.join(COMMANDS)}); see budget --help")
        return EXIT_USAGE
    try:
        return int(_handler(command)(args))
    except (QueryError, UsageError) as exc:
        say_error(f"budget: error: {exc}")
        return EXIT_USAGE
    except BudgetError as exc:
        say_error(f"budget: error: {exc}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        say_error("budget: interrupted")
        return 130
    except RecursionError:
        say_error(f"budget {command}: error: input nested too deeply")
        return EXIT_FAIL
    except MemoryError:
        say_error(f"budget {command}: error: input too large to process")
        return EXIT_FAIL
    except OSError as exc:
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        say_error(f"budget {command}: error: {name}{exc.strerror or exc}")
        return EXIT_FAIL
    except Exception as exc:  # last resort: a bug must still answer in one line, never a traceback
        say_error(f"budget {command}: internal error: {type(exc).__name__}: {exc} (please report this)")
        return EXIT_FAIL


def run() -> None:
    sys.exit(main())


__all__ = ["main", "run", "build_parser"]
