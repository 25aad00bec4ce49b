"""Fuzzing the CLI in-process: strategies for hostile files and flags, and the contract every run must keep.

The contract (what a user, or the held-out corpus, checks on every bad input):
no exception escapes ``budget.cli.main``; a failed run exits 1 or 2 with at most
3 lines on stderr that name an input (a file or a flag); no traceback and no
"internal error"; and no file in the work folder is created, changed or removed.

``FUZZ_EXAMPLES`` sets the examples per test (default small, for ``make test``);
with it set, generation is random rather than derandomized, to find new cases.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from budget.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=not EXAMPLES,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- values --------------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "9" * 5000,
    "0x10",
    "true",
    "null",
    "1_000",
    "\x00",
    "a\nb",
    "a\rb",
    "a\u2028b",
    "x\u0085",
    "```",
    "## heading",
    "\ufeff",
    "\udcff",
    "2026-02-30T10:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "1e20",
    "-5",
    "0",
    "45m",
    "25:99",
    "P1",
]
NASTY_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    10**18,
    10**19,
    10**400,
    -(10**30),
    0.5,
    -0.0,
    1e308,
    1e-320,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    1e20,
    2**63,
]

texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=30))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(NASTY_NUMBERS),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON-like value (the root included)."""
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(paths_of(v, (*prefix, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(paths_of(v, (*prefix, i)))
    return out


def replaced(data: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = new if not rest else replaced(data[head], rest, new, delete)
        return copy
    copy_list = list(data)
    if delete and not rest:
        copy_list.pop(head)
    else:
        copy_list[head] = replaced(data[head], rest, new, delete)
    return copy_list


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one to three values replaced by arbitrary ones (or deleted, or a key added)."""
    data = base
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(data)))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete" and path:
            data = replaced(data, path, None, delete=True)
        elif action == "add":
            target = path if path and isinstance(_at(data, path), dict) else ()
            if isinstance(_at(data, target), dict):
                data = replaced(data, (*target, draw(texts)), draw(values))
            else:
                data = replaced(data, path, draw(values))
        else:
            data = replaced(data, path, draw(values))
    return data


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=1, allow_nan=True, ensure_ascii=False, default=str)


def dump_yaml(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, TypeError):
        return dump_json(data)  # JSON is YAML


@st.composite
def file_bytes(draw: st.DrawFn, base_text: str, base_data: Any, kind: str) -> bytes:
    """A hostile version of an input file: raw bytes, a cut or spliced copy, or a mutated document."""
    how = draw(st.sampled_from(["mutate", "mutate", "mutate", "bytes", "cut", "splice", "value"]))
    if how == "bytes":
        return draw(st.binary(max_size=300))
    if how == "cut":
        raw = base_text.encode()
        return raw[: draw(st.integers(0, len(raw)))]
    if how == "splice":
        raw = base_text.encode()
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(NASTY_TEXT)).encode("utf-8", "surrogatepass") + raw[at:]
    data = draw(values) if how == "value" else draw(mutated(base_data))
    text = dump_yaml(data) if kind == "yaml" else dump_json(data)
    return text.encode("utf-8", "surrogatepass")


# --- running -------------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_main(argv: list[str]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)  # must never raise
    return Outcome(code, out.getvalue(), err.getvalue())


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder under ``folder``: content (None for folders) and mode."""
    snap: dict[str, tuple[bytes | None, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            p = Path(dirpath) / d
            snap[str(p.relative_to(folder))] = (None, p.lstat().st_mode)
        for f in filenames:
            p = Path(dirpath) / f
            st_ = p.lstat()
            data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            snap[str(p.relative_to(folder))] = (data, st_.st_mode)
    return snap


@contextlib.contextmanager
def workfolder(files: dict[str, bytes | str] | None = None) -> Iterator[Path]:
    """A scratch folder with the shipped specs/ and scenarios/ and the given extra files."""
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        shutil.copytree(ROOT / "specs", tmp / "specs")
        shutil.copytree(ROOT / "scenarios", tmp / "scenarios")
        for name, content in (files or {}).items():
            p = tmp / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_contract(argv: list[str], folder: Path, names: list[str], verdict_writes: bool = False) -> Outcome:
    """Run ``argv`` in-process and assert the contract; ``names`` are what an error may name.

    A run that exits 1 with nothing on stderr is a verdict (a check that did not
    hold, reported on stdout); only commands whose verdict is their output
    (``verdict_writes``: the drill) may write files then.
    """
    before = snapshot(folder)
    result = run_main(argv)
    assert result.code in (0, 1, 2), (argv, result)
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, (argv, result.stderr)
    if result.code == 0:
        return result
    lines = result.stderr.splitlines()
    verdict = result.code == 1 and not lines
    if verdict:
        said = ("FAIL", "below", "review", "records skipped")  # a verdict says why it is one
        assert any(word in result.stdout for word in said), (argv, result)
    else:
        assert len(lines) <= 3, (argv, result.stderr)
        flags = [a for a in argv if a.startswith("--")]
        assert any(n and n in result.stderr for n in [*names, *flags, "query"]), (argv, result.stderr)
    if not (verdict and verdict_writes):
        after = snapshot(folder)
        assert after == before, (argv, result, sorted(set(after) ^ set(before)))
    return result
