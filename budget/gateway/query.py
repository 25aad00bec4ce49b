"""The inspect query language: a small parser, no ``eval``.

Grammar (``||`` binds loosest, ``!`` tightest)::

    expr       := and ( "||" and )*
    and        := unary ( "&&" unary )*
    unary      := "!" unary | "(" expr ")" | comparison
    comparison := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand ]
    operand    := path | number | duration | string | true | false | null

A path is dotted (``red_button.activated``, ``tiers.local-coder.spent``,
``timeline.0.token_health``). A duration is ``30s``, ``5m``, ``2h`` or a
quoted ``"5m"``; it compares as seconds. A comparison with no operator is a
truth test of the path. Every comparison is a *clause*: :func:`evaluate`
returns each clause with the value it read and whether it held.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

from budget.errors import QueryError
from budget.files import MAX_NESTING as MAX_QUERY_NESTING
from budget.files import MAX_QUERY_CHARS, short_repr

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\))
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?P<unit>s|m|h|d|%)?(?![A-Za-z0-9_])
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)
    """,
    re.VERBOSE,
)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INDEX = re.compile(r"-?[0-9]{1,18}")  # a list index: ASCII digits that fit an integer (MAX_INT_DIGITS)
_DUR_STR = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
COMPARATORS = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class Tok:
    kind: str  # op, num, str, ident, end
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Literal:
    value: Any
    text: str


@dataclass(frozen=True)
class Path:
    name: str
    pos: int


@dataclass(frozen=True)
class Compare:
    left: Path | Literal
    op: str | None
    right: Path | Literal | None
    text: str


@dataclass(frozen=True)
class Not:
    inner: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # && or ||
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Clause:
    """One comparison as evaluated: its text, the value(s) read, and whether it held."""

    text: str
    actual: Any
    ok: bool


@dataclass(frozen=True)
class Outcome:
    query: str
    ok: bool
    clauses: tuple[Clause, ...]


def _error(query: str, pos: int, msg: str) -> QueryError:
    near = f"near {query[pos : pos + 12]!r}" if query[pos : pos + 12] else "at the end of the query"
    return QueryError(f"query: column {pos + 1}: {msg} ({near})")


def tokenize(query: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    while i < len(query):
        m = _TOKEN.match(query, i)
        if not m:
            raise _error(query, i, f"unexpected character {query[i]!r}")
        if m.lastgroup == "ws":
            pass
        elif m.group("op"):
            toks.append(Tok("op", m.group("op"), i))
        elif m.group("num") is not None:
            number = float(m.group("num"))
            unit = m.group("unit")
            if unit == "%":
                number /= 100
            elif unit:
                number *= _UNIT[unit]
            if not math.isfinite(number):
                raise _error(query, i, "number is too large")
            toks.append(Tok("num", m.group(0), i, number))
        elif m.group("str") is not None:
            raw = m.group("str")[1:-1]
            dm = _DUR_STR.match(raw.strip())
            value: Any = float(dm.group(1)) * _UNIT[dm.group(2)] if dm else raw
            if isinstance(value, float) and not math.isfinite(value):
                raise _error(query, i, "duration is too large")
            toks.append(Tok("str", m.group(0), i, value))
        else:
            word = m.group("ident")
            if word in ("true", "false"):
                toks.append(Tok("num", word, i, word == "true"))
            elif word == "null":
                toks.append(Tok("num", word, i, None))
            else:
                toks.append(Tok("ident", word, i))
        i = m.end()
    toks.append(Tok("end", "", len(query)))
    return toks


class _Parser:
    def __init__(self, query: str) -> None:
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"query: {len(query):,} characters, over the limit of {MAX_QUERY_CHARS:,}")
        self.q = query
        self.toks = tokenize(query)
        self.i = 0
        self.depth = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> Any:
        if self.peek().kind == "end":
            raise QueryError("query: is empty")
        node = self.expr()
        t = self.peek()
        if t.kind != "end":
            raise _error(self.q, t.pos, f"unexpected {t.text!r}; expected && or || between conditions")
        return node

    def expr(self) -> Any:
        parts = [self.conj()]
        while self.peek().text == "||" and self.peek().kind == "op":
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else BoolOp("||", tuple(parts))

    def conj(self) -> Any:
        parts = [self.unary()]
        while self.peek().text == "&&" and self.peek().kind == "op":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("&&", tuple(parts))

    def unary(self) -> Any:
        t = self.peek()
        self.depth += 1
        if self.depth > MAX_QUERY_NESTING:
            raise _error(self.q, t.pos, f"nested deeper than {MAX_QUERY_NESTING} levels")
        try:
            return self._unary(t)
        finally:
            self.depth -= 1

    def _unary(self, t: Tok) -> Any:
        if t.kind == "op" and t.text == "!":
            self.take()
            return Not(self.unary())
        if t.kind == "op" and t.text == "(":
            self.take()
            node = self.expr()
            close = self.peek()
            if not (close.kind == "op" and close.text == ")"):
                raise _error(self.q, close.pos, "missing ')'")
            self.take()
            return node
        return self.comparison()

    def operand(self) -> Path | Literal:
        t = self.take()
        if t.kind == "ident":
            return Path(t.text, t.pos)
        if t.kind in ("num", "str"):
            return Literal(t.value, t.text)
        what = "end of query" if t.kind == "end" else repr(t.text)
        raise _error(self.q, t.pos, f"expected a field, number, duration or true/false, got {what}")

    def comparison(self) -> Compare:
        start = self.peek().pos
        left = self.operand()
        t = self.peek()
        if t.kind == "op" and t.text in COMPARATORS:
            self.take()
            right = self.operand()
            if isinstance(left, Literal) and isinstance(right, Literal):
                raise _error(self.q, start, "compares two values; one side must be a field of the result")
            end = self.toks[self.i].pos
            return Compare(left, t.text, right, self.q[start:end].strip())
        if t.kind == "op" and t.text == "=":
            raise _error(self.q, t.pos, "use == to compare")
        if isinstance(left, Literal):
            raise _error(self.q, start, "a value alone is not a condition; compare it with a field")
        end = self.toks[self.i].pos
        return Compare(left, None, None, self.q[start:end].strip())


