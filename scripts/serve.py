"""Start the workbench (``make run``): import what the pages use, then serve app.py with Streamlit.

The pages' libraries (pydantic, yaml, pandas, altair and the engine) take more than a second to import on
a 2-core machine. Streamlit imports a page's modules only when a browser first asks for that page, so the
learner's first visit would wait for them; imported here, before the server answers, they are ready.
The modules are the ones app.py, ui.py and pages/*.py import at their top level (read from their source,
so a new page needs nothing here).

Importing is not all a first visit waits for: the first time a page runs in a process, pandas, pyarrow,
altair's schema validation, the YAML and pydantic readers and Streamlit itself each pay a one-time set-up, and
the page's cached runs (Compare's twelve simulations) are computed. So every page is also run once here, in
this process, before the server answers (a rehearsal: Streamlit's AppTest, on a scratch workbench database
so that no learner's work is read or written); the objects that survive it are then frozen out of the
garbage collector's passes, which Streamlit runs after every page run.

The browser's share is announced too: Streamlit's page, as served here, names in its head the code of the
elements each page's first view shows (the rehearsal saw them), which the browser would otherwise fetch
and compile one after the other once the page's script had run, and it names the server, so the browser
connects at once (a Streamlit whose bundle is laid out otherwise is served as it is).

Run: .venv/bin/python scripts/serve.py [streamlit options], e.g. --server.port 8502
"""

from __future__ import annotations

import ast
import gc
import importlib
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DB_ENV = "BUDGET_WORKBENCH_DB"  # budget.workbench's database path (read when a page opens the learner's work)
REHEARSAL_S = 30.0  # pages not rehearsed by then are left for their first visit (a slow machine still starts)


def page_imports(root: Path = ROOT) -> list[str]:
    """The modules the app's scripts import at their top level, sorted, without duplicates."""
    names: set[str] = set()
    for path in [root / "app.py", root / "ui.py", *sorted((root / "pages").glob("*.py"))]:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, SyntaxError, ValueError):
            continue  # the page shows its own error when it runs
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
                names.add(node.module)
    return sorted(names)


def warm(root: Path = ROOT) -> list[str]:
    """Import the pages' modules; the ones that fail are left for their page to report (returned)."""
    sys.path.insert(0, str(root))
    failed = []
    for name in [*page_imports(root), "pandas", "altair"]:  # ui imports the table and chart libraries late
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a head start only: the page that needs it says what is wrong
            failed.append(name)
    return failed


def rehearse(root: Path = ROOT, budget_s: float = REHEARSAL_S) -> list[str]:
    """Run app.py and then each page once, as a visitor would, before the first visitor; return the pages
    that failed (each says what is wrong when it is visited).

    What a page's first run pays once per process is paid here: the libraries' first use (pandas' string
    arrays, the Arrow conversion of a table, altair's schema validation, the Spec editor's table styling,
    the spec reader), Streamlit's own (its first element inspects the call stack), and the pages'
    ``st.cache_data`` runs of the shipped specs (Compare's chapter, policy and return variants), which the
    server's sessions then share. The workbench database is a scratch file meanwhile.
    """
    from streamlit.testing.v1 import AppTest

    deadline = time.monotonic() + budget_s
    failed: list[str] = []
    sidebar: tuple[str, ...] = ()
    saved = os.environ.get(DB_ENV)
    logging.disable(logging.WARNING)  # "missing ScriptRunContext": AppTest's set-up has no browser session
    try:
        with tempfile.TemporaryDirectory(prefix="workbench-rehearsal-") as scratch:
            os.environ[DB_ENV] = str(Path(scratch) / "rehearsal.sqlite")
            app = AppTest.from_file(str(root / "app.py"), default_timeout=budget_s)
            for page in [None, *sorted(p.relative_to(root).as_posix() for p in (root / "pages").glob("*.py"))]:
                if time.monotonic() > deadline:
                    break
                try:
                    (app if page is None else app.switch_page(page)).run(timeout=max(1.0, deadline - time.monotonic()))
                except Exception:  # noqa: BLE001 - a head start only: the page that fails says why when visited
                    failed.append(page or "app.py")
                    continue
                if app.exception:
                    failed.append(page or "app.py")
                    continue
                if page is None:  # the sidebar is app.py's, the same on every page (AppTest keeps it from this run)
                    sidebar = shown_kinds(app.sidebar)
                kinds = tuple(sorted(set(shown_kinds(app.main)) | set(sidebar)))
                for path in [""] if page is None else url_paths(page):
                    SHOWN[path] = kinds
    finally:
        if saved is None:
            os.environ.pop(DB_ENV, None)
        else:
            os.environ[DB_ENV] = saved
        logging.disable(logging.NOTSET)
    return failed


SHOWN: dict[str, tuple[str, ...]] = {}  # a page's URL path ("" for the first page) -> what its first view shows


