"""The learner's workbook: each run as the command and its output, beside the learner's interpretation.

The chapter's study tip: keep two columns, left the command and the script
output, right "what this means for my project". The app records every run
here; the learner writes the right column; the whole downloads as Markdown to
feed the budget note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Workbook:
    entries: list[Entry] = field(default_factory=list)

    def record(self, page: str, title: str, command: str, output: str) -> Entry:
        """Add a run; the same command with the same output is one entry (a rerun adds nothing)."""
        for e in self.entries:
            if e.command == command and e.output == output:
                return e
        entry = Entry(len(self.entries) + 1, page, title, command, output)
        self.entries.append(entry)
        return entry

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def interpret(self, entry_id: int, text: str) -> None:
        entry = self.get(entry_id)
        if entry is not None:
            entry.interpretation = text.strip()

    def to_markdown(self) -> str:
        parts = [f"{TITLE}\n\n{INTRO}\n"]
        for e in self.entries:
            meaning = e.interpretation or "_(not written yet)_"
            parts.append(
                f"\n## {e.id}. {e.title} ({e.page})\n\n```sh\n{e.command}\n```\n\n```\n{e.output}\n```\n\n"
                f"**What this means for my project:** {meaning}\n"
            )
        return "".join(parts)


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
