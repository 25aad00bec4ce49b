"""Names that travel: a tier, a phase or a model group read from an input ends up in generated files.

A spec's tier becomes a key of a LiteLLM config, a Portkey target, an environment variable, a node of
the flow diagram and a line of the capstone note; a spend log's model group becomes a tier of a fitted
policy. A line break, a carriage return, U+2028, NEL, NUL, ESC or a bidirectional override inside such
a name would break the file it lands in, or the terminal that prints it. The input layer refuses them
once, here, naming the field; everything downstream may then rely on names of one line of visible text.
"""

from __future__ import annotations

import unicodedata

# bidirectional embeddings, overrides and isolates: they reorder what a reader sees
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def bad_character(text: str) -> str | None:
    """The first character a name may not hold (a control, a line or paragraph separator, a bidi control)."""
    for ch in text:
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return None


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name (empty, blank at an end, or a character above), else None."""
    if not text.strip():
        return "is empty"
    ch = bad_character(text)
    if ch is not None:
        what = unicodedata.name(ch, "a control character")
        return f"holds U+{ord(ch):04X} ({what}), which no generated file can carry"
    if text != text.strip():
        return "begins or ends with white space"
    return None


def one_line(text: str) -> str:
    """``text`` for a comment or a message: every character a name may not hold written as ``\\uXXXX``."""
    return "".join(f"\\u{ord(ch):04x}" if bad_character(ch) else ch for ch in text)
