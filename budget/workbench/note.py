"""The capstone budget note: a ledger of cases in ``capstone/budget-note.md``, one section each.

Each section records risk, effect, simulated_floor, alert_threshold and
decision, as the chapter's minimal fragment does. The simulated floor is the
observed minimum of a run; the alert threshold is the production guard. Every
run is a case: a floor from 0.50 up to the guard is a warning zone, a floor at
or above the guard is a guard that holds, and a floor below 0.50 is a plan that
fails the outage (never a warning zone). Figures are shown rounded down
(:func:`budget.keeper.health_text`).

The note is a ledger several writers share:

- :func:`write_note` reads, merges and writes under a lock beside the note
  (:func:`budget.files.outputs.locked`), so concurrent writers never lose an entry;
  the file is replaced atomically and keeps its mode.
- Every text field is one line: each line-break form (CR, LF, CRLF, U+0085,
  U+2028, U+2029, vertical tab, form feed) becomes a space; other control and
  bidirectional-override characters are refused. Fields are rendered as JSON
  strings inside the fenced block, and case names are plain words, so no field
  can open a fence or a heading that would hide another case.
- The note is read as CommonMark renders it (:mod:`budget.workbench.notemd`);
  text the tool did not write (a README at the top, notes written by hand under a
  case, whatever they start with) is kept, also when a case is replaced.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from budget.errors import BudgetError
from budget.files import MAX_NOTE_BYTES, MAX_TEXT_CHARS, commit_files, locked, read_text, short_repr
from budget.keeper import health_text, manual_key
from budget.workbench.notemd import GENERATED_LINES, generated_part, lines_of, read_headings

NOTE_TITLE = "# Budget note"
NOTE_INTRO = (
    "Risks of the tiered routing budget, one section per case: what fails, what the\n"
    "simulation showed, the guard that watches it in production, and the decision.\n"
)
DEFAULT_DECISION = "do not transfer entire queue to expensive tier"
_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
FAIL_FLOOR = 0.50  # below it the plan fails the outage (capstone/README.md): no warning zone
_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\t ]+")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def one_line_text(value: str, field: str) -> str:
    """``value`` as one line: line breaks become spaces; control and bidi characters are refused."""
    text = _BREAKS.sub(" ", value).strip()
    bad = next((ch for ch in text if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in _BIDI)), None)
    if bad is not None:
        raise ValueError(f"{field} must not hold the control character U+{ord(bad):04X}")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{field} has {len(text):,} characters, over the limit of {MAX_TEXT_CHARS:,}")
    return text


class NoteEntry(BaseModel):
    """One case of the note."""

    model_config = ConfigDict(frozen=True, strict=True, allow_inf_nan=False)

    case: str
    risk: str = Field(min_length=1)
    effect: str = Field(min_length=1)
    simulated_floor: float = Field(ge=0, le=1)
    alert_threshold: float = Field(ge=0, le=1)
    decision: str = Field(min_length=1)
    duration_min: int | None = Field(None, ge=0, le=1440)
    source: str | None = None

    @field_validator("case")
    @classmethod
    def _case(cls, v: str) -> str:
        if not _CASE.fullmatch(v):
            raise ValueError(
                f"case name {short_repr(v)}: use letters, digits, _ . - (like high_memory_usage), at most 80"
            )
        return v

    @field_validator("risk", "effect", "decision")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = one_line_text(v, "the text")
        if not v:
            raise ValueError("must not be empty")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        return None if v is None else one_line_text(v, "source") or None

    @property
    def zone(self) -> str:
        """``fails`` (floor below 0.50), ``holds`` (floor at or above the guard) or ``warning`` (between)."""
        floor = float(health_text(self.simulated_floor))  # the figure as shown decides, so text and verdict agree
        if floor < FAIL_FLOOR:
            return "fails"
        return "holds" if floor >= self.alert_threshold else "warning"

    @property
    def warning_zone(self) -> tuple[float, float] | None:
        """(floor, guard) when the run fell into the warning zone, else None."""
        return (self.simulated_floor, self.alert_threshold) if self.zone == "warning" else None

    def verdict_line(self) -> str:
        """The one-line verdict ``budget note`` prints."""
        floor, guard = health_text(self.simulated_floor), f"{self.alert_threshold:.2f}"
        if self.zone == "fails":
            return f"simulated_floor {floor} is below {FAIL_FLOOR:.2f}: the plan fails this outage (no warning zone)"
        if self.zone == "holds":
            return f"simulated_floor {floor}, alert_threshold {guard}: the guard holds ({floor} >= {guard})"
        return f"simulated_floor {floor}, alert_threshold {guard}: warning zone {floor} <= token_health_min < {guard}"

    def verdict_paragraph(self) -> str:
        """The verdict as the note writes it under the case."""
        text = GENERATED_LINES[{"warning": 0, "holds": 1, "fails": 2}[self.zone]]
        return text.replace("{F}", health_text(self.simulated_floor)).replace("{T}", f"{self.alert_threshold:.2f}")


def _number(result: dict[str, Any], key: str, name: str, lo: float, hi: float, default: Any = None) -> float:
    value = result.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi:
        raise BudgetError(f"{name}: {key}: must be a number from {lo:g} to {hi:g}, got {short_repr(value)}")
    return value


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
    name = source or "result"
    if not all(k in result for k in ("token_health_min", "failover_to_frontier", "degraded_queue")):
        raise BudgetError(
            f"{name}: not a simulate result (needs token_health_min, failover_to_frontier, degraded_queue)"
        )
    floor = _number(result, "token_health_min", name, 0, 1)
    failover = int(_number(result, "failover_to_frontier", name, 0, 1e12))
    degraded = int(_number(result, "degraded_queue", name, 0, 1e12))
    timeout = _number(result, "manual_timeout_sec", name, 0, 86400, 120)
    tier, duration, target = result.get("down_tier"), result.get("duration_min"), result.get("failover_tier")
    if tier is not None and not isinstance(tier, str):
        raise BudgetError(f"{name}: down_tier: must be a tier name, got {short_repr(tier)}")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise BudgetError(f"{name}: duration_min: must be whole minutes, got {short_repr(duration)}")
    target = target if isinstance(target, str) else "frontier-reviewer"
    manual = result.get(manual_key(timeout), result.get("manual_queue", 0))
    default_risk = f"{tier} unavailable {duration}m" if tier else "no outage"
    default_effect = f"{_served(result, failover, target)}, {degraded} remain degraded/manual"
    if manual != degraded and isinstance(manual, int) and not isinstance(manual, bool):
        default_effect += f" ({manual} reached the manual channel)"
    if alert_threshold is None:
        alert_threshold = _number(result, "alert_threshold", name, 0, 1, 0.60)
    try:
        return NoteEntry(
            case=case,
            risk=risk if risk else default_risk,
            effect=effect if effect else default_effect,
            simulated_floor=round(float(floor), 4),
            alert_threshold=float(alert_threshold),
            decision=decision if decision else DEFAULT_DECISION,
            duration_min=duration,
            source=source,
        )
    except ValidationError as exc:  # one line naming the field
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "entry"
        raise BudgetError(f"note: {field}: {err['msg'].removeprefix('Value error, ')}") from None


def _served(result: dict[str, Any], failover: int, target: str) -> str:
    """``5 tasks go to frontier-reviewer``; on a plan of more tiers, each tier that took failover by name."""
    by_tier = result.get("failover_by_tier")
    if not isinstance(by_tier, dict) or not by_tier:
        return f"{failover} tasks go to {target}"
    took = [(t, n) for t, n in by_tier.items() if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    if not took:
        return f"0 tasks go to {target}"
    first, *rest = took
    return f"{first[1]} tasks go to {first[0]}" + "".join(f", {n} to {t}" for t, n in rest)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a YAML double-quoted scalar, never a line break


def render_section(e: NoteEntry) -> str:
    at = f" (drop at {e.duration_min}m)" if e.duration_min else ""
    lines = [
        f"## {e.case}",
        "",
        "```yaml",
        f"risk: {_quoted(e.risk)}",
        f"effect: {_quoted(e.effect)}",
        f'simulated_floor: "token_health_min == {health_text(e.simulated_floor)}{at}"',
        f'alert_threshold: "token_health_min < {e.alert_threshold:.2f} (guard from anti-Goodhart table)"',
        f"decision: {_quoted(e.decision)}",
        "```",
        "",
        e.verdict_paragraph(),
    ]
    if e.source:
        ticks = "`" * (max((len(r) for r in re.findall(r"`+", e.source)), default=0) + 1)
        pad = " " if e.source.startswith("`") or e.source.endswith("`") else ""
        lines.append(f"Source: {ticks}{pad}{e.source}{pad}{ticks}.")
    return "\n".join(lines) + "\n"


def _sections(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(text before the first case, [(case, heading text, body text)]) in file order, read as CommonMark."""
    lines = lines_of(text)
    headings, closers = read_headings(lines)
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in closers:  # a block a person left open would hide the entry below it: close it first
            out.append(("" if not out or out[-1].endswith(("\n", "\r")) else "\n") + closers[i] + "\n")
        out.append(line)
    # the line numbers after the added closers
    shift = [sum(1 for c in closers if c <= i) for i in range(len(lines) + 1)]
    lines = out
    bounds = [(h.name, h.start + shift[h.start], h.end + shift[h.start]) for h in headings]
    preamble = "".join(lines[: bounds[0][1]] if bounds else lines)
    sections = []
    for n, (name, a, b) in enumerate(bounds):
        stop = bounds[n + 1][1] if n + 1 < len(bounds) else len(lines)
        sections.append((name, "".join(lines[a:b]), "".join(lines[b:stop])))
    return preamble, sections


