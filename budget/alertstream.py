"""A large JSONL alert stream, read as it streams: the same records, skips and errors as ``budget.alerts``.

``budget.alerts`` reads a file whole (an Alertmanager payload or a PagerDuty
export is one JSON document). A JSONL stream of a busy day is 100,000 lines:
:func:`read_jsonl` reads it in blocks of whole lines, parses each line with
the JSON decoder's scanner (``json.loads`` itself for any line the scanner
does not take whole, so a bad line gets the message ``json.loads`` gives),
and keeps only the compact record of each alert, never the file's text nor
its parsed objects. Every record goes through ``budget.alerts``' own check
(``_generic``), so the fields, the skips and their reasons are the same.

It reads the file only when the whole-file reader would read it line by
line; otherwise it returns None and ``budget.alerts`` reads the file whole:

- the first non-blank line is one JSON object the format detection calls
  ``jsonl`` (a JSON array or a pretty-printed document is not a line stream),
- there are at least two non-blank lines (one line is also a whole document,
  numbered 1),
- the file is UTF-8 (the whole-file reader names the bad byte), and its only
  line breaks are ``\\n`` and ``\\r\\n`` (``str.splitlines`` breaks at more).
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from budget.alerts import ImportReport, SeverityMap, _generic, _Raw, _Skip, detect_format

BLOCK_BYTES = 1 << 20
# where str.splitlines breaks a line besides "\n" and "\r\n" (and a lone "\r"): such a file is read whole
_ASCII_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # (typeshed names the wrong type)


class _NotAStream(Exception):
    pass


def _blocks(path: Path) -> Iterator[list[str]]:
    """The file's lines, a block at a time (line breaks removed)."""
    rest = b""
    with path.open("rb") as fh:
        while True:
            data = fh.read(BLOCK_BYTES)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            rest = data[cut:]
            yield _lines(data[:cut])
        if rest:
            yield _lines(rest + b"\n")


def _lines(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotAStream from None
    if text.isascii():
        if any(c in text for c in _ASCII_BREAKS):
            raise _NotAStream
    elif _OTHER_BREAKS.search(text):
        raise _NotAStream
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        raise _NotAStream
    lines = text.split("\n")
    lines.pop()  # the block ends with "\n"
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return lines


def _parse(line: str) -> Any:
    """``json.loads(line)``; the scanner alone when it takes the whole line."""
    try:
        obj, end = _scan(line, 0)
        if end == len(line):
            return obj
    except StopIteration:
        pass
    return json.loads(line)


class _MemoSeverity(SeverityMap):
    """The same map, remembering each severity word it has looked up (a stream repeats a handful)."""

    def __init__(self, base: SeverityMap) -> None:
        super().__init__(base.words, base.pagerduty)
        object.__setattr__(self, "memo", {})

    def word(self, value: Any) -> str | None:
        if type(value) is not str:
            return super().word(value)
        memo: dict[str, str | None] = self.memo  # type: ignore[attr-defined]
        if value not in memo:
            memo[value] = super().word(value)
        return memo[value]


def read_jsonl(path: Path, name: str, fmt: str | None, sev: SeverityMap) -> tuple[list[_Raw], ImportReport] | None:
    """The records of a JSONL stream and the import report, or None when the file is not one (see above)."""
    try:
        return _read(path, name, fmt, _MemoSeverity(sev))
    except _NotAStream:
        return None


def _read(path: Path, name: str, fmt: str | None, sev: SeverityMap) -> tuple[list[_Raw], ImportReport] | None:
    report = ImportReport(source=name, format="jsonl")
    raws: list[_Raw] = []
    skipped = report.skipped
    n = 0
    first = True
    for lines in _blocks(path):
        for line in lines:
            n += 1
            if not line.strip():
                continue
            if first:  # the line the format detection reads: one JSON object, the stream's format
                first = False
                if not line.lstrip().startswith("{"):
                    return None
                try:
                    head = _parse(line)
                except json.JSONDecodeError:
                    return None  # maybe the first line of one multi-line document
                if not isinstance(head, dict) or fmt is None and detect_format(line, name) != "jsonl":
                    return None
            try:
                obj = _parse(line)
            except json.JSONDecodeError as exc:
                skipped.append((n, f"not valid JSON ({exc.msg})"))
                report.records += 1
                continue
            report.records += 1
            try:
                if not isinstance(obj, dict):
                    raise _Skip("not an object")
                raws.append(_generic(obj, n, sev))
            except _Skip as exc:
                skipped.append((n, str(exc)))
    if report.records < 2:
        return None  # one record is also a whole document: the whole-file reader numbers it
    return raws, report
