"""The Spec editor's table: spec text <-> a phases x tiers table, the rule of every cell and row.

The table is what the learner edits; the text is what every page reads. Both
stay whole whatever the state of the spec: a quota sum that misses the daily
budget, an empty cell or a negative quota is a marked cell or row, never a
reason to lose the table. Editing the table rewrites the YAML (the header
comment block is kept, other comments are dropped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from budget.errors import BudgetError
from budget.files import parse_yaml_text
from budget.model import RESERVE, SLA_KEY, parse_duration, parse_split

ROW_TOTAL = "row total"
CHECK = "check"
PHASE = "phase"


@dataclass(frozen=True)
class Row:
    """One row of the table: a phase (or control_reserve), its quota per tier, its sla_p95."""

    phase: str
    quotas: dict[str, Any]
    sla: Any = None

    @property
    def is_reserve(self) -> bool:
        return self.phase == RESERVE


@dataclass(frozen=True)
class QuotaTable:
    """A spec as a table. ``doc`` keeps the other top-level fields (policy, split...) in their order."""

    daily: Any
    tiers: tuple[str, ...]
    rows: tuple[Row, ...]
    doc: dict[str, Any] = field(default_factory=dict)
    header: str = ""

    def names(self) -> list[str]:
        return [r.phase for r in self.rows]


@dataclass(frozen=True)
class ShareRow:
    tier: str
    tokens: int
    share_pct: float
    target_pct: float | None
    ok: bool | None


@dataclass(frozen=True)
class TableCheck:
    """Every rule of the table, evaluated: per cell, per row, per tier and for the whole day."""

    cell_issues: dict[tuple[int, str], str]
    row_issues: dict[int, list[str]]
    row_totals: list[int]
    tier_totals: dict[str, int]
    quota_sum: int
    daily: int | None
    problems: list[str]
    shares: list[ShareRow]
    split_error: str | None = None

    @property
    def difference(self) -> int | None:
        return None if self.daily is None else self.quota_sum - self.daily

    @property
    def ok(self) -> bool:
        return not self.problems and not self.row_issues and not self.cell_issues

    def row_note(self, index: int) -> str:
        issues = self.row_issues.get(index, [])
        return "ok" if not issues else "⚠ " + "; ".join(issues)


def _header(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n\n" if lines else ""


def table_from_text(text: str, name: str = "spec") -> QuotaTable:
    """The table of a spec's text, valid or not; only text that is not a YAML mapping is refused."""
    data = parse_yaml_text(text, name).data
    if not isinstance(data, dict):
        raise BudgetError(f"{name}: must be a mapping with daily_budget_tokens and phases, got {type(data).__name__}")
    phases = data.get("phases")
    phases = phases if isinstance(phases, dict) else {}
    declared = data.get("tiers")
    tiers: list[str] = [str(t) for t in declared] if isinstance(declared, list) else []
    for row in phases.values():
        if isinstance(row, dict):
            for key in row:
                if key != SLA_KEY and str(key) not in tiers:
                    tiers.append(str(key))
    rows = []
    for phase, raw in phases.items():
        raw = raw if isinstance(raw, dict) else {}
        quotas = {t: raw.get(t) for t in tiers}
        rows.append(Row(str(phase), quotas, raw.get(SLA_KEY)))
    return QuotaTable(data.get("daily_budget_tokens"), tuple(tiers), tuple(rows), dict(data), _header(text))


