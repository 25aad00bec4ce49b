"""Input and output: everything that crosses the boundary of the package.

The strict readers (``loader``: regular files only, a byte bound on the read, strict numbers, duplicate
keys refused; ``jsonscan`` and ``yamlstrict`` under it), the all-or-nothing outputs (``outputs``), the
command line's grammar and values (``commandline``, ``cliargs``, ``choices``), the bounds on input and
work (``limits``), message helpers (``text``) and the collector pause for bulk reads (``gcpause``).

May import: ``budget.errors`` and the standard library, nothing else of the package: every other
package stands on this one.

The public names load on first use (PEP 562): ``budget --help`` reads the grammar without importing
yaml or pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from budget.files.choices import ALERT_FORMATS, DEFAULT_MAX_SILENT_P0, GATEWAYS, ROUTING_POLICIES, SPEND_LOG_FORMATS
    from budget.files.cliargs import outages, say_error, sweep_values, targets
    from budget.files.commandline import COMMANDS, EXIT_FAIL, EXIT_OK, EXIT_USAGE, build_parser
    from budget.files.gcpause import paused
    from budget.files.interrupts import Interrupted, deferred, exit_code, signal_name, signals_raise
    from budget.files.limits import (
        MAX_ALERT_FILE_BYTES,
        MAX_ALERTS,
        MAX_CSV_FIELD_CHARS,
        MAX_DRILL_DAY_RUNS,
        MAX_DRILL_REPLAYS,
        MAX_DURATION_MIN,
        MAX_DURATION_SEC,
        MAX_HISTORY_BYTES,
        MAX_INPUT_BYTES,
        MAX_INT_DIGITS,
        MAX_NESTING,
        MAX_NOTE_BYTES,
        MAX_PHASES,
        MAX_QUERY_CHARS,
        MAX_QUEUE,
        MAX_RESULT_BYTES,
        MAX_SWEEP_DAY_RUNS,
        MAX_SWEEP_REPLAYS,
        MAX_SWEEP_VARIANTS,
        MAX_TEXT_CHARS,
        MAX_TIERS,
        MAX_TOKENS_PER_INCIDENT,
        MAX_UPLOAD_BYTES,
        MAX_YAML_BYTES,
        check_day_runs,
        check_replays,
    )
    from budget.files.loader import (
        Document,
        decode_text,
        dotted,
        load_document,
        parse_json_text,
        parse_text,
        parse_yaml_text,
        read_text,
    )
    from budget.files.locks import locked
    from budget.files.names import bad_character, name_problem, one_line
    from budget.files.outputs import Outputs, atomic_write_text, check_output, commit_files
    from budget.files.text import count_of, short_repr

_HOME = {
    "count_of": "budget.files.text",
    "bad_character": "budget.files.names",
    "name_problem": "budget.files.names",
    "one_line": "budget.files.names",
    "ALERT_FORMATS": "budget.files.choices",
    "COMMANDS": "budget.files.commandline",
    "DEFAULT_MAX_SILENT_P0": "budget.files.choices",
    "Document": "budget.files.loader",
    "EXIT_FAIL": "budget.files.commandline",
    "EXIT_OK": "budget.files.commandline",
    "EXIT_USAGE": "budget.files.commandline",
    "GATEWAYS": "budget.files.choices",
    "Interrupted": "budget.files.interrupts",
    "MAX_ALERTS": "budget.files.limits",
    "MAX_ALERT_FILE_BYTES": "budget.files.limits",
    "MAX_CSV_FIELD_CHARS": "budget.files.limits",
    "MAX_DRILL_DAY_RUNS": "budget.files.limits",
    "MAX_DRILL_REPLAYS": "budget.files.limits",
    "MAX_DURATION_MIN": "budget.files.limits",
    "MAX_DURATION_SEC": "budget.files.limits",
    "MAX_HISTORY_BYTES": "budget.files.limits",
    "MAX_INPUT_BYTES": "budget.files.limits",
    "MAX_INT_DIGITS": "budget.files.limits",
    "MAX_NESTING": "budget.files.limits",
    "MAX_NOTE_BYTES": "budget.files.limits",
    "MAX_PHASES": "budget.files.limits",
    "MAX_QUERY_CHARS": "budget.files.limits",
    "MAX_QUEUE": "budget.files.limits",
    "MAX_RESULT_BYTES": "budget.files.limits",
    "MAX_SWEEP_DAY_RUNS": "budget.files.limits",
    "MAX_SWEEP_REPLAYS": "budget.files.limits",
    "MAX_SWEEP_VARIANTS": "budget.files.limits",
    "MAX_TEXT_CHARS": "budget.files.limits",
    "MAX_TIERS": "budget.files.limits",
    "MAX_TOKENS_PER_INCIDENT": "budget.files.limits",
    "MAX_UPLOAD_BYTES": "budget.files.limits",
    "MAX_YAML_BYTES": "budget.files.limits",
    "Outputs": "budget.files.outputs",
    "ROUTING_POLICIES": "budget.files.choices",
    "SPEND_LOG_FORMATS": "budget.files.choices",
    "atomic_write_text": "budget.files.outputs",
    "build_parser": "budget.files.commandline",
    "check_output": "budget.files.outputs",
    "check_day_runs": "budget.files.limits",
    "check_replays": "budget.files.limits",
    "commit_files": "budget.files.outputs",
    "decode_text": "budget.files.loader",
    "deferred": "budget.files.interrupts",
    "exit_code": "budget.files.interrupts",
    "dotted": "budget.files.loader",
    "load_document": "budget.files.loader",
    "locked": "budget.files.locks",
    "outages": "budget.files.cliargs",
    "parse_json_text": "budget.files.loader",
    "parse_text": "budget.files.loader",
    "parse_yaml_text": "budget.files.loader",
    "paused": "budget.files.gcpause",
    "read_text": "budget.files.loader",
    "say_error": "budget.files.cliargs",
    "short_repr": "budget.files.text",
    "signal_name": "budget.files.interrupts",
    "signals_raise": "budget.files.interrupts",
    "sweep_values": "budget.files.cliargs",
    "targets": "budget.files.cliargs",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    try:
        module = _HOME[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


__all__ = [
    "count_of",
    "bad_character",
    "name_problem",
    "one_line",
    "ALERT_FORMATS",
    "COMMANDS",
    "DEFAULT_MAX_SILENT_P0",
    "Document",
    "EXIT_FAIL",
    "EXIT_OK",
    "EXIT_USAGE",
    "GATEWAYS",
    "Interrupted",
    "MAX_ALERTS",
    "MAX_ALERT_FILE_BYTES",
    "MAX_CSV_FIELD_CHARS",
    "MAX_DRILL_DAY_RUNS",
    "MAX_DRILL_REPLAYS",
    "MAX_DURATION_MIN",
    "MAX_DURATION_SEC",
    "MAX_HISTORY_BYTES",
    "MAX_INPUT_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NESTING",
    "MAX_NOTE_BYTES",
    "MAX_PHASES",
    "MAX_QUERY_CHARS",
    "MAX_QUEUE",
    "MAX_RESULT_BYTES",
    "MAX_SWEEP_DAY_RUNS",
    "MAX_SWEEP_REPLAYS",
    "MAX_SWEEP_VARIANTS",
    "MAX_TEXT_CHARS",
    "MAX_TIERS",
    "MAX_TOKENS_PER_INCIDENT",
    "MAX_UPLOAD_BYTES",
    "MAX_YAML_BYTES",
    "Outputs",
    "ROUTING_POLICIES",
    "SPEND_LOG_FORMATS",
    "atomic_write_text",
    "build_parser",
    "check_output",
    "check_day_runs",
    "check_replays",
    "commit_files",
    "decode_text",
    "deferred",
    "exit_code",
    "dotted",
    "load_document",
    "locked",
    "outages",
    "parse_json_text",
    "parse_text",
    "parse_yaml_text",
    "paused",
    "read_text",
    "say_error",
    "short_repr",
    "signal_name",
    "signals_raise",
    "sweep_values",
    "targets",
]
