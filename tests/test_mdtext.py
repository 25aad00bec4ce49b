"""The pages' Markdown reads the same with its shortcode-like colons escaped, and has none left."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from budget.workbench.mdtext import SHORTCODE, no_shortcodes

MD = MarkdownIt("commonmark")
CODE = re.compile(r"(`+)[^`]*?\1")


def test_a_time_and_a_ledger_key_read_the_same_and_ask_for_no_emoji() -> None:
    text = "at 11:44: the 18 decisions; no room: tpm:local-coder:29936839, `quota:triage:x` :material/home:"
    safe = no_shortcodes(text)
    assert MD.render(safe) == MD.render(text)
    assert SHORTCODE.findall(CODE.sub("", safe)) == []
    assert "`quota:triage:x`" in safe and ":material/home:" in safe


@given(st.text(alphabet="ab1_-+:` *.\\", max_size=40).map(str.strip))
def test_any_sentence_renders_the_same(text: str) -> None:
    assert MD.render(no_shortcodes(text)) == MD.render(text)


@given(st.text(alphabet="ab1_-+: *.\\", max_size=40).map(str.strip))
def test_a_sentence_without_code_keeps_no_shortcode(text: str) -> None:
    assert SHORTCODE.search(no_shortcodes(text)) is None