def table_to_text(table: QuotaTable) -> str:
    """YAML for the table, with the other top-level fields kept in their place."""
    phases: dict[str, Any] = {}
    for r in table.rows:
        entry: dict[str, Any] = {t: _plain(r.quotas.get(t)) for t in table.tiers}
        if not r.is_reserve and r.sla not in (None, ""):
            entry[SLA_KEY] = r.sla
        phases[r.phase] = entry
    doc: dict[str, Any] = {}
    source = table.doc or {"daily_budget_tokens": None, "phases": None}
    for key, value in source.items():
        if key == "daily_budget_tokens":
            doc[key] = _plain(table.daily)
        elif key == "phases":
            doc[key] = phases
        elif key == "tiers":
            doc[key] = list(table.tiers)
        else:
            doc[key] = value
    doc.setdefault("daily_budget_tokens", _plain(table.daily))
    doc.setdefault("phases", phases)
    return table.header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    """Whole floats (what a table cell holds) back to ints; NaN (a cleared cell) to None."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return int(value)
    return value


def quota_value(value: Any) -> tuple[int | None, str | None]:
    """(tokens, None) for a valid quota cell, (None, why) otherwise."""
    value = _plain(value)
    if value is None or value == "":
        return None, "empty (enter 0 for no quota)"
    if isinstance(value, bool) or not isinstance(value, int):
        return None, f"{value!r} is not a whole number of tokens"
    if value < 0:
        return None, f"{value:,} is negative"
    return value, None


def _sla_issue(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        seconds = parse_duration(value, SLA_KEY)
    except BudgetError:
        return f"sla_p95 {value!r} is not a duration like 30s, 10m or 2h"
    return None if seconds > 0 else "sla_p95 must be positive"


def check_table(table: QuotaTable, split: str | None = None, tolerance_pct: float = 1.0) -> TableCheck:
    """Evaluate every rule: cells, rows, the sum against the daily budget, the shares against the split."""
    cells: dict[tuple[int, str], str] = {}
    rows: dict[int, list[str]] = {}
    row_totals: list[int] = []
    tier_totals = dict.fromkeys(table.tiers, 0)
    seen: set[str] = set()
    for i, r in enumerate(table.rows):
        issues: list[str] = []
        if not r.phase.strip():
            issues.append("the phase needs a name")
        elif r.phase in seen:
            issues.append(f"{r.phase!r} appears twice")
        seen.add(r.phase)
        total = 0
        for t in table.tiers:
            tokens, why = quota_value(r.quotas.get(t))
            if why:
                cells[(i, t)] = why
                issues.append(f"{t}: {why}")
            else:
                total += tokens or 0
                tier_totals[t] += tokens or 0
        if not r.is_reserve:
            sla = _sla_issue(r.sla)
            if sla:
                issues.append(sla)
        if issues:
            rows[i] = issues
        row_totals.append(total)
    quota_sum = sum(tier_totals.values())
    problems: list[str] = []
    daily, why = quota_value(table.daily)
    if daily is None or daily == 0:
        problems.append(f"daily_budget_tokens: {why or 'must be positive'}")
        daily = None
    elif quota_sum != daily:
        problems.append(
            f"quota sum {quota_sum:,} does not equal daily_budget_tokens {daily:,} "
            f"(difference {quota_sum - daily:+,} tokens)"
        )
    if not [r for r in table.rows if not r.is_reserve]:
        problems.append("the spec needs at least one phase besides control_reserve")
    if not table.tiers:
        problems.append("the spec needs at least one tier")
    shares, split_error = _shares(table.tiers, tier_totals, quota_sum, split, tolerance_pct)
    return TableCheck(cells, rows, row_totals, tier_totals, quota_sum, daily, problems, shares, split_error)


def _shares(
    tiers: tuple[str, ...], totals: dict[str, int], quota_sum: int, split: str | None, tolerance_pct: float
) -> tuple[list[ShareRow], str | None]:
    """Each tier's (or tier group's) share of the quotas, against the target split when one is given."""
    target: dict[str, float] | None = None
    error = None
    if split and split.strip() and tiers:
        try:
            target = parse_split(split, tiers, tolerance_pct).target
        except BudgetError as exc:
            error = str(exc)
    groups = list(target) if target else list(tiers)
    out = []
    for key in groups:
        tokens = sum(totals.get(m, 0) for m in key.split("+"))
        pct = 100.0 * tokens / quota_sum if quota_sum else 0.0
        goal = target[key] if target else None
        ok = None if goal is None else abs(pct - goal) <= tolerance_pct + 1e-9
        out.append(ShareRow(key, tokens, pct, goal, ok))
    return out, error


def editor_rows(table: QuotaTable, check: TableCheck) -> list[dict[str, Any]]:
    """Rows for the data editor: phase, one column per tier, sla_p95, the row total and its check."""
    out = []
    for i, r in enumerate(table.rows):
        row: dict[str, Any] = {PHASE: r.phase}
        for t in table.tiers:
            value = _plain(r.quotas.get(t))
            row[t] = float(value) if isinstance(value, int) and not isinstance(value, bool) else None
        row[SLA_KEY] = "" if r.sla is None else str(r.sla)
        row[ROW_TOTAL] = check.row_totals[i]
        row[CHECK] = check.row_note(i)
        out.append(row)
    return out


def _unique(name: str, taken: list[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def apply_edits(table: QuotaTable, edits: dict[str, Any]) -> tuple[QuotaTable, list[str]]:
    """Apply a data editor's changes (edited_rows, added_rows, deleted_rows); returns the notes of refused edits."""
    notes: list[str] = []
    rows = list(table.rows)
    for key, change in sorted((edits.get("edited_rows") or {}).items(), key=lambda kv: int(kv[0])):
        i = int(key)
        if not 0 <= i < len(rows):
            continue
        r = rows[i]
        quotas = dict(r.quotas)
        name, sla = r.phase, r.sla
        for col, value in change.items():
            if col in table.tiers:
                quotas[col] = _plain(value)
            elif col == SLA_KEY:
                sla = (str(value).strip() or None) if value is not None else None
            elif col == PHASE:
                new = str(value or "").strip()
                others = [x.phase for j, x in enumerate(rows) if j != i]
                if not new:
                    notes.append(f"{r.phase}: a phase needs a name (delete the row to remove it)")
                elif new in others:
                    notes.append(f"{r.phase}: cannot rename to {new!r}, that phase exists")
                else:
                    name = new
        rows[i] = Row(name, quotas, sla)
    deleted = {int(i) for i in edits.get("deleted_rows") or []}
    rows = [r for i, r in enumerate(rows) if i not in deleted]
    for added in edits.get("added_rows") or []:
        name = str(added.get(PHASE) or "").strip() or "new_phase"
        name = _unique(name, [r.phase for r in rows])
        quotas = {t: _plain(added.get(t, 0)) if added.get(t) is not None else 0 for t in table.tiers}
        rows = _insert_phase(rows, Row(name, quotas, added.get(SLA_KEY) or None))
    return replace(table, rows=tuple(rows)), notes


