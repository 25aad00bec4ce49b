"""The keeper compiled to C with mypyc, used when it was built from the sources as they are now.

The budget keeper (``budget/keeper/``, all but its ``__init__``; with ``intake``,
the per-record loops of the alert import) is plain, fully typed Python; mypyc
(part of mypy) compiles those modules into C extensions that run the same code
three to four times as fast. The compiled modules are an
optional build product, never a second implementation:

- ``python -m budget.native build`` compiles them into ``budget/keeper/_native/``
  (``make run`` and ``make test`` do it; it needs a C compiler and mypy) and
  writes a stamp: the digest of the sources it compiled and of the Python it ran on.
- ``budget.keeper`` loads them only if that stamp matches the sources and the
  Python of this process (:func:`engine_path`). A keeper module edited since the
  build, a build for another Python, no build at all, or ``BUDGET_ENGINE=python``
  in the environment: the modules run as Python, with the same results.
- The build compiles floats as Python computes them (``-ffp-contract=off``: no
  fused multiply-add), and ``tests/test_native.py`` holds the compiled keeper's
  outputs byte for byte to the Python keeper's.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

KEEPER = Path(__file__).resolve().parent / "keeper"
NATIVE = KEEPER / "_native"
STAMP = "STAMP"
GROUP = "budget_keeper"  # the shared library: budget_keeper__mypyc.<abi>.so at the top of _native/
ENV = "BUDGET_ENGINE"  # "python": never load the compiled keeper


def sources() -> list[Path]:
    """The keeper modules that are compiled: every one but the package's ``__init__``."""
    return sorted(p for p in KEEPER.glob("*.py") if p.name != "__init__.py")


def digest() -> str:
    """What a build must match: the compiled modules' sources, this build recipe and the Python running
    (its version and the suffix of its extension modules, which names the platform)."""
    h = hashlib.sha256()
    h.update(f"{sys.implementation.cache_tag} {sys.version} {sysconfig.get_config_var('EXT_SUFFIX')}\n".encode())
    for path in [Path(__file__).resolve(), *sources()]:
        h.update(f"{path.name}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def built() -> bool:
    """Whether ``_native/`` holds a build of the sources as they are now, for this Python."""
    try:
        return (NATIVE / STAMP).read_text().strip() == digest()
    except OSError:
        return False


def engine_path() -> list[str]:
    """The folders to put before ``budget.keeper``'s own on its ``__path__``: the build's, or none.

    Called once, by ``budget/keeper/__init__.py``, before any keeper module is imported.
    """
    if os.environ.get(ENV, "").strip().lower() == "python" or not built():
        return []
    lib = str(NATIVE)
    if lib not in sys.path:
        sys.path.append(lib)  # the modules' shared library is a top-level module
    try:
        importlib.import_module(f"{GROUP}__mypyc")
    except ImportError:  # a build this process cannot load (damaged, or its runtime missing): run as Python
        sys.path.remove(lib)
        return []
    return [str(NATIVE / "budget" / "keeper")]


def engine() -> str:
    """Which keeper this process runs: ``compiled`` or ``python``.

    ``budget.keeper`` puts :func:`engine_path` first on its ``__path__``: the compiled modules are used
    exactly when it names a folder (this module sits below the keeper and never imports it).
    """
    return "compiled" if engine_path() else "python"


def build(quiet: bool = True) -> str:
    """Compile the keeper into ``_native/`` unless the build there is current; returns what it did.

    Builds in a fresh folder beside ``_native/`` and moves it into place only when the
    whole build succeeded, stamp last: a failed or interrupted build leaves the one
    before it (or none), never a half-built one.
    """
    if built():
        (NATIVE / STAMP).touch()  # newer than the sources: make's rule for it is satisfied
        return "the compiled keeper is up to date"
    compiler = os.environ.get("CC", "cc").split()[0]
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C compiler ({compiler}) on PATH")
    from mypyc.build import mypycify  # noqa: PLC0415 (only the build needs mypy)
    from setuptools import Distribution  # noqa: PLC0415

    print(
        "budget.native: compiling the keeper with mypyc (once per change of its sources; under a minute)",
        file=sys.stderr,
    )
    stamp = digest()
    work = Path(tempfile.mkdtemp(prefix="_native.", dir=KEEPER))
    root = work / "src"
    old_cwd = os.getcwd()
    old_cflags = os.environ.get("CFLAGS")
    try:
        # mypyc reads the package from a copy of its sources: the same for a checkout and an installed copy
        # (type-checking inside site-packages would take every installed module for the project's own)
        ignore = shutil.ignore_patterns("__pycache__", "_native*", "*.so")
        shutil.copytree(KEEPER.parent, root / "budget", ignore=ignore)
        os.chdir(root)  # mypyc names a module by its path from here
        os.environ["CFLAGS"] = f"{old_cflags or ''} -ffp-contract=off".strip()
        paths = [str(p.relative_to(KEEPER.parent.parent)) for p in sources()]
        modules = mypycify(paths, opt_level="3", group_name=GROUP, target_dir=str(work / "c"), verbose=not quiet)
        dist = Distribution({"name": "budget-keeper-native", "ext_modules": modules})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = str(work / "lib")  # type: ignore[attr-defined]
        cmd.build_temp = str(work / "tmp")  # type: ignore[attr-defined]
        cmd.parallel = os.cpu_count() or 1  # type: ignore[attr-defined]
        dist.verbose = 0 if quiet else 1  # type: ignore[attr-defined]
        dist.run_command("build_ext")
        (work / "lib" / STAMP).write_text(stamp + "\n")
        _install(work / "lib", work / "before")
    finally:
        os.chdir(old_cwd)
        if old_cflags is None:
            os.environ.pop("CFLAGS", None)
        else:
            os.environ["CFLAGS"] = old_cflags
        shutil.rmtree(work, ignore_errors=True)
    return f"compiled the keeper ({len(paths)} modules) into {NATIVE}"


def _install(lib: Path, aside: Path) -> None:
    """Put a finished build in place: the build before it is moved aside first (and removed with the
    build's folder), each move a rename. Another build of the same sources that got there first is as good."""
    try:
        if NATIVE.exists():
            NATIVE.rename(aside)
        lib.rename(NATIVE)
    except OSError:
        if not built():
            raise


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["build"], ["build", "--verbose"], ["status"]):
        print("usage: python -m budget.native build [--verbose] | status", file=sys.stderr)
        return 2
    if args[0] == "status":
        print("compiled keeper: " + ("built, up to date" if built() else "not built for these sources"))
        return 0
    try:
        print(build(quiet="--verbose" not in args))
    except (Exception, SystemExit) as e:  # noqa: BLE001 (any failure of the build, mypyc's exit included)
        reason = " ".join(str(e).split()) or type(e).__name__
        if isinstance(e, SystemExit):
            reason = "mypyc stopped with the errors above"
        print(f"budget.native: the keeper stays Python (the build failed: {reason[:300]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
