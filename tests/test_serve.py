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


def test_the_rehearsal_sees_what_each_pages_first_view_shows(tmp_path: Path, monkeypatch) -> None:
    """Each page's URL path gets the kinds of element its first view shows, the sidebar's included, and the
    code of each is found in Streamlit's bundle (a Streamlit that names them otherwise fails here: the pages
    would still work, only slower)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("BUDGET_WORKBENCH_DB", str(tmp_path / "workbench.sqlite"))
    monkeypatch.setattr(serve, "SHOWN", {})
    assert serve.rehearse() == []
    pages = {serve.url_paths(p.name)[0] for p in (ROOT / "pages").glob("*.py")}
    assert set(serve.SHOWN) == pages | {""}
    assert {"Spec_editor", "Live_keeper", "Home"} <= pages  # "1_Spec_editor.py" -> /Spec_editor
    for path, kinds in serve.SHOWN.items():
        assert {"text_input", "selectbox"} <= set(kinds), path  # the sidebar's learner and current spec
    assert {"dataframe", "vega_lite_chart"} <= set(serve.SHOWN["Compare"])
    assert "dataframe" not in serve.SHOWN["Workbook"]
    files = serve.element_files(_streamlit_static())
    for kind in sorted({k for kinds in serve.SHOWN.values() for k in kinds}):
        if kind in {"text_input", "selectbox", "dataframe", "vega_lite_chart", "code", "number_input", "radio"}:
            assert files.get(serve.element_code(kind)), kind


def test_each_page_announces_the_code_of_what_it_shows_and_nothing_twice() -> None:
    static = _streamlit_static()
    html = (static / "index.html").read_text(encoding="utf-8")
    shown = {"": ("text_input", "title"), "Compare": ("dataframe", "text_input", "vega_lite_chart")}
    preloads = serve.page_preloads(serve.element_files(static), shown)
    assert any(n.startswith("TextInput.") for n in preloads[""])
    assert not any(n.startswith(("DataFrame.", "ArrowVegaLiteChart.")) for n in preloads[""])
    for element in ("TextInput", "DataFrame", "ArrowVegaLiteChart"):
        assert any(n.startswith(f"{element}.") for n in preloads["Compare"]), element
    for names in preloads.values():
        assert len(set(names)) == len(names)
        for name in names:
            assert (static / "static" / "js" / name).is_file(), name
            assert f"/{name}" not in html  # only what Streamlit's own head does not load already
    assert any("MaterialSymbols-Rounded" in link for link in serve.font_links(static))  # the icons' font


def test_the_served_head_adds_the_script_and_font_and_every_other_file_is_streamlits(
    monkeypatch, tmp_path: Path
) -> None:
    from streamlit import file_util

    static = _streamlit_static()
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(static))
    shown = {"": ("text_input",), "Compare": ("dataframe",)}
    folder = serve.announce_elements(shown)
    assert folder is not None and file_util.get_static_dir() == str(folder)
    served = (folder / "index.html").read_text(encoding="utf-8")
    script = serve.head_script(serve.page_preloads(serve.element_files(static), shown), "", serve.host_config())
    fonts = "\n".join(serve.font_links(static)) + "\n"
    assert served.replace(script + "\n", "", 1).replace(fonts, "", 1) == (static / "index.html").read_text(
        encoding="utf-8"
    )
    assert served.index(script) == served.index("<script")  # the first script: before Streamlit's code reads it
    others = sorted(p.name for p in folder.iterdir() if p.name != "index.html")
    assert others == sorted(p.name for p in static.iterdir() if p.name != "index.html")
    assert all((folder / name).resolve() == (static / name).resolve() for name in others)


def test_the_head_script_names_this_server_as_its_own_route_would() -> None:
    """The settings the page is given are the ones /_stcore/host-config answers; nothing closes the script."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient
    from streamlit.web.server.starlette.starlette_routes import create_host_config_routes

    client = TestClient(Starlette(routes=create_host_config_routes(None)))
    assert client.get("/_stcore/host-config").json() == serve.host_config()
    script = serve.head_script({"": ["</script>.js"]}, "/base", serve.host_config())
    assert script.count("</script>") == 1 and script.endswith("</script>")
    assert '"base":"/base"' in script


def test_a_streamlit_of_another_layout_is_served_as_it_is(monkeypatch, tmp_path: Path) -> None:
    from streamlit import file_util

    (tmp_path / "index.html").write_text("<html><head></head><body></body></html>")
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(tmp_path))
    assert serve.element_files(tmp_path) == {}
    assert serve.announce_elements({"": ("text_input",)}) is None
    assert file_util.get_static_dir() == str(tmp_path)
