"""A strict YAML reader: ``yaml.safe_load`` semantics minus everything budget files never need.

- aliases (``*name``) are refused: a YAML alias bomb never expands;
- duplicate keys are refused, naming both lines (PyYAML keeps the last silently);
- numbers are finite (``.inf``, ``.nan`` and ``1.0e400`` are refused) and
  integers have at most :data:`budget.files.limits.MAX_INT_DIGITS` digits;
- only JSON-like values: dates stay text (no implicit timestamps) and the tags
  ``!!timestamp``, ``!!binary``, ``!!set``, ``!!omap``, ``!!pairs`` are refused;
- nesting deeper than :data:`budget.files.limits.MAX_NESTING` is refused.

The events come from libyaml when PyYAML has it (3x faster); nodes are composed
and constructed in Python so that these rules hold either way.
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from budget.files.limits import MAX_INT_DIGITS, MAX_NESTING


class _PyEventParser(Reader, Scanner, Parser):
    """PyYAML's own event parser (used when it was built without libyaml)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)  # type: ignore[arg-type]


try:  # libyaml's event parser, when PyYAML was built with it
    from yaml._yaml import CParser as _EventParser
except ImportError:  # pragma: no cover - pure-Python PyYAML
    _EventParser = _PyEventParser  # type: ignore[misc,assignment]


class _Resolver(Resolver):
    """YAML 1.1 implicit types, without timestamps (a date stays the text it is)."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


class _Constructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(None, None, f"cannot read this value: {exc}", node.start_mark) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConstructorError(None, None, "a key must be text or a number", key_node.start_mark)
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (also on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:  # type: ignore[override]
        text = str(node.value).replace("_", "").lstrip("+-")
        if len(text) > 3 * MAX_INT_DIGITS:
            raise ConstructorError(None, None, f"integer of {len(text):,} characters is too large", node.start_mark)
        value = super().construct_yaml_int(node)
        if abs(value) >= 10**MAX_INT_DIGITS:
            raise ConstructorError(None, None, f"integer over the {MAX_INT_DIGITS}-digit limit", node.start_mark)
        return value

    def construct_yaml_float(self, node: ScalarNode) -> float:  # type: ignore[override]
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise ConstructorError(None, None, f"{node.value!r} is not a finite number", node.start_mark)
        return value

    def refuse_tag(self, node: Node) -> Any:
        raise ConstructorError(
            None,
            None,
            f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed in budget files",
            node.start_mark,
        )


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)  # type: ignore[type-var]
for _tag in ("timestamp", "binary", "set", "omap", "pairs"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.refuse_tag)  # type: ignore[type-var]


class _StrictComposer(Composer, _Constructor, _Resolver):
    """Nodes and values built under the rules above, from any event parser mixed in after it."""

    _parser: type

    def __init__(self, stream: str) -> None:
        self._parser.__init__(self, stream)  # type: ignore[misc]
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        Composer.__init__(self)
        self._depth = 0

    def _mark(self) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        return event.start_mark if event is not None else None

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in budget files", self._mark()
            )
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_NESTING} levels", self._mark())
            return super().compose_node(parent, index)  # type: ignore[return-value]
        finally:
            self._depth -= 1


class StrictLoader(_StrictComposer, _EventParser):  # type: ignore[misc]
    """Events from libyaml when PyYAML has it, else from PyYAML's own parser."""

    _parser = _EventParser


class PyStrictLoader(_StrictComposer, _PyEventParser):  # type: ignore[misc]
    """Events from PyYAML's own parser (the fallback, and a check that both agree)."""

    _parser = _PyEventParser


def compose(text: str, loader_class: type[_StrictComposer] = StrictLoader) -> tuple[Any, Node | None]:
    """(data, root node) of a single YAML document; raises ``yaml.YAMLError``."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        try:
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            exc.root_node = node  # type: ignore[attr-defined]  # so the caller can name the field
            raise
    finally:
        loader.dispose()  # type: ignore[attr-defined]
    return data, node


def path_to(node: Node | None, mark: Any) -> tuple[Any, ...]:
    """The key path of the value that starts at ``mark`` in the tree under ``node`` (``()`` when not found)."""
    stack: list[tuple[Node, tuple[Any, ...]]] = [(node, ())] if node is not None else []
    while stack:
        current, path = stack.pop()
        start = current.start_mark
        if start.line == mark.line and start.column == mark.column and path:
            return path
        if isinstance(current, MappingNode):
            stack.extend((v, (*path, k.value)) for k, v in current.value)
            for k, _ in current.value:
                if k.start_mark.line == mark.line and k.start_mark.column == mark.column:
                    return (*path, k.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((v, (*path, i)) for i, v in enumerate(current.value))
    return ()