def url_paths(page: str) -> list[str]:
    """The URL paths Streamlit gives a page of pages/ (``pages/1_Spec_editor.py`` -> ``Spec_editor``)."""
    return [re.sub(r"^[0-9]+[_ -]*", "", Path(page).stem) or Path(page).stem]


def shown_kinds(*blocks: Any) -> tuple[str, ...]:
    """The kinds of element (``text_input``, ``dataframe``...) in AppTest's ``blocks`` (its main, its sidebar)."""
    kinds: set[str] = set()
    todo = list(blocks)
    while todo:
        node = todo.pop()
        kind = getattr(node, "type", None)
        if isinstance(kind, str):
            kinds.add(kind)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            todo.extend(children.values())
    return tuple(sorted(kinds))


def freeze() -> None:
    """Leave what is alive now (the libraries, the warmed caches) out of every later garbage collection.

    Streamlit collects garbage after each page run (``runner.postScriptGC``); with the libraries imported
    that pass walks some 150,000 long-lived objects, about 0.12 s after every run on a 2-core machine.
    """
    gc.collect()
    gc.freeze()


def navigation_only() -> None:
    """Pages come from app.py's st.navigation, never from Streamlit's older reading of the pages/ folder.

    Streamlit decides once per server whether the app "uses the pages directory" (a pages/ folder beside
    the main script). Until some session has run app.py's st.navigation, a first visit to /Simulator on a
    just-started server ran pages/2_Simulator.py alone: no sidebar (no current spec, no learner), a page
    list with an "app" entry and no icons. st.navigation sets the same flag to False when it runs; it is
    set here before the first session instead.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


# Streamlit's browser code loads an element's code (with everything it imports) the first time a page
# shows one: the sidebar's text box and select box, the code block's highlighter (1.5 MB), the chart's
# Vega (0.8 MB), the table's grid and Arrow (1.3 MB). Asked for by the page, they are fetched and compiled
# one after the other once the script has run, while the server is busy with the page; announced in the
# page's head, the browser fetches and compiles them while it starts up. Each page announces what its own
# first view shows (the rehearsal saw it): announcing every page's elements on every page costs a page with
# a few widgets more than it saves (Simulator 1.5 -> 1.8 s in a new tab, the table's and chart's code
# compiled for nothing).
ELEMENT_CODE = {  # an element's kind (as AppTest names it) -> its code's name in Streamlit's bundle
    "code": "StreamlitSyntaxHighlighter",
    "vega_lite_chart": "ArrowVegaLiteChart",
    "dataframe": "DataFrame",  # st.dataframe and st.data_editor
    "select_slider": "Slider",
}
PRELOADED_FONTS = ("MaterialSymbols-Rounded",)  # the icons in the page list and on every page


def element_code(kind: str) -> str:
    """The name of the code Streamlit's browser loads for an element of ``kind`` (``text_input`` -> ``TextInput``)."""
    return ELEMENT_CODE.get(kind) or "".join(word.capitalize() for word in kind.split("_"))


def element_files(static: Path) -> dict[str, list[str]]:
    """Each element code the bundle loads on demand -> its file and the files it imports (as Streamlit's own
    bundle lists them), names under static/js; empty for a Streamlit laid out otherwise."""
    html = (static / "index.html").read_text(encoding="utf-8")
    bundles = [p for p in sorted((static / "static" / "js").glob("index.*.js")) if f"/{p.name}" in html]
    if not bundles:
        return {}
    code = bundles[0].read_text(encoding="utf-8")
    table = re.search(r"m\.f=\[([^\]]*)\]", code)
    if table is None:
        return {}
    files = [name.strip().strip('"') for name in table.group(1).split(",")]
    found: dict[str, list[str]] = {}
    for match in re.finditer(
        r"import\(`\./([A-Za-z]+)\.[^`]*`\)(?:\.then\([^)]*\))?,__vite__mapDeps\(\[([0-9,]*)\]\)", code
    ):
        names = [files[int(i)] for i in match.group(2).split(",") if int(i) < len(files)]
        wanted = [
            n[2:]
            for n in names
            if n.startswith("./") and f"/{n[2:]}" not in html and (static / "static" / "js" / n[2:]).is_file()
        ]
        found.setdefault(match.group(1), wanted)
    return found


def font_links(static: Path) -> list[str]:
    """``<link rel=preload>`` tags for the icon font every page shows."""
    links = []
    for font in PRELOADED_FONTS:
        for path in sorted((static / "static" / "media").glob(f"{font}.*.woff2")):
            href = f"./static/media/{path.name}"
            links.append(f'<link rel="preload" href="{href}" as="font" type="font/woff2" crossorigin>')
    return links