def _insert_phase(rows: list[Row], row: Row) -> list[Row]:
    """A new phase goes before control_reserve (the reserve stays last)."""
    at = next((i for i, r in enumerate(rows) if r.is_reserve), len(rows))
    return [*rows[:at], row, *rows[at:]]


def _name(value: str, what: str) -> str:
    name = value.strip()
    if not name:
        raise BudgetError(f"{what}: give a name")
    if name in (RESERVE, SLA_KEY) or any(c in name for c in ":#{}[],&*?|<>=!%@`'\""):
        raise BudgetError(f"{what} {name!r}: use letters, digits, - and _ (not {RESERVE} or {SLA_KEY})")
    return name


def add_phase(table: QuotaTable, name: str, sla: str | None = None) -> QuotaTable:
    name = _name(name, "phase")
    if name in table.names():
        raise BudgetError(f"phase {name!r} exists")
    row = Row(name, dict.fromkeys(table.tiers, 0), sla or None)
    return replace(table, rows=tuple(_insert_phase(list(table.rows), row)))


def rename_phase(table: QuotaTable, old: str, new: str) -> QuotaTable:
    new = _name(new, "phase")
    if old not in table.names():
        raise BudgetError(f"phase {old!r} is not in the table")
    if new in table.names():
        raise BudgetError(f"phase {new!r} exists")
    rows = tuple(replace(r, phase=new) if r.phase == old else r for r in table.rows)
    doc = _rename_keys(table.doc, ("policy", "phase_shares"), old, new)
    return replace(table, rows=rows, doc=doc)


