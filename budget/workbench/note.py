"""The capstone budget note: a ledger of cases in ``capstone/budget-note.md``, one section each.

Each section records risk, effect, simulated_floor, alert_threshold and
decision, as the chapter's minimal fragment does. The simulated floor is the
observed minimum of a run; the alert threshold is the production guard and
must sit above the floor, leaving a warning zone between the two.

The note is a ledger several writers share:

- :func:`write_note` reads, merges and writes under a lock beside the note
  (:func:`budget.files.outputs.locked`), so concurrent writers never lose an entry;
  the file is replaced atomically and keeps its mode.
- Every text field is one line: each line-break form (CR, LF, CRLF, U+0085,
  U+2028, U+2029, vertical tab, form feed) becomes a space; other control and
  bidirectional-override characters are refused. Fields are rendered as JSON
  strings inside the fenced block, and case names are plain words, so no field
  can open a fence or a heading that would hide another case.
- Text that is not an entry (a README at the top, notes written by hand under a
  case) is kept as it is, also when a case is replaced.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from budget.errors import BudgetError
from budget.files import MAX_NOTE_BYTES, MAX_TEXT_CHARS, commit_files, locked, read_text, short_repr
from budget.keeper import manual_key

NOTE_TITLE = "# Budget note"
NOTE_INTRO = (
    "Risks of the tiered routing budget, one section per case: what fails, what the\n"
    "simulation showed, the guard that watches it in production, and the decision.\n"
)
DEFAULT_DECISION = "do not transfer entire queue to expensive tier"
_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_HEADING = re.compile(r" {0,3}## +(.+?)(?: +#*)? *")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\t ]+")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_KEYS = ("risk:", "effect:", "simulated_floor:", "alert_threshold:", "decision:")


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
    default_effect = f"{failover} tasks go to {target}, {degraded} remain degraded/manual"
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
        f'simulated_floor: "token_health_min == {e.simulated_floor:.2f}{at}"',
        f'alert_threshold: "token_health_min < {e.alert_threshold:.2f} (guard from anti-Goodhart table)"',
        f"decision: {_quoted(e.decision)}",
        "```",
        "",
        f"Warning zone: {e.simulated_floor:.2f} <= token_health_min < {e.alert_threshold:.2f}. "
        "simulated_floor is the lowest token_health the simulation observed; alert_threshold is the "
        "production guard below which automatic failover is blocked and the decision goes manual. "
        "Between the two the system still works but needs an operator's attention.",
    ]
    if e.source:
        ticks = "`" * (max((len(r) for r in re.findall(r"`+", e.source)), default=0) + 1)
        pad = " " if e.source.startswith("`") or e.source.endswith("`") else ""
        lines.append(f"Source: {ticks}{pad}{e.source}{pad}{ticks}.")
    return "\n".join(lines) + "\n"


def _lines(text: str) -> list[str]:
    """Lines as Markdown sees them (LF, CRLF or CR), each with its ending."""
    return [m.group(0) for m in _LINE.finditer(text) if m.group(0)]


def split_note(text: str) -> tuple[str, dict[str, str]]:
    """(text before the first case, {case: its section text}) in file order.

    A heading inside a fenced block is not a heading; a fence is closed only by
    a fence of the same character at least as long (CommonMark).
    """
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fence: str | None = None
    for line in _lines(text):
        bare = line.rstrip("\r\n")
        m = _FENCE.fullmatch(bare)
        heading = None
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence = None
        elif m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = m.group(1)
        else:
            heading = _HEADING.fullmatch(bare)
        if heading:
            current = sections.setdefault(heading.group(1), [])
            if current:  # a duplicated heading: keep both texts under the first
                current.append("\n")
        (preamble if current is None else current).append(line)
    return "".join(preamble), {k: "".join(v) for k, v in sections.items()}


def _hand_text(section: str) -> str:
    """What a person wrote in a section besides the generated entry (kept when the entry is replaced)."""
    lines = _lines(section)[1:]  # the heading goes
    kept: list[str] = []
    i = 0
    block_seen = warning_seen = False
    while i < len(lines):
        bare = lines[i].rstrip("\r\n")
        if not block_seen and bare == "```yaml":
            end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip("\r\n") == "```"), None)
            body = [ln.strip() for ln in lines[i + 1 : end or i]]
            if end is not None and body and all(ln.startswith(_KEYS) for ln in body if ln):
                block_seen, i = True, end + 1
                continue
        if not warning_seen and bare.startswith("Warning zone: "):
            warning_seen = True
            if i + 1 < len(lines) and lines[i + 1].startswith("Source: "):
                i += 1
            i += 1
            continue
        kept.append(lines[i])
        i += 1
    return "".join(kept).strip("\r\n")


def merge_note(existing: str | None, entry: NoteEntry, replace: bool = False, name: str = "note") -> str:
    """The note's new text with ``entry`` added or (if ``replace``) replaced; other text untouched."""
    if existing is None or not existing.strip():
        preamble = f"{NOTE_TITLE}\n\n{NOTE_INTRO}\n"
        sections: dict[str, str] = {}
    else:
        preamble, sections = split_note(existing)
    if entry.case in sections and not replace:
        raise BudgetError(f"{name}: case {entry.case!r} is already in the note; replace it explicitly (--replace)")
    section = render_section(entry)
    if entry.case in sections:
        hand = _hand_text(sections[entry.case])
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
