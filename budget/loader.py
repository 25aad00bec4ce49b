"""Reading YAML and JSON input files safely, with line numbers for field errors.

- ``yaml.safe_load`` semantics, but aliases are refused (a YAML alias bomb
  never expands) and files over :data:`MAX_INPUT_BYTES` are refused.
- An empty file is an error that says so.
- :class:`Document` keeps the composed node tree so that a pydantic error at
  ``phases.plan.local-coder`` can be reported as ``file:LINE: phases.plan.local-coder: ...``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from budget.errors import BudgetError

MAX_INPUT_BYTES = 5 * 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: specs never need them, bombs always do."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in budget files", event.start_mark
            )
        return super().compose_node(parent, index)


@dataclass
class Document:
    """A parsed input file: its data, its name and a way back to line numbers."""

    name: str
    data: Any
    node: yaml.Node | None = field(default=None, repr=False)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the value at ``loc`` (or of its deepest existing parent)."""
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
                msg = f"{msg}, got {got!r}"
        return self.error(loc, msg)


def dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _read_text(path: Path, limit: int) -> str:
    name = str(path)
    if not path.exists():
        raise BudgetError(f"{name}: no such file")
    if path.is_dir():
        raise BudgetError(f"{name}: is a folder, not a file")
    size = path.stat().st_size
    if size > limit:
        raise BudgetError(f"{name}: file is {size:,} bytes, over the {limit:,}-byte limit")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BudgetError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    return text


def parse_yaml_text(text: str, name: str) -> Document:
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
        raise BudgetError(f"{name}: over the {MAX_INPUT_BYTES:,}-byte limit")
    try:
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise BudgetError(f"{name}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise BudgetError(f"{name}: not valid YAML: {exc}") from None
    if data is None:
        raise BudgetError(f"{name}: file is empty (no YAML document)")
    return Document(name=name, data=data, node=node)


def parse_json_text(text: str, name: str) -> Document:
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BudgetError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    node = None
    try:  # JSON is YAML: compose it once more only to know line numbers
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        node = None
    return Document(name=name, data=data, node=node)


def load_document(path: str | Path, limit: int = MAX_INPUT_BYTES) -> Document:
    """Parse a ``.json`` file as JSON and anything else as YAML."""
    p = Path(path)
    text = _read_text(p, limit)
    if p.suffix.lower() == ".json":
        return parse_json_text(text, str(path))
    return parse_yaml_text(text, str(path))


def parse_text(text: str, name: str) -> Document:
    """Parse uploaded text: JSON when the name ends in .json, YAML otherwise."""
    if name.lower().endswith(".json"):
        return parse_json_text(text, name)
    return parse_yaml_text(text, name)


def read_text(path: str | Path, limit: int = MAX_INPUT_BYTES) -> str:
    """The checked text of an input file (exists, not a folder, within ``limit``, UTF-8, not empty)."""
    return _read_text(Path(path), limit)
