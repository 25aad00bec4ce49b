"""scripts/serve.py (`make run`): the modules it imports before serving are the ones the pages import."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("serve", ROOT / "scripts" / "serve.py")
assert _spec is not None and _spec.loader is not None
serve = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve)


def test_the_pages_imports_are_read_from_their_source() -> None:
    names = serve.page_imports()
    assert {"ui", "streamlit", "budget.workbench", "budget.drill", "budget.model"} <= set(names)  # package names
    assert "__future__" not in names
    assert names == sorted(set(names))


def test_a_new_page_needs_nothing_in_the_launcher(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\n")
    (tmp_path / "ui.py").write_text("from budget.model.spec import load_spec\n")
    (tmp_path / "pages" / "9_New.py").write_text(
        "from __future__ import annotations\nimport json, csv\nfrom budget.drill.review import review\n"
        "def later():\n    import budget.traffic.fit\n"
    )
    assert serve.page_imports(tmp_path) == ["budget.drill.review", "budget.model.spec", "csv", "json", "streamlit"]


def test_a_broken_page_does_not_stop_the_server_from_starting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # warm() puts the folder first; later tests must not see it
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import json\n")
    (tmp_path / "ui.py").write_text("import no_such_module_here\n")
    (tmp_path / "pages" / "1_Broken.py").write_text("def (:\n")
    assert serve.page_imports(tmp_path) == ["json", "no_such_module_here"]
    assert serve.warm(tmp_path) == ["no_such_module_here"]


def test_the_server_takes_its_pages_from_st_navigation_from_the_first_visit(monkeypatch) -> None:
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    serve.navigation_only()
    assert PagesManager.uses_pages_directory is False  # a first visit to /Simulator runs app.py around the page
