"""The architecture is checked, not only drawn: import contracts (``make lint``) and the shell's imports.

docs/architecture.md draws the packages and the imports each may make; ``pyproject.toml``'s
``[tool.importlinter]`` writes the same down for ``lint-imports``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
ENGINE = ("files", "model", "keeper", "gateway", "drill", "calibration", "traffic", "workbench")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    """The package and its contracts in a folder of their own, where an import can be broken on purpose."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "budget", tmp_path / "budget", ignore=shutil.ignore_patterns("_native*", "__pycache__"))
    return tmp_path


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed in this environment")
def test_the_contracts_hold_for_the_package_as_it_is(tmp_path: Path):
    proc = _lint(_copy(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "BROKEN" not in proc.stdout and "Contracts: 3 kept, 0 broken." in proc.stdout


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed in this environment")
@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        # the model reaching up into the drill: a layer broken
        ("budget/model/units.py", "from budget.drill import load_alerts", "budget.model.units -> budget.drill"),
        # the input layer importing the model
        ("budget/files/text.py", "from budget.model import load_spec", "budget.files.text -> budget.model"),
        # the engine importing Streamlit
        ("budget/workbench/charts.py", "import streamlit", "budget.workbench.charts -> streamlit"),
    ],
)
def test_a_broken_import_fails_lint(tmp_path: Path, module: str, line: str, expected: str):
    root = _copy(tmp_path)
    path = root / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    proc = _lint(root)
    assert proc.returncode == 1
    assert "BROKEN" in proc.stdout and expected in proc.stdout


def _shell_imports() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "app.py", ROOT / "ui.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.module))
            elif isinstance(node, ast.Import):
                found.extend((path.name, a.name) for a in node.names)
    return found


def test_the_pages_use_only_the_public_names_of_the_engine():
    """Pages and ui.py import a package's names from the package (its ``__init__``), never a module inside it."""
    allowed = {"budget.errors", *(f"budget.{p}" for p in ENGINE)}
    wrong = [(f, m) for f, m in _shell_imports() if m.startswith("budget") and m not in allowed]
    assert not wrong, f"the app reaches past a package's public names: {wrong}"
    assert not [(f, m) for f, m in _shell_imports() if m.startswith("budget.cli")]


def test_every_public_name_is_importable_and_documented():
    import importlib

    for name in ENGINE:
        package = importlib.import_module(f"budget.{name}")
        assert package.__doc__ and "May import" in package.__doc__ or name == "keeper", name
        for public in package.__all__:
            assert getattr(package, public) is not None, f"budget.{name}.{public}"


def test_the_workbench_finds_the_shipped_inputs_without_being_told(monkeypatch: pytest.MonkeyPatch):
    """``make run`` sets no BUDGET_WORKBENCH_ROOT: the pages must find specs/ and scenarios/ from the package."""
    from budget.workbench import library

    monkeypatch.delenv("BUDGET_WORKBENCH_ROOT", raising=False)
    assert library.root() == ROOT
    assert (library.specs_dir() / library.DEFAULT_SPEC).is_file()
    assert (library.scenarios_dir() / library.DEFAULT_SCENARIO).is_file()
