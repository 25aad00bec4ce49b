"""The current spec: the one spec every page of the workbench reads, with its source and state.

Pages share this one small object (the text, where it came from, whether it is
the shipped file, edited, or invalid) instead of keys of their own. It knows
nothing of Streamlit: the app keeps one in its session and calls these methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from budget.errors import BudgetError
from budget.model import BudgetSpec, spec_from_text

SHIPPED, EDITED, INVALID = "shipped", "edited", "invalid"
UNDO_DEPTH = 50


@dataclass
class CurrentSpec:
    """The spec the pages use. ``original`` is what a reset goes back to (the shipped file as read)."""

    name: str
    text: str
    origin: str = "shipped"  # shipped | upload | calibrate
    original: str = ""
    history: list[str] = field(default_factory=list)
    revision: int = 0
    choice: int = 0  # bumped when another file replaces the spec (the sidebar picker redraws)
    _parsed: tuple[str, BudgetSpec | None, str | None] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.original:
            self.original = self.text

    def load(self, name: str, text: str, origin: str = "shipped") -> None:
        """Replace the spec with another file (an undoable step)."""
        self._remember()
        self.name, self.text, self.origin, self.original = name, text, origin, text
        self.revision += 1
        self.choice += 1

    def edit(self, text: str) -> bool:
        """Set new text (from the table or the YAML); False when nothing changed."""
        if text == self.text:
            return False
        self._remember()
        self.text = text
        self.revision += 1
        return True

    def _remember(self) -> None:
        self.history.append(f"{self.name}\0{self.origin}\0{self.original}\0{self.text}")
        del self.history[:-UNDO_DEPTH]

    @property
    def can_undo(self) -> bool:
        return bool(self.history)

    def undo(self) -> bool:
        if not self.history:
            return False
        name, origin, original, text = self.history.pop().split("\0", 3)
        if (name, origin) != (self.name, self.origin):
            self.choice += 1
        self.name, self.origin, self.original, self.text = name, origin, original, text
        self.revision += 1
        return True

    def reset(self) -> bool:
        """Back to the file as it was loaded (undoable)."""
        return self.edit(self.original)

    def parse(self) -> tuple[BudgetSpec | None, str | None]:
        """(spec, None) when the text is a valid spec, (None, the one-line error) otherwise."""
        if self._parsed is None or self._parsed[0] != self.text:
            try:
                self._parsed = (self.text, spec_from_text(self.text, self.name), None)
            except ValueError as exc:  # BudgetError, or a parser's own complaint about the text
                message = str(exc) if isinstance(exc, BudgetError) else f"{self.name}: {exc}"
                self._parsed = (self.text, None, message)
        return self._parsed[1], self._parsed[2]

    @property
    def spec(self) -> BudgetSpec | None:
        return self.parse()[0]

    @property
    def error(self) -> str | None:
        return self.parse()[1]

    @property
    def state(self) -> str:
        if self.error is not None:
            return INVALID
        return SHIPPED if self.origin == "shipped" and self.text == self.original else EDITED

    @property
    def path(self) -> str | None:
        """``specs/<name>`` when the spec is a shipped file as it is (what a CLI command can name)."""
        return f"specs/{self.name}" if self.state == SHIPPED else None

    def label(self) -> str:
        source = {"shipped": "shipped file", "upload": "upload", "calibrate": "from Calibrate"}.get(
            self.origin, self.origin
        )
        return f"{self.name} ({source}) · {self.state}"
