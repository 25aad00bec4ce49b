"""A spec's ``phases:`` table: its tiers (declared, or named by the first phase), each phase's quotas and sla_p95.

A key under a phase is one of a phase's fields (``sla_p95``) or one of the plan's tiers; anything else is
refused as an unknown field or tier, naming both lists. ``control_reserve`` is a row of tier quotas only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from budget.errors import BudgetError
from budget.files import MAX_PHASES, MAX_TIERS, Document, dotted, name_problem, short_repr
from budget.model.units import format_duration, parse_duration

RESERVE = "control_reserve"
SLA_KEY = "sla_p95"


class Phase(BaseModel):
    """One row of the spec: a quota per tier and the phase's sla_p95."""

    model_config = ConfigDict(frozen=True)

    quotas: dict[str, int]
    sla_p95: str | None = None

    @property
    def sla_seconds(self) -> float | None:
        return None if self.sla_p95 is None else parse_duration(self.sla_p95)


def _int_quota(doc: Document, loc: tuple[Any, ...], value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(loc, f"must be a non-negative integer number of tokens, got {value!r}")
    if value < 0:
        raise doc.error(loc, f"must be a non-negative integer, got {value}")
    return value


def _sla_text(doc: Document, loc: tuple[Any, ...], value: object) -> str | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value, dotted(loc))
    except BudgetError as exc:
        raise doc.error(loc, str(exc).split(": ", 1)[1]) from None
    if seconds <= 0:
        raise doc.error(loc, f"must be a positive duration, got {value!r}")
    if isinstance(value, str):
        return value.strip()
    return format_duration(seconds)


def _check_name(doc: Document, loc: tuple[Any, ...], name: str) -> None:
    """A tier or phase name travels into configs, diagrams and notes: one line of visible text."""
    problem = name_problem(name)
    if problem:
        raise doc.error(loc, f"the name {short_repr(name)} {problem}")


def declared_tiers(doc: Document, declared: object) -> list[str]:
    """The optional ``tiers:`` list, cheapest first (empty when the spec leaves it out)."""
    if declared is None:
        return []
    if not isinstance(declared, list) or not all(isinstance(t, str) and t for t in declared):
        raise doc.error(("tiers",), "must be a list of tier names, cheapest first")
    for i, tier in enumerate(declared):
        _check_name(doc, ("tiers", i), tier)
    if len(set(declared)) != len(declared):
        raise doc.error(("tiers",), "names a tier twice")
    return list(declared)


def _first_row_tiers(phases_raw: dict[Any, Any]) -> list[str]:
    """The tiers of a spec without a ``tiers:`` list: the keys of its first phase, in their order.

    A key of the first phase that holds text (not a number) is a tier only when another phase gives it a
    number (``local-coder: lots`` or ``local-coder: 30s`` by mistake: its value is then what is refused),
    or, holding no duration, when another phase names it at all. Otherwise (``sla_p59: 30s``, in one
    phase or in all) it is a misspelt field: left out, and reported as unknown, with the field it is
    closest to.
    """
    rows = list(phases_raw.values())
    if not rows or not isinstance(rows[0], dict):
        return []
    others = [row for row in rows[1:] if isinstance(row, dict)]
    named = {key for row in others for key in row}
    counted = {key for row in others for key, value in row.items() if not _is_words(value)}
    return [
        key
        for key, value in rows[0].items()
        if isinstance(key, str)
        and key != SLA_KEY
        and (not _is_words(value) or key in counted or (key in named and not _is_duration(value)))
    ]


def _is_duration(value: object) -> bool:
    """Text with a unit that reads as a duration (``30s``, ``10m``): an sla_p95, never a quota."""
    if not _is_words(value):
        return False
    try:
        parse_duration(value)
    except BudgetError:
        return False
    return True


def _is_words(value: object) -> bool:
    """Text that is not a number (``30s``, ``lots``): no tier's quota, quoted or not, looks like it."""
    if not isinstance(value, str):
        return False
    try:
        float(value.replace("_", "").replace(",", ""))
    except ValueError:
        return True
    return False


def _unknown_key(phase: str, key: str, tiers: list[str], declared: bool) -> str:
    """Why a key under a phase is refused: neither one of a phase's fields nor one of the plan's tiers."""
    source = "as its tiers: list declares them" if declared else "as its first phase names them"
    listed = f"the plan's tiers, {source}: {', '.join(tiers) or 'none'}"
    if phase == RESERVE:
        return f"unknown tier ({RESERVE} holds only tier quotas; {listed})"
    return f"unknown field or tier{_did_you_mean(key, [SLA_KEY, *tiers])} (a phase's fields: {SLA_KEY}; {listed})"


def _did_you_mean(key: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
    return f", did you mean {close[0]}?" if close else ""


def read_phases(
    doc: Document, phases_raw: dict[Any, Any], tiers: list[str], declared: bool
) -> tuple[dict[str, Phase], dict[str, int]]:
    """The phases and the reserve; ``tiers`` grows in the order the first phase names them (unless declared)."""
    phases: dict[str, Phase] = {}
    reserve: dict[str, int] = {}
    if not declared:
        tiers.extend(_first_row_tiers(phases_raw))
    for name, row in phases_raw.items():
        loc = ("phases", name)
        if not isinstance(name, str):
            raise doc.error(loc, "phase names must be text")
        _check_name(doc, loc, name)
        if not isinstance(row, dict):
            raise doc.error(loc, "must be a mapping of tier to quota (and sla_p95)")
        quotas: dict[str, int] = {}
        for key, value in row.items():
            kloc = (*loc, key)
            if key == SLA_KEY:
                continue
            if not isinstance(key, str):
                raise doc.error(kloc, "tier names must be text")
            _check_name(doc, kloc, key)
            if key not in tiers:
                raise doc.error(kloc, _unknown_key(name, key, tiers, declared))
            quotas[key] = _int_quota(doc, kloc, value)
        if name == RESERVE:
            if row.get(SLA_KEY) is not None:
                raise doc.error((*loc, SLA_KEY), "control_reserve is not a phase and has no sla_p95")
            reserve = quotas
            continue
        if not quotas:
            raise doc.error(loc, "names no tier quota")
        sla = _sla_text(doc, (*loc, SLA_KEY), row.get(SLA_KEY))
        phases[name] = Phase(quotas=quotas, sla_p95=sla)
    if not phases:
        raise doc.error(("phases",), "has no phase besides control_reserve")
    if len(phases) > MAX_PHASES or len(tiers) > MAX_TIERS:
        raise doc.error(
            ("phases",), f"has {len(phases)} phases and {len(tiers)} tiers (limits: {MAX_PHASES} and {MAX_TIERS})"
        )
    if not tiers:
        raise doc.error(("phases",), "names no tier")
    return phases, reserve
