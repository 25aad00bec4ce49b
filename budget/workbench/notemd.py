"""Reading the capstone note as CommonMark renders it: its cases, and what in them a person wrote.

The note is Markdown a person edits by hand, so it is read with a CommonMark parser (markdown-it-py), not
with line patterns: a case is a level-2 heading at the top level of the document, ATX (``## beta``, a
trailing tab or closing ``#`` s included) or setext (``beta`` over ``---``); a heading inside a fence, an
HTML comment, a block quote or a list is text, not a case.

What the tool writes is known exactly (:data:`GENERATED_LINES`): the heading, the ``yaml`` block of the
five fields, the verdict line and the ``Source:`` line right after it. Everything else under a case is the
person's and is kept when the case is replaced, wherever it stands.

One thing CommonMark would do is not kept: a fence or an HTML comment a person opened and never closed runs
to the end of the document and hides every case after it. Where such a block swallows an entry the tool
wrote, the block is closed just before that entry (a closing line is added to the person's text), so the
note renders every case and a second case of the same name is still refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark").disable(["inline", "text_join"])  # blocks only: a heading's text is enough
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_GENERATED_HEADING = re.compile(r"## ([A-Za-z0-9][A-Za-z0-9_.-]{0,79})")
KEYS = ("risk:", "effect:", "simulated_floor:", "alert_threshold:", "decision:")
# the verdict lines the tool writes (and wrote): {F} and {T} stand for two-decimal figures
GENERATED_LINES = (
    "Warning zone: {F} <= token_health_min < {T}. simulated_floor is the lowest token_health the simulation "
    "observed; alert_threshold is the production guard below which automatic failover is blocked and the "
    "decision goes manual. Between the two the system still works but needs an operator's attention.",
    "The guard holds: simulated_floor {F} >= alert_threshold {T}. token_health never fell below the "
    "production guard in this run, so automatic failover was never blocked and no decision went manual "
    "by the guard; the outage was absorbed by the plan.",
    "Below 0.50: simulated_floor {F} is under 0.50, so this is no warning zone: the plan fails this outage "
    "(the guard at {T} fired, but the budget could not absorb the outage). Change the plan, not the guard.",
)
_VERDICT = re.compile(
    "|".join(
        re.escape(t).replace(re.escape("{F}"), r"\d\.\d\d").replace(re.escape("{T}"), r"\d\.\d\d")
        for t in GENERATED_LINES
    )
)
_SOURCE = re.compile(r"Source: (`+) ?.*? ?\1\.")
_CLOSERS = (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">"))
_RAW_TAGS = ("pre", "script", "style", "textarea")


def lines_of(text: str) -> list[str]:
    """Lines as Markdown sees them (LF, CRLF or CR), each with its ending."""
    return [m.group(0) for m in _LINE.finditer(text) if m.group(0)]


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def generated_block_end(lines: list[str], i: int) -> int | None:
    """When the tool's heading and ``yaml`` block start at line ``i``: the index of the block's closing line."""
    if i + 2 >= len(lines) or not _GENERATED_HEADING.fullmatch(_bare(lines[i])):
        return None
    if _bare(lines[i + 1]) != "" or _bare(lines[i + 2]) != "```yaml":
        return None
    for j in range(i + 3, min(len(lines), i + 3 + 2 * len(KEYS))):
        if _bare(lines[j]) == "```":
            body = [_bare(x).strip() for x in lines[i + 3 : j]]
            return j if body and all(b.startswith(KEYS) for b in body if b) else None
    return None


def _closer(opening: str, markup: str) -> str:
    """The line that closes a fence (``markup``) or an HTML block opened by ``opening``."""
    if markup:
        return markup
    start = opening.lstrip()
    for head, close in _CLOSERS:
        if start.startswith(head):
            return close
    tag = re.match(r"<([A-Za-z]+)", start)
    if tag and tag.group(1).lower() in _RAW_TAGS:
        return f"</{tag.group(1).lower()}>"
    return ""


@dataclass
class Heading:
    """A case's heading: its name as rendered, the first line and the line after it."""

    name: str
    start: int
    end: int


def _swallowed(lines: list[str], a: int, b: int) -> int | None:
    """The first generated entry inside lines a..b of an unclosed block (or one closed by that entry's fence)."""
    for j in range(a + 1, b):
        end = generated_block_end(lines, j)
        if end is not None and (b == len(lines) or b - 1 == end):
            return j
    return None


def read_headings(lines: list[str]) -> tuple[list[Heading], dict[int, str]]:
    """The top-level level-2 headings, and the closing lines to add before the lines that need them."""
    headings: list[Heading] = []
    closers: dict[int, str] = {}
    pos = 0
    for _ in range(len(lines) + 1):  # each pass moves past one swallowed entry
        tokens = _MD.parse("".join(lines[pos:]))
        cut = None
        for n, tok in enumerate(tokens):
            if tok.level != 0 or tok.map is None:
                continue
            a, b = tok.map[0] + pos, tok.map[1] + pos
            if tok.type == "heading_open" and tok.tag == "h2":
                headings.append(Heading(tokens[n + 1].content.strip(), a, b))
            elif tok.type in ("fence", "html_block"):
                j = _swallowed(lines, a, b)
                closer = _closer(_bare(lines[a]), tok.markup if tok.type == "fence" else "")
                if j is not None and closer:
                    cut = (j, closer)
                    break
        if cut is None:
            break
        closers[cut[0]] = cut[1]
        pos = cut[0]
    return headings, closers


def _yaml_block(lines: list[str], i: int) -> int | None:
    """When the tool's ``yaml`` block of the five fields opens at line ``i``: the index of its closing line."""
    if _bare(lines[i]) != "```yaml":
        return None
    for j in range(i + 1, min(len(lines), i + 1 + 2 * len(KEYS))):
        if _bare(lines[j]) == "```":
            body = [_bare(x).strip() for x in lines[i + 1 : j]]
            return j if body and all(b.startswith(KEYS) for b in body if b) else None
    return None


def generated_part(lines: list[str]) -> set[int]:
    """Which of a section's lines (its heading first) the tool wrote: the heading, the first yaml block of the
    five fields, the verdict line right after it and the Source line right after that. A person's lines
    between them (above the block, say) stay the person's."""
    out: set[int] = set()
    if not lines or not _GENERATED_HEADING.fullmatch(_bare(lines[0])):
        return out
    out.add(0)
    start = next((i for i in range(1, len(lines)) if _yaml_block(lines, i) is not None), None)
    if start is None:
        return out
    end = _yaml_block(lines, start)
    assert end is not None
    out.update(range(start, end + 1))
    if start == 2 and _bare(lines[1]) == "":
        out.add(1)
    i = end + 1
    if i + 1 < len(lines) and _bare(lines[i]) == "" and _VERDICT.fullmatch(_bare(lines[i + 1])):
        out.update((i, i + 1))
        if i + 2 < len(lines) and _SOURCE.fullmatch(_bare(lines[i + 2])):
            out.add(i + 2)
    return out