def delete_phase(table: QuotaTable, name: str) -> QuotaTable:
    if name not in table.names():
        raise BudgetError(f"phase {name!r} is not in the table")
    doc = _rename_keys(table.doc, ("policy", "phase_shares"), name, None)
    return replace(table, rows=tuple(r for r in table.rows if r.phase != name), doc=doc)


def add_tier(table: QuotaTable, name: str, position: int | None = None) -> QuotaTable:
    """A new tier with 0 everywhere; by default before the most expensive tier (tiers go cheapest first)."""
    name = _name(name, "tier")
    if name in table.tiers:
        raise BudgetError(f"tier {name!r} exists")
    at = max(len(table.tiers) - 1, 0) if position is None else position
    tiers = (*table.tiers[:at], name, *table.tiers[at:])
    rows = tuple(replace(r, quotas={t: r.quotas.get(t, 0) for t in tiers}) for r in table.rows)
    return replace(table, tiers=tiers, rows=rows, doc=_with_tiers(table.doc, len(tiers)))


def rename_tier(table: QuotaTable, old: str, new: str) -> QuotaTable:
    new = _name(new, "tier")
    if old not in table.tiers:
        raise BudgetError(f"tier {old!r} is not in the table")
    if new in table.tiers:
        raise BudgetError(f"tier {new!r} exists")
    tiers = tuple(new if t == old else t for t in table.tiers)
    rows = tuple(replace(r, quotas={new if t == old else t: v for t, v in r.quotas.items()}) for r in table.rows)
    doc = table.doc
    for block in ("capacity_tpm", "token_price_per_million"):
        doc = _rename_keys(doc, ("policy", block), old, new)
    return replace(table, tiers=tiers, rows=rows, doc=doc)


def delete_tier(table: QuotaTable, name: str) -> QuotaTable:
    if name not in table.tiers:
        raise BudgetError(f"tier {name!r} is not in the table")
    if len(table.tiers) == 1:
        raise BudgetError("the spec needs at least one tier")
    tiers = tuple(t for t in table.tiers if t != name)
    rows = tuple(replace(r, quotas={t: v for t, v in r.quotas.items() if t != name}) for r in table.rows)
    doc = table.doc
    for block in ("capacity_tpm", "token_price_per_million"):
        doc = _rename_keys(doc, ("policy", block), name, None)
    return replace(table, tiers=tiers, rows=rows, doc=_with_tiers(doc, len(tiers)))


def _with_tiers(doc: dict[str, Any], count: int) -> dict[str, Any]:
    """Three tiers or more need the ``tiers:`` list (cost order); a split string must match the new count."""
    out = dict(doc)
    if count > 2 and "tiers" not in out:
        out = {"daily_budget_tokens": out.pop("daily_budget_tokens", None), "tiers": [], **out}
    return out


def _rename_keys(doc: dict[str, Any], path: tuple[str, str], old: str, new: str | None) -> dict[str, Any]:
    outer, inner = path
    block = doc.get(outer)
    if not isinstance(block, dict) or not isinstance(block.get(inner), dict) or old not in block[inner]:
        return doc
    mapping = {(new if k == old else k): v for k, v in block[inner].items() if not (k == old and new is None)}
    return {**doc, outer: {**block, inner: mapping}}


def set_daily(table: QuotaTable, daily: int) -> QuotaTable:
    return replace(table, daily=int(daily))


def daily_to_sum(table: QuotaTable) -> QuotaTable:
    """daily_budget_tokens set to the sum of the valid quotas."""
    return set_daily(table, check_table(table).quota_sum)
