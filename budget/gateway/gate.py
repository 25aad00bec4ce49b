"""The anti-Goodhart budget gateway: the chapter's check format, evaluated on our own metrics.

A validation file holds ``checks``; each has an ``id``, an ``if`` with ``all`` or
``any`` conditions, and a ``then`` with ``fail_if`` and/or ``require``
conditions. Conditions use the inspect query grammar (``mttr_p95 < "5m"``,
``red_button_review == true``). A check that is activated fails when any
``fail_if`` condition holds or any ``require`` condition does not.

The metrics may be a simulate result, a drill result (every outage is checked
on its own) or a plain JSON object of metrics. The gate fails closed: a metric
that a check names but the input lacks, a metric that is NaN or infinite, and a
drill result without outage runs are errors, never a pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.errors import BudgetError, QueryError
from budget.files import Document, load_document, parse_text
from budget.gateway.query import Clause, evaluate, fields_of, parse, resolve
from budget.gateway.units import seconds_with_unit
from budget.gateway.verdict import Item

ALLOWED_CHECK_KEYS = {"id", "if", "then", "description"}


@dataclass(frozen=True)
class Check:
    id: str
    mode: str  # all | any
    conditions: tuple[str, ...]
    fail_if: tuple[str, ...]
    require: tuple[str, ...]


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    activated: bool
    when: tuple[Clause, ...]
    fail_if: tuple[Clause, ...]
    require: tuple[Clause, ...]

    @property
    def failed(self) -> bool:
        return self.activated and (any(c.ok for c in self.fail_if) or not all(c.ok for c in self.require))


@dataclass(frozen=True)
class GateReport:
    target: str  # which metrics: "result" or "outage 15m"
    outcomes: tuple[CheckOutcome, ...]

    @property
    def failed(self) -> list[str]:
        return [o.check.id for o in self.outcomes if o.failed]


def _conditions(doc: Document, loc: tuple[Any, ...], raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise QueryError(f"{doc.where(loc)}: {'.'.join(map(str, loc))}: must be a non-empty list of conditions")
    out = []
    for i, cond in enumerate(raw):
        if not isinstance(cond, str):
            raise QueryError(f"{doc.where((*loc, i))}: {'.'.join(map(str, loc))}[{i}]: must be a condition string")
        try:
            parse(cond)
        except QueryError as exc:
            msg = str(exc).removeprefix("query: ")
            raise QueryError(f"{doc.where((*loc, i))}: {'.'.join(map(str, loc))}[{i}] {cond!r}: {msg}") from None
        out.append(cond)
    return tuple(out)


def checks_from_document(doc: Document) -> list[Check]:
    data = doc.data
    if not isinstance(data, dict) or "checks" not in data:
        raise QueryError(f"{doc.name}: must be a mapping with a checks list")
    raw = data["checks"]
    if not isinstance(raw, list) or not raw:
        raise QueryError(f"{doc.where(('checks',))}: checks: is empty; give at least one check")
    checks = []
    seen: set[str] = set()
    for n, item in enumerate(raw):
        loc: tuple[Any, ...] = ("checks", n)
        if not isinstance(item, dict):
            raise QueryError(f"{doc.where(loc)}: checks[{n}]: must be a mapping with id, if, then")
        extra = set(item) - ALLOWED_CHECK_KEYS
        if extra:
            raise QueryError(f"{doc.where((*loc, sorted(extra)[0]))}: checks[{n}].{sorted(extra)[0]}: unknown key")
        cid = item.get("id")
        if not isinstance(cid, str) or not cid:
            raise QueryError(f"{doc.where(loc)}: checks[{n}].id: missing")
        if cid in seen:
            raise QueryError(f"{doc.where((*loc, 'id'))}: checks[{n}].id: {cid!r} is used twice")
        seen.add(cid)
        cond = item.get("if")
        if not isinstance(cond, dict) or len(cond) != 1 or next(iter(cond)) not in ("all", "any"):
            raise QueryError(f"{doc.where((*loc, 'if'))}: {cid}.if: must hold exactly one of all: or any:")
        mode = next(iter(cond))
        conditions = _conditions(doc, (*loc, "if", mode), cond[mode])
        then = item.get("then")
        if not isinstance(then, dict) or not set(then) & {"fail_if", "require"}:
            raise QueryError(f"{doc.where((*loc, 'then'))}: {cid}.then: needs fail_if and/or require")
        unknown = set(then) - {"fail_if", "require"}
        if unknown:
            raise QueryError(f"{doc.where((*loc, 'then'))}: {cid}.then.{sorted(unknown)[0]}: unknown key")
        fail_if = _conditions(doc, (*loc, "then", "fail_if"), then["fail_if"]) if "fail_if" in then else ()
        require = _conditions(doc, (*loc, "then", "require"), then["require"]) if "require" in then else ()
        checks.append(Check(cid, mode, conditions, fail_if, require))
    return checks


def load_checks(path: str | Path) -> list[Check]:
    try:
        return checks_from_document(load_document(path))
    except BudgetError as exc:
        if isinstance(exc, QueryError):
            raise
        raise QueryError(str(exc)) from None


def checks_from_text(text: str, name: str = "<validation>") -> list[Check]:
    try:
        return checks_from_document(parse_text(text, name))
    except BudgetError as exc:
        if isinstance(exc, QueryError):
            raise
        raise QueryError(str(exc)) from None


def _one(cond: str, metrics: dict[str, Any], where: str) -> Clause:
    for name in fields_of(parse(cond)):
        try:
            value = resolve(metrics, name)
        except QueryError:
            raise QueryError(f"{where}: metric {name!r} in {cond!r} is not in the input") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise QueryError(f"{where}: metric {name!r} in {cond!r} is {value!r}, not a finite number")
    out = evaluate(cond, metrics)
    c = out.clauses[-1] if out.clauses else Clause(cond, None, out.ok)
    return Clause(cond, c.actual, out.ok)


def evaluate_checks(checks: list[Check], metrics: dict[str, Any], target: str = "result") -> GateReport:
    outcomes = []
    for ch in checks:
        when = tuple(_one(c, metrics, target) for c in ch.conditions)
        activated = all(c.ok for c in when) if ch.mode == "all" else any(c.ok for c in when)
        fail_if = tuple(_one(c, metrics, target) for c in ch.fail_if)
        require = tuple(_one(c, metrics, target) for c in ch.require)
        outcomes.append(CheckOutcome(ch, activated, when, fail_if, require))
    return GateReport(target, tuple(outcomes))


def metric_sets(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A drill result gives one metric set per outage (over several days: per day and outage); anything else is
    one set.

    A drill result with no outage run has nothing to check: an error, never a pass.
    """
    days = data.get("days")
    if isinstance(days, list) and days and all(isinstance(d, dict) for d in days):
        return [(f"{_day(d)} {target}".strip(), m) for d in days for target, m in metric_sets(d)]
    if isinstance(data.get("runs"), list) and isinstance(data.get("outages"), dict):
        sets = [(f"outage {r['outage_min']}m", r) for r in data["runs"] if isinstance(r, dict) and r.get("outage_min")]
        if not sets:
            raise QueryError("the drill result has no outage runs (only the baseline): nothing to check")
        return sets
    return [("result", data)]


