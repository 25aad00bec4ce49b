"""The input layer: every file the workbench reads comes through here, for the CLI and the app alike.

- Only regular files are read: a folder, FIFO, socket or device (``/dev/zero``)
  is refused before a byte is read (the file is opened non-blocking, then
  ``fstat`` decides), and the read itself stops at ``limit + 1`` bytes, so a
  file that grows or lies about its size never costs more than the limit.
- Text is UTF-8 (a leading byte-order mark is dropped); an empty file is an
  error that says so.
- YAML goes through :mod:`budget.files.yamlstrict`, JSON through :mod:`budget.files.jsonscan`:
  duplicate keys, non-finite numbers and over-long integers are refused with the
  line, and nesting is bounded.
- :class:`Document` keeps what it needs to turn a field path into a line number:
  the YAML node tree, or for JSON the text itself, walked only when an error
  must name a line.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from budget.errors import BudgetError
from budget.files import jsonscan, yamlstrict
from budget.files.limits import MAX_INPUT_BYTES, MAX_NESTING, MAX_YAML_BYTES
from budget.files.text import short_repr

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def display(name: object) -> str:
    """A file name as messages show it: never empty."""
    text = str(name)
    return text if text.strip() else repr(text)


def _open_regular(path: str | os.PathLike[str], name: str) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise BudgetError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise BudgetError(f"{name}: is a folder, not a file") from None
    except PermissionError:
        raise BudgetError(f"{name}: permission denied") from None
    except OSError as exc:
        raise BudgetError(f"{name}: cannot open: {exc.strerror or exc}") from None
    except ValueError:  # a NUL byte in the name
        raise BudgetError(f"{name}: not a valid file name") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise BudgetError(f"{name}: cannot read: {exc.strerror}") from None
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise BudgetError(f"{name}: is a folder, not a file")
    kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
    raise BudgetError(f"{name}: is {kind}, not a regular file; give a file")


def read_bytes(path: str | os.PathLike[str], limit: int, name: str | None = None) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them (the read stops at ``limit + 1``)."""
    label = display(path if name is None else name)
    fd = _open_regular(path, label)
    chunks: list[bytes] = []
    total = 0
    try:
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise BudgetError(f"{label}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise BudgetError(f"{label}: larger than the {limit:,}-byte limit for this input")
    return b"".join(chunks)


def decode_text(data: bytes, name: str, limit: int | None = None, empty_ok: bool = False) -> str:
    """UTF-8 text of ``data`` (an upload or a file's bytes), bounded and non-empty."""
    label = display(name)
    if limit is not None and len(data) > limit:
        raise BudgetError(f"{label}: {len(data):,} bytes, over the {limit:,}-byte limit for this input")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BudgetError(
            f"{label}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})"
        ) from None
    text = text.removeprefix("\ufeff")
    if not empty_ok and not text.strip():
        raise BudgetError(f"{label}: file is empty")
    return text


def read_text(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES, empty_ok: bool = False) -> str:
    """A regular file's UTF-8 text, bounded by ``limit`` bytes."""
    return decode_text(read_bytes(path, limit), display(path), empty_ok=empty_ok)


@dataclass
class Document:
    """A parsed input file: its data, its name and a way back to line numbers."""

    name: str
    data: Any
    node: yaml.Node | None = field(default=None, repr=False)
    json_text: str | None = field(default=None, repr=False)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the value at ``loc`` (or of its deepest existing parent)."""
        if self.json_text is not None:
            return jsonscan.locate(self.json_text, loc)
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for key in loc:
            if node is None:
                break
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if str(k.value) == str(key):
                        nxt = v
                        line = k.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if 0 <= key < len(node.value):
                    nxt = node.value[key]
                    line = nxt.start_mark.line + 1
            node = nxt
        return line

    def where(self, loc: tuple[Any, ...] = ()) -> str:
        line = self.line_of(loc) if loc else None
        return f"{self.name}:{line}" if line else self.name

    def error(self, loc: tuple[Any, ...], message: str) -> BudgetError:
        path = dotted(loc)
        prefix = f"{self.where(loc)}: {path}: " if path else f"{self.name}: "
        return BudgetError(prefix + message)

    def validation_error(self, exc: ValidationError, *prefix: Any) -> BudgetError:
        """The first pydantic error as one line naming file, line and field (under ``prefix``)."""
        err = exc.errors()[0]
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("value_error", "assertion_error", "missing") and "input" in err:
            got = err["input"]
            if not isinstance(got, (dict, list)):
                msg = f"{msg}, got {short_repr(got)}"
        return self.error(loc, msg)


def dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def check_nesting(data: Any, name: str, limit: int = MAX_NESTING) -> None:
    """Refuse containers nested deeper than ``limit`` (iteratively: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise BudgetError(f"{name}: nested deeper than {limit} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))


def parse_yaml_text(text: str, name: str) -> Document:
    name = display(name)
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise BudgetError(
            f"{name}: {size:,} bytes of YAML, over the {MAX_YAML_BYTES:,}-byte limit for YAML "
            "(give large inputs as JSON)"
        )
    try:
        data, node = yamlstrict.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        field = dotted(yamlstrict.path_to(getattr(exc, "root_node", None), mark)) if mark else ""
        if field:  # a value the strict rules refuse: name its field
            raise BudgetError(f"{name}{line}: {field}: {problem}") from None
        raise BudgetError(f"{name}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise BudgetError(f"{name}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise BudgetError(f"{name}: nested too deeply") from None
    if data is None:
        raise BudgetError(f"{name}: file is empty (no YAML document)")
    return Document(name=name, data=data, node=node)


def parse_json_text(text: str, name: str) -> Document:
    name = display(name)
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    try:
        data = jsonscan.loads(text)
    except jsonscan.StrictJSONError as exc:
        found = jsonscan.find_problem(text)
        if found is None:
            raise BudgetError(f"{name}: not valid JSON: {exc}") from None
        raise BudgetError(f"{name}:{found[0]}: {found[1]}") from None  # the field, then what is wrong with it
    except ValueError as exc:  # json.JSONDecodeError
        lineno = getattr(exc, "lineno", None)
        if lineno is None:
            raise BudgetError(f"{name}: not valid JSON: {exc}") from None
        raise BudgetError(f"{name}:{lineno}: not valid JSON: {exc.msg} (column {exc.colno})") from None  # type: ignore[attr-defined]
    except RecursionError:
        raise BudgetError(f"{name}: nested too deeply") from None
    check_nesting(data, name)
    return Document(name=name, data=data, json_text=text)


def load_document(path: str | Path, limit: int = MAX_INPUT_BYTES) -> Document:
    """Parse a ``.json`` file as JSON and anything else as YAML."""
    text = read_text(path, limit)
    if str(path).lower().endswith(".json"):
        return parse_json_text(text, str(path))
    return parse_yaml_text(text, str(path))


def parse_text(text: str, name: str) -> Document:
    """Parse uploaded text: JSON when the name ends in .json, YAML otherwise."""
    if name.lower().endswith(".json"):
        return parse_json_text(text, name)
    return parse_yaml_text(text, name)
