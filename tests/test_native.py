"""The compiled keeper (budget/native.py): used only when built from the sources as they are, and byte for byte
the Python keeper's results."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import budget.native as native

ROOT = Path(__file__).resolve().parents[1]

# one process runs a batch of the keeper's work and prints every result: drills (with the review's evidence),
# scenarios under each routing policy and recovery, an import of odd alert lines, a small sweep with the gateway's
# checks
BATCH = r"""
import json, random, sys
from pathlib import Path
from budget.drill.alerts import load_alerts
from budget.calibration.calibrate import calibrate, grid
from budget.drill.replay import run_drill
from budget.gateway.gate import load_checks
from budget.keeper import simulate
from budget.native import engine
from budget.model.scenario import load_scenario, scenario_from_dict
from budget.model.spec import load_spec

print(engine())
day, _ = load_alerts("scenarios/alerts_day_800.jsonl")
specs = sorted(Path("specs").glob("*.yaml"))
for path in specs:
    spec = load_spec(path)
    print(path.name, json.dumps(run_drill(spec, day, outages=(15, 45), evidence=True).to_dict(), sort_keys=True))
for sc in sorted(Path("scenarios").glob("*.json")):
    scenario = load_scenario(sc)
    for recovery in ("instant", "immediate", "staged"):
        for policy in ("ranked", "all_to_frontier", "hold_all", "close_silently"):
            one = scenario.model_copy(update={"recovery": recovery})
            print(sc.name, recovery, policy, simulate(load_spec(specs[0]), one, routing=policy).to_json())
rng = random.Random(7)  # and scenarios drawn at random, the same draws in both processes
for n in range(40):
    spec = load_spec(rng.choice(specs))
    doc = {"down_tier": rng.choice(spec.tiers), "start": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
           "duration_min": rng.randint(1, 240), "queue": rng.randint(1, 150), "seed": rng.randrange(1000),
           "manual_timeout_sec": rng.choice([1, 30, 60, 120, 600]),
           "recovery": rng.choice(["instant", "immediate", "staged"])}
    policy = rng.choice(["ranked", "all_to_frontier", "hold_all", "close_silently"])
    print("random", n, simulate(spec, scenario_from_dict(doc, spec), routing=policy).to_json())
from budget.drill.alerts import import_alerts  # the intake: odd and broken lines read as the strict reader reads them
from tests.intake_lines import random_lines
incidents, report = import_alerts("\n".join(random_lines(random.Random(3), 2000)), "odd.jsonl")
print(repr(incidents), report.to_dict())
base = load_spec("specs/payment_gateway_80_20_mid.yaml")
rows = calibrate(base, day, grid([0.05, 0.2], [700_000, 3_000_000], [60, 120], [0.6, 0.65]),
                 checks=load_checks("specs/validation/budget_gate.yaml"), workers=1)