def _day(drill: dict[str, Any]) -> str:
    alerts = drill.get("alerts")
    return str(alerts.get("day", "")) if isinstance(alerts, dict) else ""


def validate(checks: list[Check], data: dict[str, Any]) -> list[GateReport]:
    return [evaluate_checks(checks, m, target) for target, m in metric_sets(data)]


def _clauses(clauses: tuple[Clause, ...]) -> list[dict[str, Any]]:
    return [{"condition": c.text, "actual": c.actual, "holds": c.ok} for c in clauses]


def items(reports: list[GateReport]) -> list[Item]:
    """The reports as the verdict's items (one per check and target)."""
    out = []
    for rep in reports:
        for o in rep.outcomes:
            state = "FAIL" if o.failed else ("pass" if o.activated else "not activated")
            data = {
                "mode": o.check.mode,
                "activated": o.activated,
                "if": _clauses(o.when),
                "fail_if": _clauses(o.fail_if),
                "require": _clauses(o.require),
            }
            out.append(Item("check", o.check.id, rep.target, state, o.failed, None, _detail(o), data))
    return out


def _detail(o: CheckOutcome) -> list[str]:
    lines = []
    for c in o.when:
        lines.append(f"if   {'true ' if c.ok else 'false'}  {c.text}  (actual {seconds_with_unit(c.text, c.actual)})")
    idle = "; not applied: the check is not activated"  # a condition that would fail it, were it active
    for c in o.fail_if:
        mark = "FAIL" if (c.ok and o.activated) else ("true" if c.ok else "ok  ")
        why = idle if c.ok and not o.activated else ""
        lines.append(f"fail_if {mark}  {c.text}  (actual {seconds_with_unit(c.text, c.actual)}{why})")
    for c in o.require:
        mark = "ok  " if c.ok else ("FAIL" if o.activated else "miss")
        why = idle if not c.ok and not o.activated else ""
        lines.append(f"require {mark}  {c.text}  (actual {seconds_with_unit(c.text, c.actual)}{why})")
    return lines