def split_note(text: str) -> tuple[str, dict[str, str]]:
    """(text before the first case, {case: its section text}) in file order, as CommonMark renders the note.

    A heading inside a fence, an HTML comment, a quote or a list is not a case; a heading a person wrote
    twice keeps both texts under the first.
    """
    preamble, found = _sections(text)
    sections: dict[str, str] = {}
    for name, head, body in found:
        sections[name] = sections[name] + "\n" + head + body if name in sections else head + body
    return preamble, sections


def _hand_text(head: str, body: str) -> str:
    """What a person wrote in a section besides the generated entry (kept when the entry is replaced)."""
    lines = lines_of(head + body)
    mine = generated_part(lines)
    if not mine:  # a heading a person wrote (ATX or setext): the new entry's heading replaces it
        mine = set(range(len(lines_of(head))))
    kept = [line for i, line in enumerate(lines) if i not in mine]
    return "".join(kept).strip("\r\n")


def merge_note(existing: str | None, entry: NoteEntry, replace: bool = False, name: str = "note") -> str:
    """The note's new text with ``entry`` added or (if ``replace``) replaced; other text untouched."""
    if existing is None or not existing.strip():
        preamble = f"{NOTE_TITLE}\n\n{NOTE_INTRO}\n"
        sections: dict[str, str] = {}
        first: dict[str, tuple[str, str]] = {}
    else:
        preamble, found = _sections(existing)
        sections, first = {}, {}
        for case, head, body in found:  # a heading a person wrote twice: both texts under the first
            sections[case] = sections[case] + "\n" + head + body if case in sections else head + body
            first.setdefault(case, (head, ""))
        first = {case: (head, sections[case][len(head) :]) for case, (head, _) in first.items()}
    if entry.case in sections and not replace:
        raise BudgetError(f"{name}: case {entry.case!r} is already in the note; replace it explicitly (--replace)")
    section = render_section(entry)
    if entry.case in sections:
        hand = _hand_text(*first[entry.case])
        if hand:
            section += "\n" + hand + "\n"
    sections[entry.case] = section  # in place when replacing, at the end when new
    parts = [preamble.rstrip("\r\n") + "\n\n"] if preamble.strip() else []
    for text in sections.values():
        parts.append(text.rstrip("\r\n") + "\n\n")
    return "".join(parts).rstrip("\n") + "\n"


def _read_note(p: Path) -> str | None:
    if not p.exists() and not p.is_symlink():
        return None
    return read_text(p, MAX_NOTE_BYTES, empty_ok=True)


def write_note(path: str | Path, entry: NoteEntry, replace: bool = False) -> str:
    """Add or replace one case under the note's lock; the file is replaced atomically. Returns the new text."""
    p = Path(path)
    folder = p.parent
    created = [d for d in [folder, *folder.parents] if not d.exists()]
    try:
        for d in reversed(created):
            d.mkdir()
        with locked(p):
            text = merge_note(_read_note(p), entry, replace=replace, name=str(path))
            commit_files([(p, text, None)])
    except BaseException:
        for d in created:
            try:
                d.rmdir()
            except OSError:
                break
        raise
    return text


def note_cases(path: str | Path) -> list[str]:
    """The cases the note holds, in file order (none when there is no note)."""
    text = _read_note(Path(path))
    return [] if text is None else list(split_note(text)[1])
