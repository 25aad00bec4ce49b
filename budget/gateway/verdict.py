"""The gateway's verdict, shared by both validation formats.

A validation evaluates *items* (an invariant, a check, a drift guard) on one or
more *targets* (a result, or each outage of a drill result). An item is
evaluated, skipped (a ``correlation_guard`` with no baseline) or failed; a
failed item carries the label it fails with (``CI_BLOCK``) when its format has
one. The verdict fails closed: nothing evaluated is an error, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from budget.errors import UsageError

EXIT_PASS, EXIT_FAIL = 0, 1


@dataclass
class Item:
    """One evaluated (or skipped) rule on one target."""

    kind: str  # invariant | check | correlation_guard
    name: str
    target: str
    state: str  # ok | VIOLATED | FAIL | pass | idle | not activated | skipped
    failed: bool
    label: str | None = None  # what it fails with (CI_BLOCK)
    lines: list[str] = field(default_factory=list)  # the detail, one line each
    data: dict[str, Any] = field(default_factory=dict)  # the values, for --json

    @property
    def skipped(self) -> bool:
        return self.state == "skipped"

    def headline(self) -> str:
        label = f" {self.label}" if self.failed and self.label else ""
        where = f"[{self.target}] " if self.target != "result" else ""
        return f"{where}{self.kind} {self.name}: {self.state}{label}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "state": self.state, "failed": self.failed}
        if self.label is not None:
            out["fail"] = self.label
        out.update(self.data)
        return out


@dataclass
class Verdict:
    """Every item of a validation, and the exit code it gives."""

    format: str  # "chapter" | "chapter-10"
    validation: str
    metrics: str
    items: list[Item]
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not any(not i.skipped for i in self.items):
            skipped = ", ".join(f"{i.name} ({i.lines[0] if i.lines else 'skipped'})" for i in self.items)
            raise UsageError(
                f"{self.validation}: nothing was evaluated on {self.metrics}"
                + (f": every check was skipped: {skipped}" if skipped else "")
                + "; a gate that checks nothing does not pass"
            )

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if i.failed]

    @property
    def skipped(self) -> list[Item]:
        return [i for i in self.items if i.skipped]

    @property
    def exit_code(self) -> int:
        return EXIT_FAIL if self.failed else EXIT_PASS

    @property
    def labels(self) -> list[str]:
        return sorted({i.label for i in self.failed if i.label})

    def _where(self, item: Item) -> str:
        return f" ({item.target})" if item.target != "result" or self.format == "chapter" else ""

    def summary(self) -> str:
        if self.failed:
            parts = [
                f"{i.label + ': ' if i.label else ''}{i.name}{self._where(i)}"
                for i in self.failed
                if i.kind != "invariant"
            ]
            invariants = [f"{i.name}{self._where(i)}" for i in self.failed if i.kind == "invariant"]
            if invariants:
                parts.append("invariants violated: " + ", ".join(invariants))
            return "FAIL: " + "; ".join(parts)
        evaluated = len(self.items) - len(self.skipped)
        text = f"PASS: {evaluated} evaluated, none failed"
        if self.skipped:
            text += "; skipped (not passed): " + ", ".join(sorted({i.name for i in self.skipped}))
        return text

    def lines(self) -> list[str]:
        out = [*self.notes]
        for item in self.items:
            out.append(item.headline())
            out.extend(f"    {line}" for line in item.lines)
        out.append(self.summary())
        return out

    def to_dict(self) -> dict[str, Any]:
        targets: dict[str, list[dict[str, Any]]] = {}
        for i in self.items:
            targets.setdefault(i.target, []).append(i.to_dict())
        return {
            "validation": self.validation,
            "format": self.format,
            "metrics": self.metrics,
            "baseline": self.baseline,
            "verdict": "fail" if self.failed else "pass",
            "exit_code": self.exit_code,
            "fail_labels": self.labels,
            "failed": [{"target": i.target, "kind": i.kind, "name": i.name, "fail": i.label} for i in self.failed],
            "evaluated": len(self.items) - len(self.skipped),
            "skipped": [{"target": i.target, "name": i.name, "why": " ".join(i.lines)} for i in self.skipped],
            "notes": self.notes,
            "targets": [{"target": t, "items": items} for t, items in targets.items()],
        }
