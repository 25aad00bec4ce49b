"""Start the workbench (``make run``): import what the pages use, then serve app.py with Streamlit.

The pages' libraries (pydantic, yaml, pandas, altair and the engine) take more than a second to import on
a 2-core machine. Streamlit imports a page's modules only when a browser first asks for that page, so the
learner's first visit would wait for them; imported here, before the server answers, they are ready.
The modules are the ones app.py, ui.py and pages/*.py import at their top level (read from their source,
so a new page needs nothing here).

Run: .venv/bin/python scripts/serve.py [streamlit options], e.g. --server.port 8502
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def main(argv: list[str]) -> int:
    os.chdir(ROOT)  # .streamlit/config.toml and the pages' relative paths
    warm()
    navigation_only()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    return int(cli.main() or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