print(repr(rows))
"""


def _batch(engine: str) -> str:
    env = dict(os.environ)
    env.pop(native.ENV, None)
    if engine == "python":
        env[native.ENV] = "python"
    done = subprocess.run(
        [sys.executable, "-c", BATCH], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True
    )
    return done.stdout


def test_the_compiled_keeper_is_built_and_in_use():
    """`make test` builds it: the tests run the keeper a user of `make run` gets."""
    if os.environ.get(native.ENV, "").lower() == "python":
        pytest.skip("BUDGET_ENGINE=python: this run tests the keeper as Python")
    assert native.built(), "the compiled keeper is not built for these sources: python -m budget.native build"
    assert native.engine() == "compiled"


def test_compiled_and_python_keepers_give_the_same_bytes():
    compiled, python = _batch("compiled"), _batch("python")
    assert compiled.splitlines()[0] == "compiled"
    assert python.splitlines()[0] == "python"
    assert len(compiled.splitlines()) > 80
    assert compiled.splitlines()[1:] == python.splitlines()[1:]


def _copy_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "budget", tmp_path / "budget", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _engine_of(copy: Path, **env: str) -> str:
    code = "from budget.native import engine; print(engine())"
    run_env = {k: v for k, v in os.environ.items() if k not in (native.ENV, "PYTHONPATH")} | env
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=copy, env=run_env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not native.built(), reason="needs the compiled keeper (python -m budget.native build)")
def test_a_keeper_module_edited_since_the_build_runs_as_python(tmp_path):
    copy = _copy_package(tmp_path)
    assert _engine_of(copy) == "compiled"  # a copy of the sources and their build: still current
    assert _engine_of(copy, BUDGET_ENGINE="python") == "python"
    work = copy / "budget" / "keeper" / "work.py"
    work.write_text(work.read_text() + "\n# edited after the build\n")
    assert _engine_of(copy) == "python"  # the build no longer matches: the edited module runs as written


def test_a_failed_build_keeps_the_build_before_it_and_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    keeper = tmp_path / "keeper"
    keeper.mkdir()
    (keeper / "work.py").write_text("x = 1\n")
    (keeper / "_native").mkdir()
    (keeper / "_native" / native.STAMP).write_text("an older build\n")
    monkeypatch.setattr(native, "KEEPER", keeper)
    monkeypatch.setattr(native, "NATIVE", keeper / "_native")
    monkeypatch.setenv("CC", "no-such-compiler-here")
    assert native.main(["build"]) == 0  # the keeper runs as Python: not an error of the command
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the keeper stays Python" in err and "no C compiler (no-such-compiler-here)" in err
    assert sorted(p.name for p in keeper.iterdir()) == ["_native", "work.py"]  # nothing half-built left
    assert (keeper / "_native" / native.STAMP).read_text() == "an older build\n"
    assert not native.built()


def test_usage_errors_exit_2(capsys):
    assert native.main(["compile"]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m budget.native")


def test_a_build_that_fails_midway_leaves_no_half_built_folder(tmp_path, monkeypatch, capsys):
    import mypyc.build

    keeper = tmp_path / "keeper"
    keeper.mkdir()
    (keeper / "work.py").write_text("x = 1\n")
    monkeypatch.setattr(native, "KEEPER", keeper)
    monkeypatch.setattr(native, "NATIVE", keeper / "_native")
    monkeypatch.setenv("CC", "true")

    def fails(*args, **kwargs):
        raise RuntimeError("error: the C compiler failed\n  (details)")

    monkeypatch.setattr(mypyc.build, "mypycify", fails)
    cwd = os.getcwd()
    assert native.main(["build"]) == 0
    assert "the build failed: error: the C compiler failed (details)" in capsys.readouterr().err
    assert sorted(p.name for p in keeper.iterdir()) == ["work.py"]
    assert os.getcwd() == cwd and os.environ.get("CFLAGS", "").find("-ffp-contract=off") == -1


def test_an_installed_copy_has_every_package_of_the_workbench():
    """A wheel (what a Dask worker installs) holds the keeper subpackage, not only `budget` itself."""
    import tomllib

    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = set(find_packages(str(ROOT), include=include))
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".") for p in (ROOT / "budget").rglob("__init__.py")}
    assert "budget.keeper" in on_disk
    assert packages == on_disk


def test_a_new_build_replaces_the_one_before_by_renames(tmp_path, monkeypatch):
    keeper = tmp_path / "keeper"
    keeper.mkdir()
    (keeper / "work.py").write_text("x = 1\n")
    monkeypatch.setattr(native, "KEEPER", keeper)
    monkeypatch.setattr(native, "NATIVE", keeper / "_native")
    (keeper / "_native").mkdir()
    (keeper / "_native" / native.STAMP).write_text("an older build\n")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / native.STAMP).write_text(native.digest() + "\n")
    native._install(lib, tmp_path / "before")
    assert native.built()
    assert (tmp_path / "before" / native.STAMP).read_text() == "an older build\n"
    assert not lib.exists()


@pytest.mark.skipif(not native.built(), reason="needs the compiled keeper (python -m budget.native build)")
def test_a_build_that_cannot_be_loaded_leaves_the_keeper_python(tmp_path):
    copy = _copy_package(tmp_path)
    (lib,) = (copy / "budget" / "keeper" / "_native").glob(f"{native.GROUP}__mypyc*")
    lib.write_bytes(b"not a shared library")  # the stamp still matches the sources
    assert _engine_of(copy) == "python"
    code = "from budget.keeper import simulate; print(simulate.__module__)"
    env = {k: v for k, v in os.environ.items() if k not in (native.ENV, "PYTHONPATH")}
    done = subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "budget.keeper.simulate", done.stderr
