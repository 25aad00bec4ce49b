"""Text for the pages' Markdown that Streamlit's browser code does not read as an emoji's ``:shortcode:``.

Streamlit loads its emoji library (0.3 MB of code, fetched and compiled before the text shows) for any
Markdown text with a colon, a word and a colon in it (its test, in its own words below); the engine's
sentences have such runs without meaning an emoji: a time followed by a colon ("at 11:44: the 18
decisions"), a ledger key ("quota:triage:local-coder"). A backslash before the closing colon keeps the
text as it reads (CommonMark shows ``\\:`` as a colon) and out of that test; code spans are left as they are.
"""

from __future__ import annotations

import re

SHORTCODE = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")  # Streamlit's own test for an emoji
_CODE_SPAN = re.compile(r"(`+)[^`]*?\1")


def _escape(text: str) -> str:
    out, pos = text, 0
    while (m := SHORTCODE.search(out, pos)) is not None:
        close = m.end() - 1
        out = out[:close] + "\\" + out[close:]
        pos = close + 1  # the escaped colon may open the next run ("a:b:c:d")
    return out


def no_shortcodes(text: str) -> str:
    """``text`` with a backslash before each colon that would close a ``:shortcode:``, outside code spans."""
    out, last = [], 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_escape(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_escape(text[last:]))
    return "".join(out)
