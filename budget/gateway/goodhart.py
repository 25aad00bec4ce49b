"""The textbook's chapter-10 validator format: invariants, ``when_metric`` checks, a drift guard.

::

    invariants:
      - {name: silent_p0_cap, metric: silent_p0, operator: "<=", threshold: 0.05}
    checks:
      - {name: red_button_mttr_blindness, when_metric: mttr_seconds, when_operator: "<",
         when_threshold: 300, assert_invariants: [silent_p0_cap], fail: CI_BLOCK}
      - {name: network_consistency, mode: correlation_guard, drift_metric: edge_drift,
         operator: "<=", threshold: 0.12, fail: CI_BLOCK}

Semantics (the format's own, see docs/model.md): every invariant is evaluated
on every run and a violated one fails the run whether or not a check names it;
a metric the input lacks violates the invariant that reads it. A check whose
condition holds fails with its ``fail`` label when an invariant it names is
violated; otherwise it is idle. ``correlation_guard`` compares the release's
``edge_correlations`` with a baseline's: ``edge_drift`` is the mean over the
union of edge names of ``|new - baseline|`` (an edge in one file only counts
its own ``|value|``), rounded to 4 decimals. With no baseline it is skipped.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from budget.errors import QueryError
from budget.files import Document, count_of
from budget.gateway.verdict import Item

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
TOP_KEYS = {"version", "mttr_seconds_red_button", "invariants", "checks", "name", "description"}
INVARIANT_KEYS = {"name", "metric", "operator", "threshold", "description"}
WHEN_KEYS = {"name", "when_metric", "when_operator", "when_threshold", "assert_invariants", "fail", "description"}
GUARD_KEYS = {"name", "mode", "drift_metric", "operator", "threshold", "fail", "description"}
DRIFT_METRICS = ("edge_drift",)
EDGES = "edge_correlations"
DRIFT_DECIMALS = 4


@dataclass(frozen=True)
class Invariant:
    name: str
    metric: str
    operator: str
    threshold: int | float


@dataclass(frozen=True)
class WhenCheck:
    name: str
    metric: str
    operator: str
    threshold: int | float
    invariants: tuple[str, ...]
    fail: str


@dataclass(frozen=True)
class DriftGuard:
    name: str
    drift_metric: str
    operator: str
    threshold: int | float
    fail: str


@dataclass(frozen=True)
class Rules:
    source: str
    invariants: tuple[Invariant, ...]
    checks: tuple[WhenCheck | DriftGuard, ...]

    @property
    def has_drift_guard(self) -> bool:
        return any(isinstance(c, DriftGuard) for c in self.checks)


def _text(doc: Document, loc: tuple[Any, ...], raw: Any, what: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: must be {what}, got {raw!r}")
    return raw


def _number(doc: Document, loc: tuple[Any, ...], raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: must be a number, got {raw!r}")
    if not math.isfinite(raw):
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: must be a finite number, got {raw!r}")
    return raw  # as written: 300 stays 300, 1.0 stays 1.0


def _operator(doc: Document, loc: tuple[Any, ...], raw: Any) -> str:
    if raw not in OPERATORS:
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: unknown operator {raw!r} (use {' '.join(OPERATORS)})")
    return str(raw)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _keys(doc: Document, loc: tuple[Any, ...], item: dict[str, Any], allowed: set[str]) -> None:
    for key in item:
        if key not in allowed:
            raise QueryError(
                f"{doc.where((*loc, key))}: {_dotted((*loc, key))}: unknown key (expected {', '.join(sorted(allowed))})"
            )


def _invariant(doc: Document, n: int, raw: Any) -> Invariant:
    loc: tuple[Any, ...] = ("invariants", n)
    if not isinstance(raw, dict):
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: must be a mapping with name, metric, operator, threshold")
    _keys(doc, loc, raw, INVARIANT_KEYS)
    for key in ("name", "metric", "operator", "threshold"):
        if key not in raw:
            raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}.{key}: missing")
    return Invariant(
        _text(doc, (*loc, "name"), raw["name"], "a name"),
        _text(doc, (*loc, "metric"), raw["metric"], "a metric name"),
        _operator(doc, (*loc, "operator"), raw["operator"]),
        _number(doc, (*loc, "threshold"), raw["threshold"]),
    )


def _check(doc: Document, n: int, raw: Any, invariants: set[str]) -> WhenCheck | DriftGuard:
    loc: tuple[Any, ...] = ("checks", n)
    if not isinstance(raw, dict):
        raise QueryError(f"{doc.where(loc)}: {_dotted(loc)}: must be a mapping (when_metric ... or mode: ...)")
    name = _text(doc, (*loc, "name"), raw.get("name"), "the check's name")
    fail = _text(doc, (*loc, "fail"), raw.get("fail"), "the label the check fails with (e.g. CI_BLOCK)")
    if "mode" in raw:
        _keys(doc, loc, raw, GUARD_KEYS)
        if raw["mode"] != "correlation_guard":
            raise QueryError(
                f"{doc.where((*loc, 'mode'))}: {name}.mode: unknown mode {raw['mode']!r} (correlation_guard)"
            )
        drift = raw.get("drift_metric")
        if drift not in DRIFT_METRICS:
            raise QueryError(
                f"{doc.where((*loc, 'drift_metric'))}: {name}.drift_metric: {drift!r} is not known (use edge_drift)"
            )
        for key in ("operator", "threshold"):
            if key not in raw:
                raise QueryError(f"{doc.where(loc)}: {name}.{key}: missing")
        return DriftGuard(
            name, str(drift), _operator(doc, (*loc, "operator"), raw["operator"]),
            _number(doc, (*loc, "threshold"), raw["threshold"]), fail,
        )  # fmt: skip
    _keys(doc, loc, raw, WHEN_KEYS)
    for key in ("when_metric", "when_operator", "when_threshold", "assert_invariants"):
        if key not in raw:
            raise QueryError(f"{doc.where(loc)}: {name}.{key}: missing")
    names = raw["assert_invariants"]
    if not isinstance(names, list) or not names:
        raise QueryError(f"{doc.where((*loc, 'assert_invariants'))}: {name}.assert_invariants: must list invariants")
    for i, inv in enumerate(names):
        if inv not in invariants:
            raise QueryError(
                f"{doc.where((*loc, 'assert_invariants', i))}: {name}.assert_invariants[{i}]: unknown invariant "
                f"{inv!r} (invariants: {', '.join(sorted(invariants)) or 'none'})"
            )
    return WhenCheck(
        name,
        _text(doc, (*loc, "when_metric"), raw["when_metric"], "a metric name"),
        _operator(doc, (*loc, "when_operator"), raw["when_operator"]),
        _number(doc, (*loc, "when_threshold"), raw["when_threshold"]),
        tuple(names),
        fail,
    )


def rules_from_document(doc: Document) -> Rules:
    data = doc.data
    if not isinstance(data, dict):
        raise QueryError(f"{doc.name}: must be a mapping with invariants and checks")
    _keys(doc, (), data, TOP_KEYS)
    if "version" in data and data["version"] != 1:
        raise QueryError(f"{doc.where(('version',))}: version: {data['version']!r} is not known (version 1)")
    if "mttr_seconds_red_button" in data:
        _number(doc, ("mttr_seconds_red_button",), data["mttr_seconds_red_button"])
    raw_inv = data.get("invariants", [])
    raw_checks = data.get("checks", [])
    for key, raw in (("invariants", raw_inv), ("checks", raw_checks)):
        if not isinstance(raw, list):
            raise QueryError(f"{doc.where((key,))}: {key}: must be a list")
    if not raw_inv and not raw_checks:
        raise QueryError(f"{doc.name}: has no invariants and no checks; give at least one")
    invariants = [_invariant(doc, n, raw) for n, raw in enumerate(raw_inv)]
    _unique(doc, "invariants", [i.name for i in invariants])
    checks = [_check(doc, n, raw, {i.name for i in invariants}) for n, raw in enumerate(raw_checks)]
    _unique(doc, "checks", [c.name for c in checks])
    return Rules(doc.name, tuple(invariants), tuple(checks))


def _unique(doc: Document, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for n, name in enumerate(names):
        if name in seen:
            raise QueryError(f"{doc.where((key, n, 'name'))}: {key}[{n}].name: {name!r} is used twice")
        seen.add(name)


def _metric(metrics: Mapping[str, Any], name: str, target: str) -> int | float | None:
    """The metric's value; None when the input lacks it; an error when it is not a finite number."""
    if name not in metrics:
        return None
    value = metrics[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{target}: metric {name!r} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise QueryError(f"{target}: metric {name!r} is {value!r}, not a finite number; the gate refuses it")
    return value


def _edges(data: Mapping[str, Any], where: str) -> dict[str, float]:
    raw = data.get(EDGES)
    if not isinstance(raw, dict):
        raise QueryError(f"{where}: {EDGES}: missing or not a mapping of edge name to correlation")
    out = {}
    for edge, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise QueryError(f"{where}: {EDGES}.{edge}: must be a finite number, got {value!r}")
        out[str(edge)] = float(value)
    return out


def edge_drift(new: Mapping[str, float], base: Mapping[str, float]) -> tuple[float, list[dict[str, Any]]]:
    """The mean |new - baseline| over the union of edges (one-sided edges count |value|), 4 decimals."""
    names = sorted(set(new) | set(base))
    if not names:
        raise QueryError(f"{EDGES}: both files are empty: edge_drift over no edges is undefined")
    rows = []
    for name in names:
        a, b = new.get(name), base.get(name)
        delta = abs((a or 0.0) - (b or 0.0))
        rows.append({"edge": name, "new": a, "baseline": b, "delta": round(delta, DRIFT_DECIMALS)})
    drift = math.fsum(abs((new.get(n) or 0.0) - (base.get(n) or 0.0)) for n in names) / len(names)
    return round(drift, DRIFT_DECIMALS), rows


def _fmt(x: float | None) -> str:
    return "missing" if x is None else repr(x)


def evaluate(
    rules: Rules,
    metrics: Mapping[str, Any],
    target: str = "result",
    baseline: Mapping[str, Any] | None = None,
    baseline_name: str = "baseline",
) -> list[Item]:
    """Every invariant, then every check, on one metric set."""
    items: list[Item] = []
    violated: dict[str, bool] = {}
    for inv in rules.invariants:
        actual = _metric(metrics, inv.metric, target)
        holds = actual is not None and OPERATORS[inv.operator](actual, inv.threshold)
        violated[inv.name] = not holds
        cond = f"{inv.metric} {inv.operator} {inv.threshold!r}"
        line = (
            f"{cond}: metric {inv.metric!r} is missing from the input, a violation of this invariant"
            if actual is None
            else f"{cond}  (actual {_fmt(actual)})"
        )
        items.append(
            Item(
                "invariant", inv.name, target, "ok" if holds else "VIOLATED", not holds, None, [line],
                {"metric": inv.metric, "operator": inv.operator, "threshold": inv.threshold, "actual": actual,
                 "missing": actual is None, "holds": holds},
            )
        )  # fmt: skip
    for check in rules.checks:
        if isinstance(check, WhenCheck):
            items.append(_when(check, metrics, target, violated))
        else:
            items.append(_guard(check, metrics, target, baseline, baseline_name))
    return items


def _when(check: WhenCheck, metrics: Mapping[str, Any], target: str, violated: dict[str, bool]) -> Item:
    actual = _metric(metrics, check.metric, target)
    if actual is None:
        raise QueryError(
            f"{target}: metric {check.metric!r} (when_metric of check {check.name}) is not in the input: "
            "the check cannot tell whether it applies"
        )
    active = OPERATORS[check.operator](actual, check.threshold)
    bad = [n for n in check.invariants if violated[n]]
    failed = active and bool(bad)
    cond = f"when {check.metric} {check.operator} {check.threshold!r} (actual {_fmt(actual)})"
    if not active:
        state, line = "idle", f"{cond}: false, the check does not apply"
    elif bad:
        state, line = "FAIL", f"{cond}: true; violated: {', '.join(bad)}"
    else:
        state, line = "pass", f"{cond}: true; {', '.join(check.invariants)} hold"
    data = {
        "mode": "when_metric",
        "when": {"metric": check.metric, "operator": check.operator, "threshold": check.threshold, "actual": actual,
                 "holds": active},
        "assert_invariants": list(check.invariants),
        "violated": bad if active else [],
    }  # fmt: skip
    return Item("check", check.name, target, state, failed, check.fail, [line], data)


def _guard(
    check: DriftGuard, metrics: Mapping[str, Any], target: str, baseline: Mapping[str, Any] | None, base_name: str
) -> Item:
    base = {"mode": "correlation_guard", "drift_metric": check.drift_metric, "operator": check.operator,
            "threshold": check.threshold}  # fmt: skip
    if baseline is None:
        why = f"correlation_guard on {check.drift_metric} needs a baseline (--baseline FILE); not evaluated"
        return Item("check", check.name, target, "skipped", False, check.fail, [why], {**base, "edge_drift": None})
    drift, rows = edge_drift(_edges(metrics, target), _edges(baseline, base_name))
    holds = OPERATORS[check.operator](drift, check.threshold)
    lines = [
        f"{check.drift_metric} {drift!r} {check.operator} {check.threshold!r}: {'holds' if holds else 'does not hold'}"
        f" ({count_of(len(rows), 'edge')} against {base_name})"
    ]
    for r in rows:
        lines.append(f"  {r['edge']}: {_fmt(r['new'])} vs {_fmt(r['baseline'])}, |delta| {r['delta']!r}")
    data = {**base, "edge_drift": drift, "edges": rows}
    return Item("check", check.name, target, "pass" if holds else "FAIL", not holds, check.fail, lines, data)
