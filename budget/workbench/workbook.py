"""The learner's workbook: each run as the command and its output, beside the learner's interpretation.

The chapter's study tip: keep two columns, left the command and the script
output, right "what this means for my project". The app records every run
here; the learner writes the right column; the whole downloads as Markdown to
feed the budget note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from budget.keeper import manual_key

TITLE = "# Workbook"
INTRO = "Each run: the command and its output, then what it means for my project."


@dataclass
class Entry:
    id: int
    page: str
    title: str
    command: str
    output: str
    interpretation: str = ""


def _cell(text: str) -> str:
    """Text inside one cell of a Markdown table: pipes escaped, lines joined with <br>."""
    return text.replace("|", "\\|").replace("\n", "<br>")


class Workbook:
    """The workbook kept in memory (for this session only); ``StoredWorkbook`` keeps it in the database."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._slots: dict[str, int] = {}

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def record(self, page: str, title: str, command: str, output: str, slot: str | None = None) -> Entry:
        """Add a run. The run's ``slot`` again (its query edited) updates its entry; the same command with the
        same output is one entry (a rerun adds nothing)."""
        if slot is not None and (entry := self.get(self._slots.get(slot, 0))) is not None:
            entry.title, entry.command, entry.output = title, command, output
            return entry
        for e in self._entries:
            if e.command == command and e.output == output:
                return e
        entry = Entry(max((e.id for e in self._entries), default=0) + 1, page, title, command, output)
        self._entries.append(entry)
        if slot is not None:
            self._slots[slot] = entry.id
        return entry

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self._entries if e.id == entry_id), None)

    def interpret(self, entry_id: int, text: str) -> None:
        entry = self.get(entry_id)
        if entry is not None:
            entry.interpretation = text.strip()

    def delete(self, entry_id: int) -> None:
        self._entries = [e for e in self._entries if e.id != entry_id]

    def to_markdown(self) -> str:
        """The chapter's two columns as one Markdown table: the command and its output | what it means."""
        rows = [f"{TITLE}\n\n{INTRO}\n\n| Command and output | What this means for my project |\n| --- | --- |\n"]
        for n, e in enumerate(self.entries, 1):
            left = (
                _cell(f"**{n}. {e.title}** ({e.page})")
                + "<br>"
                + "<br>".join(
                    f"`{_cell(line)}`" for line in [*e.command.splitlines(), *e.output.splitlines()] if line.strip()
                )
            )
            rows.append(f"| {left} | {_cell(e.interpretation) or '_(not written yet)_'} |\n")
        return "".join(rows)


def simulate_command(plan: str, scenario: str, policy: str, query: str | None = None) -> str:
    """The CLI commands that give the same run (``plan`` and ``scenario`` as a learner would name them)."""
    lines = [f"budget simulate --plan {plan} --scenario {scenario} --policy {policy} --out out/result.json"]
    if query:
        lines.append(f'budget inspect --result out/result.json --query "{query}"')
    return "\n".join(lines)


def failure_command(
    plan: str, start: str, tier: str, duration_min: int, queue: int, timeout_sec: float, policy: str
) -> str:
    """The chapter's production form of a run: ``--failure "11:00,local-coder,down,45m"``."""
    return (
        f'budget simulate --plan {plan} --failure "{start},{tier},down,{duration_min}m" --queue {queue} '
        f"--manual-timeout-sec {timeout_sec:g} --policy {policy} --out out/result.json"
    )


def simulate_output(result: dict[str, Any]) -> str:
    """The run's figures in the words the CLI prints them, with units."""
    mk = manual_key(result["manual_timeout_sec"])
    guard = result["guard"]
    verdict = (
        f"breaches the {guard['alert_threshold']:.2f} guard (first at {guard['first_breach']})"
        if guard["breached"]
        else f"holds the {guard['alert_threshold']:.2f} guard"
    )
    outage = (
        f"{result['down_tier']} down {result['duration_min']} min from {result['start']}"
        if result.get("down_tier")
        else "no outage"
    )
    return "\n".join(
        [
            f"{outage}; queue {result['queue']} tasks; manual timeout {result['manual_timeout_sec']:g} s",
            f"failover_to_frontier {result['failover_to_frontier']}, degraded_queue {result['degraded_queue']}, "
            f"{mk} {result[mk]} (tasks)",
            f"token_health_min {result['token_health_min']:.4f} at {result['token_health_min_at']}: {verdict}",
            f"mttr_p95 {result['mttr_p95']:g} s; P0/P1 SLA breaches "
            f"{result['sla_breaches']['P0'] + result['sla_breaches']['P1']}",
        ]
    )