def page_preloads(files: dict[str, list[str]], shown: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Each page's URL path -> the files (under static/js) of the elements its first view shows, from
    ``element_files``."""
    preloads: dict[str, list[str]] = {}
    for path, kinds in sorted(shown.items()):
        wanted: list[str] = []
        for kind in kinds:
            for name in files.get(element_code(kind), []):
                if name not in wanted:
                    wanted.append(name)
        preloads[path] = wanted
    return preloads


def host_config() -> dict[str, Any]:
    """What the server's /_stcore/host-config answers (Streamlit's own route, read from the same options)."""
    from streamlit import config

    return {
        "allowedOrigins": list(config.get_option("client.allowedOrigins")),
        "useExternalAuthToken": False,
        "enableCustomParentMessages": False,
        "enforceDownloadInNewTab": False,
        "metricsUrl": "",
        "blockErrorDialogs": False,
        "resourceCrossOriginMode": None,
    }


def head_script(preloads: dict[str, list[str]], base: str, config: dict[str, Any]) -> str:
    """The script put first in the page's head.

    - It names the server (``window.__streamlit``, Streamlit's settings for a page served by a host): the
      browser then opens its connection at once. Otherwise it first asks the page's own path for the
      server's health and settings (/Simulator/_stcore/health: not found), then the root, and only then
      connects: 0.1-0.25 s of every first visit but Home's.
    - It announces the code of the elements the page's first view shows (``modulepreload``), chosen by
      the page's path (the first page's list for a path it does not know).
    """
    import json

    files = sorted({name for names in preloads.values() for name in names})
    at = {name: i for i, name in enumerate(files)}
    index = {path: [at[n] for n in names] for path, names in preloads.items()}
    data = json.dumps({"base": base, "files": files, "pages": index, "host": config}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # nothing in it may close the script
    return (
        "<script>(()=>{const d=" + data + ";"
        "window.__streamlit=Object.assign({BACKEND_BASE_URL:location.origin+d.base,HOST_CONFIG:d.host},"
        "window.__streamlit||{});"
        "let p=location.pathname;if(p.startsWith(d.base))p=p.slice(d.base.length);"
        'p=decodeURIComponent(p).replace(/^\\/+|\\/+$/g,"");'
        'for(const i of d.pages[p]??d.pages[""]??[]){const l=document.createElement("link");'
        'l.rel="modulepreload";l.crossOrigin="";l.href=d.base+"/static/js/"+d.files[i];document.head.appendChild(l)}'
        "})()</script>"
    )


def announce_elements(shown: dict[str, tuple[str, ...]] | None = None) -> Path | None:
    """Serve Streamlit's own static files with the page's head naming the server and announcing each
    page's elements (``head_script``) and the icon font: a folder of links to Streamlit's files whose
    index.html has them (removed when the server stops). None (and Streamlit's files as they are) when
    Streamlit's layout is not the one this knows."""
    import atexit
    import shutil

    from streamlit import config, file_util

    static = Path(file_util.get_static_dir())
    try:
        html = (static / "index.html").read_text(encoding="utf-8")
        files = element_files(static)
        fonts = font_links(static)
    except (OSError, ValueError):
        return None
    if not files or "<head>" not in html or "</head>" not in html:
        return None
    preloads = page_preloads(files, SHOWN if shown is None else shown)
    base = "/" + str(config.get_option("server.baseUrlPath") or "").strip("/")
    script = head_script(preloads, base.rstrip("/"), host_config())
    served = html.replace("<head>", "<head>\n" + script, 1).replace("</head>", "\n".join(fonts) + "\n</head>", 1)
    folder = Path(tempfile.mkdtemp(prefix="workbench-static-"))
    atexit.register(shutil.rmtree, folder, True)
    for entry in static.iterdir():
        if entry.name != "index.html":
            (folder / entry.name).symlink_to(entry)
    (folder / "index.html").write_text(served, encoding="utf-8")
    file_util.get_static_dir = lambda: str(folder)  # read once, when the server sets up its routes
    return folder


def prepare() -> None:
    """Everything before the first visitor: imports, the rehearsal, the frozen heap, the page list, the
    elements' code announced in the page's head."""
    warm()
    rehearse()
    freeze()
    navigation_only()  # after the rehearsal: AppTest resets Streamlit's page-directory flag
    announce_elements()


def main(argv: list[str]) -> int:
    os.chdir(ROOT)  # .streamlit/config.toml and the pages' relative paths
    from streamlit.web import bootstrap, cli

    serve = bootstrap.run

    def prepared_run(*args: Any, **kwargs: Any) -> None:
        # `streamlit run` calls this once it has read its configuration (config.toml and the flags given
        # here) and before it serves: the rehearsal runs under that configuration, so Streamlit never sees
        # it change ("An update to the [server] config option section was detected")
        prepare()
        serve(*args, **kwargs)

    bootstrap.run = prepared_run

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    return int(cli.main() or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
