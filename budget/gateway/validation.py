"""The gateway's front door: read a validation file in either format and give one verdict.

Two formats are read, told apart from the file itself:

- the chapter's (``budget.gateway.gate``): ``checks`` with ``id``, ``if`` and ``then``;
- the textbook's chapter-10 validator (``budget.gateway.goodhart``): ``invariants`` and
  ``checks`` with ``when_metric`` or ``mode: correlation_guard``.

A Markdown file (``.md``, ``.markdown``) holds the rules in a fenced
```` ```yaml ```` block; errors point at the Markdown file's own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from budget.errors import BudgetError, QueryError
from budget.files import Document, count_of, parse_text, read_text
from budget.gateway import gate, goodhart
from budget.gateway.verdict import Verdict

CHAPTER, CHAPTER_10 = "chapter", "chapter-10"
MARKDOWN_SUFFIXES = (".md", ".markdown")
YAML_INFO = ("yaml", "yml")
_CHAPTER_KEYS = {"id", "if", "then"}
_CHAPTER_10_KEYS = {"when_metric", "when_operator", "when_threshold", "assert_invariants", "mode", "drift_metric"}


@dataclass(frozen=True)
class Rules:
    """A parsed validation file: its format and the rules of that format."""

    source: str
    format: str
    chapter: tuple[gate.Check, ...] = ()
    chapter_10: goodhart.Rules | None = None

    def describe(self) -> str:
        if self.chapter_10 is not None:
            r = self.chapter_10
            counts = f"{count_of(len(r.invariants), 'invariant')}, {count_of(len(r.checks), 'check')}"
            return f"{self.source}: chapter-10 format, {counts}"
        return f"{self.source}: the chapter's format, {count_of(len(self.chapter), 'check')}"


def is_markdown(name: str) -> bool:
    return name.lower().endswith(MARKDOWN_SUFFIXES)


def markdown_document(text: str, name: str) -> Document:
    """The YAML of the Markdown file's fenced ``yaml`` block, with the Markdown file's line numbers."""
    blocks = [
        t
        for t in MarkdownIt("commonmark").parse(text)
        if t.type == "fence" and t.info.strip().split()[:1] and t.info.strip().split()[0].lower() in YAML_INFO
    ]
    if not blocks:
        raise QueryError(f"{name}: no ```yaml fenced block: put the rules in one")
    docs = []
    for block in blocks:
        assert block.map is not None
        # blank lines before the block keep every line number that of the Markdown file
        docs.append(parse_text("\n" * (block.map[0] + 1) + block.content, name))
    rules = [d for d in docs if isinstance(d.data, dict) and ({"checks", "invariants"} & set(d.data))]
    if len(rules) > 1:
        lines = ", ".join(str(d.line_of(()) or "?") for d in rules)
        raise QueryError(f"{name}: {len(rules)} yaml blocks hold checks (lines {lines}); keep the rules in one")
    if not rules:
        raise QueryError(f"{name}: no yaml block holds checks or invariants")
    return rules[0]


def detect_format(doc: Document) -> str:
    """``chapter`` or ``chapter-10``, from the file's own keys."""
    data = doc.data
    if not isinstance(data, dict) or not ({"checks", "invariants"} & set(data)):
        raise QueryError(f"{doc.name}: must be a mapping with checks (the chapter's format) or invariants and checks")
    keys: set[str] = set()
    if isinstance(data.get("checks"), list):
        for item in data["checks"]:
            if isinstance(item, dict):
                keys |= {str(k) for k in item}
    chapter_10 = "invariants" in data or bool(keys & _CHAPTER_10_KEYS)
    chapter = bool(keys & _CHAPTER_KEYS)
    if chapter and chapter_10:
        raise QueryError(
            f"{doc.name}: mixes the two formats (if/then checks and invariants/when_metric checks); use one per file"
        )
    return CHAPTER_10 if chapter_10 else CHAPTER


def rules_from_document(doc: Document) -> Rules:
    fmt = detect_format(doc)
    if fmt == CHAPTER_10:
        return Rules(doc.name, fmt, chapter_10=goodhart.rules_from_document(doc))
    return Rules(doc.name, fmt, chapter=tuple(gate.checks_from_document(doc)))


def _as_query_error(exc: BudgetError) -> QueryError:
    return exc if isinstance(exc, QueryError) else QueryError(str(exc))


def rules_from_text(text: str, name: str = "<validation>") -> Rules:
    """Rules from uploaded or edited text (Markdown when ``name`` ends in .md)."""
    try:
        doc = markdown_document(text, name) if is_markdown(name) else parse_text(text, name)
        return rules_from_document(doc)
    except BudgetError as exc:
        raise _as_query_error(exc) from None


def load_rules(path: str | Path) -> Rules:
    try:
        text = read_text(path)
    except BudgetError as exc:
        raise _as_query_error(exc) from None
    return rules_from_text(text, str(path))


def run(
    rules: Rules,
    metrics: Any,
    metrics_name: str = "metrics",
    baseline: Any = None,
    baseline_name: str | None = None,
) -> Verdict:
    """Evaluate the rules on every metric set of ``metrics`` (each outage of a drill result)."""
    if not isinstance(metrics, dict):
        raise QueryError(f"{metrics_name}: must be a JSON object of metrics")
    if baseline is not None and not isinstance(baseline, dict):
        raise QueryError(f"{baseline_name}: must be a JSON object with {goodhart.EDGES}")
    if baseline is not None and not (rules.chapter_10 is not None and rules.chapter_10.has_drift_guard):
        raise QueryError(f"--baseline {baseline_name}: {rules.source} has no correlation_guard check to read it")
    sets = gate.metric_sets(metrics)
    try:
        if rules.chapter_10 is not None:
            items = [
                item
                for target, m in sets
                for item in goodhart.evaluate(rules.chapter_10, m, target, baseline, baseline_name or "baseline")
            ]
        else:
            items = gate.items([gate.evaluate_checks(list(rules.chapter), m, target) for target, m in sets])
    except QueryError as exc:  # a metric these rules read that the input lacks, a non-finite value: name the file
        raise QueryError(f"{metrics_name}: {exc}") from None
    return Verdict(rules.format, rules.source, metrics_name, items, baseline_name, notes=[rules.describe()])
