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


def test_the_rehearsal_runs_every_page_without_touching_a_learners_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    learners = tmp_path / "workbench.sqlite"
    monkeypatch.setenv("BUDGET_WORKBENCH_DB", str(learners))
    assert serve.rehearse() == []  # every shipped page ran to its end
    assert not learners.exists()  # the rehearsal kept its current spec in a scratch database, since removed
    assert serve.os.environ["BUDGET_WORKBENCH_DB"] == str(learners)


def test_a_page_that_fails_its_rehearsal_is_named_and_the_rest_still_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("BUDGET_WORKBENCH_DB", raising=False)
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text(
        "import streamlit as st\n"
        "st.navigation([st.Page('pages/1_Bad.py'), st.Page('pages/2_Good.py')]).run()\n"
        "import os\nopen(os.environ['BUDGET_WORKBENCH_DB'], 'a').close()\n"  # where the page's work would go
    )
    (tmp_path / "pages" / "1_Bad.py").write_text("raise RuntimeError('broken')\n")
    (tmp_path / "pages" / "2_Good.py").write_text("import streamlit as st\nst.title('good')\n")
    assert serve.rehearse(tmp_path) == ["app.py", "pages/1_Bad.py"]  # app.py opens on its first page, the bad one
    assert "BUDGET_WORKBENCH_DB" not in serve.os.environ  # put back as it was: unset


def test_after_the_rehearsal_the_first_visit_to_compare_runs_no_simulation(tmp_path: Path, monkeypatch) -> None:
    """Compare's chapter, policy and return runs are in its st.cache_data before the first visitor arrives."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import budget.workbench

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("BUDGET_WORKBENCH_DB", str(tmp_path / "workbench.sqlite"))

    def no_simulation(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the first visit simulated")

    def first_visit_to_compare() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/3_Compare.py")
        with monkeypatch.context() as m:
            m.setattr(budget.workbench, "run_variants", no_simulation)
            return at.run()

    st.cache_data.clear()
    assert first_visit_to_compare().exception  # without the rehearsal the first visit simulates
    st.cache_data.clear()
    assert serve.rehearse() == []
    at = first_visit_to_compare()
    assert not at.exception, [e.value for e in at.exception]
    assert "10M, 45 min" in str(at.dataframe[0].value["variant"].tolist())


def test_the_heap_left_after_start_up_is_frozen_out_of_garbage_collection() -> None:
    import gc

    try:
        serve.freeze()
        assert gc.get_freeze_count() > 10_000  # the imported libraries' objects at least
    finally:
        gc.unfreeze()


def test_no_script_relies_on_streamlit_magic_which_the_config_turns_off() -> None:
    """.streamlit/config.toml sets runner.magicEnabled = false: a bare expression would show nothing."""
    import ast
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
    bare = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:  # the scripts Streamlit runs
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for block in ("body", "orelse", "finalbody"):
                statements = getattr(node, block, None)
                for i, stmt in enumerate(statements if isinstance(statements, list) else []):
                    if not isinstance(stmt, ast.Expr) or isinstance(stmt.value, (ast.Call, ast.Await, ast.Yield)):
                        continue
                    docstring = isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                    if docstring and i == 0 and isinstance(stmt.value, ast.Constant):
                        continue  # a docstring: magic leaves it out too
                    bare.append(f"{path.name}:{stmt.lineno}")
    assert not bare, bare


def _streamlit_static() -> Path:
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def test_the_pages_elements_code_is_announced_in_the_head() -> None:
    """Each element the pages show (the sidebar's widgets, code, charts, tables) has its code announced in
    the page's head with what it imports, so the browser compiles it while it starts up; a Streamlit whose
    bundle names them otherwise makes this fail (the pages would still work, only slower)."""
    static = _streamlit_static()
    html = (static / "index.html").read_text(encoding="utf-8")
    links = serve.preload_links(static)
    hrefs = [link.split('href="')[1].split('"')[0] for link in links]
    for element in serve.PRELOADED_ELEMENTS:
        assert any(h.startswith(f"./static/js/{element}.") for h in hrefs), element
    assert any("MaterialSymbols-Rounded" in h for h in hrefs)  # the icons' font
    assert len(set(hrefs)) == len(hrefs)
    for href in hrefs:
        assert (static / href).is_file(), href
        assert f'href="{href}"' not in html  # only what Streamlit's own head does not announce already


def test_the_served_head_announces_them_and_every_other_file_is_streamlits(monkeypatch, tmp_path: Path) -> None:
    from streamlit import file_util

    static = _streamlit_static()
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(static))
    folder = serve.announce_elements()
    assert folder is not None and file_util.get_static_dir() == str(folder)
    served = (folder / "index.html").read_text(encoding="utf-8")
    assert served.replace("\n".join(serve.preload_links(static)) + "\n", "") == (static / "index.html").read_text(
        encoding="utf-8"
    )
    others = sorted(p.name for p in folder.iterdir() if p.name != "index.html")
    assert others == sorted(p.name for p in static.iterdir() if p.name != "index.html")
    assert all((folder / name).resolve() == (static / name).resolve() for name in others)


def test_a_streamlit_of_another_layout_is_served_as_it_is(monkeypatch, tmp_path: Path) -> None:
    from streamlit import file_util

    (tmp_path / "index.html").write_text("<html><head></head><body></body></html>")
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(tmp_path))
    assert serve.preload_links(tmp_path) == []
    assert serve.announce_elements() is None
    assert file_util.get_static_dir() == str(tmp_path)
