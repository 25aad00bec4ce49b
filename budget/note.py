"""The capstone budget note: one section per case in ``capstone/budget-note.md``.

Each section records risk, effect, simulated_floor, alert_threshold and
decision, as the chapter's minimal fragment does. The simulated floor is the
observed minimum of a run; the alert threshold is the production guard and
must sit above the floor, leaving a warning zone between the two. Writing
keeps every other case as it was, asks (``replace=True``) before replacing a
case, and is atomic.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from budget.errors import BudgetError
from budget.fsutil import atomic_write_text
from budget.keeper import manual_key

NOTE_TITLE = "# Budget note"
NOTE_INTRO = (
    "Risks of the tiered routing budget, one section per case: what fails, what the\n"
    "simulation showed, the guard that watches it in production, and the decision.\n"
)
DEFAULT_DECISION = "do not transfer entire queue to expensive tier"
_CASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_HEADING = re.compile(r"^## (.+?)\s*$")


class NoteEntry(BaseModel):
    """One case of the note."""

    model_config = ConfigDict(frozen=True)

    case: str
    risk: str = Field(min_length=1)
    effect: str = Field(min_length=1)
    simulated_floor: float = Field(ge=0, le=1)
    alert_threshold: float = Field(ge=0, le=1)
    decision: str = Field(min_length=1)
    duration_min: int | None = None
    source: str | None = None

    @field_validator("case")
    @classmethod
    def _case(cls, v: str) -> str:
        if not _CASE.match(v):
            raise ValueError(f"case name {v!r}: use letters, digits, _ . - (like high_memory_usage), at most 80")
        return v

    @field_validator("risk", "effect", "decision")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be empty")
        if "\n" in v or '"' in v:
            raise ValueError("must be one line without double quotes")
        return v

    @model_validator(mode="after")
    def _threshold_above_floor(self) -> NoteEntry:
        if self.alert_threshold <= self.simulated_floor:
            raise ValueError(
                f"alert_threshold {self.alert_threshold:.2f} must be above simulated_floor "
                f"{self.simulated_floor:.2f}: a guard at or below the observed floor never warns "
                "before the floor is reached, so there is no warning zone"
            )
        return self

    @property
    def warning_zone(self) -> tuple[float, float]:
        return (self.simulated_floor, self.alert_threshold)


def entry_from_result(
    result: dict[str, Any],
    case: str,
    risk: str | None = None,
    effect: str | None = None,
    alert_threshold: float | None = None,
    decision: str | None = None,
    source: str | None = None,
) -> NoteEntry:
    """Prefill a note entry from a simulate result (effect and floor come from the run)."""
    try:
        floor = float(result["token_health_min"])
        tier = result.get("down_tier")
        duration = result.get("duration_min")
        failover = result["failover_to_frontier"]
        degraded = result["degraded_queue"]
    except (KeyError, TypeError, ValueError):
        raise BudgetError(
            "result: not a simulate result (needs token_health_min, failover_to_frontier, degraded_queue)"
        ) from None
    target = result.get("failover_tier", "frontier-reviewer")
    manual = result.get(manual_key(result.get("manual_timeout_sec", 120)), result.get("manual_queue", 0))
    default_risk = f"{tier} unavailable {duration}m" if tier else "no outage"
    default_effect = f"{failover} tasks go to {target}, {degraded} remain degraded/manual"
    if manual != degraded:
        default_effect += f" ({manual} reached the manual channel)"
    threshold = result.get("alert_threshold", 0.60) if alert_threshold is None else alert_threshold
    try:
        return NoteEntry(
            case=case,
            risk=risk if risk else default_risk,
            effect=effect if effect else default_effect,
            simulated_floor=round(floor, 4),
            alert_threshold=float(threshold),
            decision=decision if decision else DEFAULT_DECISION,
            duration_min=duration,
            source=source,
        )
    except Exception as exc:  # pydantic ValidationError -> one line
        errors = getattr(exc, "errors", None)
        if errors:
            err = errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "entry"
            raise BudgetError(f"note: {field}: {err['msg'].removeprefix('Value error, ')}") from None
        raise


def render_section(e: NoteEntry) -> str:
    at = f" (drop at {e.duration_min}m)" if e.duration_min else ""
    lines = [
        f"## {e.case}",
        "",
        "```yaml",
        f'risk: "{e.risk}"',
        f'effect: "{e.effect}"',
        f'simulated_floor: "token_health_min == {e.simulated_floor:.2f}{at}"',
        f'alert_threshold: "token_health_min < {e.alert_threshold:.2f} (guard from anti-Goodhart table)"',
        f'decision: "{e.decision}"',
        "```",
        "",
        f"Warning zone: {e.simulated_floor:.2f} <= token_health_min < {e.alert_threshold:.2f}. "
        "simulated_floor is the lowest token_health the simulation observed; alert_threshold is the "
        "production guard below which automatic failover is blocked and the decision goes manual. "
        "Between the two the system still works but needs an operator's attention.",
    ]
    if e.source:
        lines.append(f"Source: `{e.source}`.")
    return "\n".join(lines) + "\n"


def split_note(text: str) -> tuple[str, dict[str, str]]:
    """(text before the first case, {case: its section text}) in file order."""
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fence = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else _HEADING.match(line.rstrip("\n"))
        if m:
            name = m.group(1)
            current = sections.setdefault(name, [])
            if current:  # a duplicated heading: keep both texts under the first
                current.append("\n")
        if current is None:
            preamble.append(line)
        else:
            current.append(line)
    return "".join(preamble), {k: "".join(v) for k, v in sections.items()}


def merge_note(existing: str | None, entry: NoteEntry, replace: bool = False) -> str:
    """The note's new text with ``entry`` added or (if ``replace``) replaced; others untouched."""
    if existing is None or not existing.strip():
        preamble = f"{NOTE_TITLE}\n\n{NOTE_INTRO}\n"
        sections: dict[str, str] = {}
    else:
        preamble, sections = split_note(existing)
    if entry.case in sections and not replace:
        raise BudgetError(f"note: case {entry.case!r} is already in the note; replace it explicitly (--replace)")
    section = render_section(entry)
    sections[entry.case] = section  # in place when replacing, at the end when new
    parts = [preamble.rstrip("\n") + "\n\n"]
    for text in sections.values():
        parts.append(text.rstrip("\n") + "\n\n")
    return "".join(parts).rstrip("\n") + "\n"


def write_note(path: str | Path, entry: NoteEntry, replace: bool = False) -> str:
    """Add or replace one case in the note file atomically; returns the new text."""
    p = Path(path)
    existing = None
    if p.exists():
        try:
            existing = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BudgetError(f"{p}: cannot read the existing note: {exc}") from None
    text = merge_note(existing, entry, replace=replace)
    atomic_write_text(p, text)
    return text


def note_cases(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.exists():
        return []
    return list(split_note(p.read_text(encoding="utf-8"))[1])
