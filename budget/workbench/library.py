"""What the browser workbench needs from the engine, without Streamlit.

Paths of the shipped inputs, safe saving of a new spec, the plan diff against
the textbook's example, flattening results into tables. The data root is the
repository (or ``$BUDGET_WORKBENCH_ROOT``, which tests point at a scratch copy).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from budget.errors import BudgetError
from budget.files import MAX_INPUT_BYTES, MAX_UPLOAD_BYTES, atomic_write_text, read_text  # noqa: F401 (the pages read it here)
from budget.model import BudgetSpec, plan_json, spec_from_text

DEFAULT_SPEC = "budget_network.yaml"
DEFAULT_SCENARIO = "fail_local_45m.json"
EXAMPLE_PLAN = Path("specs") / "reference" / "budget_plan.example.json"
NOTE_PATH = Path("capstone") / "budget-note.md"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def root() -> Path:
    env = os.environ.get("BUDGET_WORKBENCH_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    return root() / "specs"


def scenarios_dir() -> Path:
    return root() / "scenarios"


def note_path() -> Path:
    return root() / NOTE_PATH


def shipped_specs() -> list[str]:
    """Spec files in specs/ (the default first)."""
    names = sorted(p.name for p in specs_dir().glob("*.yaml"))
    return sorted(names, key=lambda n: (n != DEFAULT_SPEC, n))


def shipped_scenarios() -> list[str]:
    names = sorted(p.name for p in scenarios_dir().glob("*.json"))
    return sorted(names, key=lambda n: (n != DEFAULT_SCENARIO, n))


def read_spec_text(name: str) -> str:
    return read_text(specs_dir() / name, MAX_INPUT_BYTES)


def example_plan_text() -> str | None:
    p = root() / EXAMPLE_PLAN
    return read_text(p, MAX_INPUT_BYTES) if p.exists() else None


def reference_plan_for(spec_name: str) -> Path | None:
    """The shipped reference plan compiled from the spec ``spec_name``, or None when it has none.

    The textbook's example plan is the 10M spec's (budget_network.yaml): diffing another spec (the 5M one,
    a payment-gateway plan) against it lists every line, which says nothing about that spec.
    """
    return EXAMPLE_PLAN if spec_name == DEFAULT_SPEC else None


def plan_diff(spec: BudgetSpec) -> list[str]:
    """Unified diff of the compiled plan against the textbook's example (empty: identical)."""
    expected = example_plan_text()
    if expected is None:
        return ["(the example plan specs/reference/budget_plan.example.json is missing)"]
    got = plan_json(spec)
    return list(
        difflib.unified_diff(
            expected.splitlines(), got.splitlines(), "budget_plan.example.json", "your plan", lineterm=""
        )
    )


def safe_spec_path(name: str) -> Path:
    """specs/<name>.yaml for a plain file name; anything that could leave specs/ is refused."""
    stem = name.strip()
    if stem.endswith((".yaml", ".yml")):
        stem = stem.rsplit(".", 1)[0]
    if not _SAFE_NAME.match(stem) or ".." in stem:
        raise BudgetError(
            f"spec name {name!r}: use letters, digits, _ . - only (like my_team_80_20), no folders, at most 64"
        )
    path = (specs_dir() / f"{stem}.yaml").resolve()
    if path.parent != specs_dir().resolve():
        raise BudgetError(f"spec name {name!r}: must stay inside specs/")
    return path


class SpecExists(BudgetError):
    """A new spec's name is taken: the page asks before it overwrites."""


def _create_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet, all at once: a full temporary file, then a hard link to the name.

    ``os.link`` fails when the name exists, so two sessions saving the same new name cannot both win:
    the second is told, and the first one's file is never half-overwritten.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.link(tmp, path)
    except FileExistsError:
        raise SpecExists(f"specs/{path.name} exists: overwrite it, or save under another name") from None
    except OSError as exc:
        raise BudgetError(f"specs/{path.name}: cannot be written ({exc.strerror})") from None
    finally:
        os.unlink(tmp)


def save_spec(name: str, text: str, overwrite: bool = False) -> Path:
    """Validate ``text`` and write it to specs/<name>.yaml: a new file, or (``overwrite``) atomically replaced."""
    path = safe_spec_path(name)
    spec_from_text(text, path.name)  # never save an invalid spec
    if overwrite:
        atomic_write_text(path, text)
    else:
        _create_new(path, text)
    return path


def decisions_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per incident: where it went, when it was resolved, and the last reason given."""
    rows = []
    for d in result.get("decisions", []):
        decided = [e for e in d["events"] if e["action"] in ("failover", "degraded", "manual")]
        ran = [e for e in d["events"] if e["action"] == "run"]
        why = (decided or ran or d["events"])[-1]["reason"]
        rows.append(
            {
                "id": d["id"],
                "severity": d["severity"],
                "blast_radius": d["blast_radius"],
                "arrival": d["arrival"],
                "route": d["route"],
                "resolved_at": d["resolved_at"] or "open",
                "resolved after (min)": None
                if d.get("time_to_resolve_sec") is None
                else round(d["time_to_resolve_sec"] / 60, 1),
                "reason": why,
                "trail": " → ".join(f"{e['time']} {e['action']}" for e in d["events"]),
            }
        )
    return rows


def red_button_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"time": e["time"], "state": "active" if e["active"] else "cleared", "conditions": "; ".join(e["conditions"])}
        for e in result.get("red_button", {}).get("events", [])
    ]
    guard = result.get("guard", {})
    if guard.get("first_breach"):
        rows.append(
            {
                "time": guard["first_breach"],
                "state": "guard breached",
                "conditions": f"token_health < {guard['alert_threshold']:.2f}: automatic failover blocked",
            }
        )
    return sorted(rows, key=lambda r: r["time"])


def sweep_estimate(variants: int, outages: int, seconds_per_run: float, workers: int | None = None) -> str:
    """How long a calibration sweep takes: every variant replays the day once per outage, on all cores."""
    cores = workers or os.cpu_count() or 1
    seconds = variants * outages * seconds_per_run / min(cores, max(variants, 1))
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