def parse(query: str) -> Any:
    """Parse a query; raises :class:`QueryError` pointing at the column."""
    return _Parser(query).parse()


def resolve(data: Any, path: str, query: str = "", pos: int = 0) -> Any:
    """The value at a dotted path; an unknown field raises QueryError with a suggestion."""
    cur = data
    walked: list[str] = []
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and _INDEX.fullmatch(part) and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            where = ".".join(walked) or "the result"
            hint = ""
            if isinstance(cur, dict):
                close = difflib.get_close_matches(part, [str(k) for k in cur], n=1)
                if close:
                    hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?"
            msg = f"unknown field {short_repr(path)}: {where} has no {short_repr(part)}{hint}"
            raise QueryError(f"query: column {pos + 1}: {msg}" if query else msg)
        walked.append(part)
    return cur


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _compare(op: str, a: Any, b: Any, text: str) -> bool:
    if op == "==":
        return _eq(a, b)
    if op == "!=":
        return not _eq(a, b)
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if not numeric:
        raise QueryError(f"query: {text!r}: {op} needs numbers, got {a!r} and {b!r}")
    eps = 1e-12
    if op == "<":
        return bool(a < b - eps)
    if op == "<=":
        return bool(a <= b + eps)
    if op == ">":
        return bool(a > b + eps)
    return bool(a >= b - eps)


def evaluate(query: str, data: dict[str, Any]) -> Outcome:
    """Evaluate ``query`` against a result dict; every clause is evaluated and reported."""
    tree = parse(query)
    clauses: list[Clause] = []

    def value(node: Path | Literal) -> Any:
        if isinstance(node, Path):
            return resolve(data, node.name, query, node.pos)
        return node.value

    def walk(node: Any) -> bool:
        if isinstance(node, BoolOp):
            results = [walk(p) for p in node.parts]
            return all(results) if node.op == "&&" else any(results)
        if isinstance(node, Not):
            if isinstance(node.inner, Compare):
                mark = len(clauses)
                inner_ok = walk(node.inner)
                c = clauses[mark]
                clauses[mark] = Clause(f"!({c.text})", c.actual, not inner_ok)
                return not inner_ok
            return not walk(node.inner)
        assert isinstance(node, Compare)
        left = value(node.left)
        if node.op is None:
            if isinstance(left, (dict, list)):
                raise QueryError(f"query: {node.text!r}: is a group of fields, compare one of them")
            ok = bool(left)
            clauses.append(Clause(node.text, left, ok))
            return ok
        assert node.right is not None
        right = value(node.right)
        for v in (left, right):
            if isinstance(v, (dict, list)):
                raise QueryError(f"query: {node.text!r}: is a group of fields, compare one of them")
        ok = _compare(node.op, left, right, node.text)
        actual = left if isinstance(node.left, Path) else right
        clauses.append(Clause(node.text, actual, ok))
        return ok

    ok = walk(tree)
    return Outcome(query=query, ok=ok, clauses=tuple(clauses))


def fields_of(tree: Any) -> list[str]:
    """The field paths a query reads (for checks that a metrics file has them all)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, BoolOp):
            for p in node.parts:
                walk(p)
        elif isinstance(node, Not):
            walk(node.inner)
        elif isinstance(node, Compare):
            for side in (node.left, node.right):
                if isinstance(side, Path):
                    out.append(side.name)

    walk(tree)
    return out


def format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else f"{v}"
    return str(v)
