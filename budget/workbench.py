"""What the browser workbench needs from the engine, without Streamlit.

Paths of the shipped inputs, safe saving of a new spec, the plan diff against
the textbook's example, flattening results into tables. The data root is the
repository (or ``$BUDGET_WORKBENCH_ROOT``, which tests point at a scratch copy).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml

from budget.errors import BudgetError
from budget.fsutil import atomic_write_text
from budget.limits import MAX_INPUT_BYTES, MAX_UPLOAD_BYTES  # noqa: F401 (the pages read it here)
from budget.loader import parse_yaml_text, read_text
from budget.plan import plan_json
from budget.spec import RESERVE, SLA_KEY, BudgetSpec, spec_from_text

DEFAULT_SPEC = "budget_network.yaml"
DEFAULT_SCENARIO = "fail_local_45m.json"
EXAMPLE_PLAN = Path("specs") / "reference" / "budget_plan.example.json"
NOTE_PATH = Path("capstone") / "budget-note.md"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def root() -> Path:
    env = os.environ.get("BUDGET_WORKBENCH_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[1]


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


def save_spec(name: str, text: str, overwrite: bool = False) -> Path:
    """Validate ``text`` and write it to specs/<name>.yaml atomically."""
    path = safe_spec_path(name)
    spec_from_text(text, path.name)  # never save an invalid spec
    if path.exists() and not overwrite:
        raise BudgetError(f"specs/{path.name} exists; tick 'overwrite' to replace it")
    atomic_write_text(path, text)
    return path


def quota_rows(spec: BudgetSpec) -> list[dict[str, Any]]:
    """Phases x tiers as table rows (control_reserve last), for the editor and the chart."""
    rows: list[dict[str, Any]] = []
    for name, phase in spec.phases.items():
        rows.append({"phase": name, **{t: phase.quotas.get(t, 0) for t in spec.tiers}, SLA_KEY: phase.sla_p95 or ""})
    if spec.reserve:
        rows.append({"phase": RESERVE, **{t: spec.reserve.get(t, 0) for t in spec.tiers}, SLA_KEY: ""})
    return rows


def spec_text_from_rows(rows: list[dict[str, Any]], tiers: list[str], daily: int, extra: dict[str, Any]) -> str:
    """YAML text for an edited table (keeps policy/split/tiers blocks given in ``extra``)."""
    phases: dict[str, Any] = {}
    for row in rows:
        name = str(row.get("phase") or "").strip()
        if not name:
            continue
        entry: dict[str, Any] = {}
        for t in tiers:
            value = row.get(t)
            entry[t] = int(value) if isinstance(value, (int, float)) and float(value).is_integer() else value
        sla = row.get(SLA_KEY)
        if name != RESERVE and sla not in (None, ""):
            entry[SLA_KEY] = sla
        phases[name] = entry
    doc: dict[str, Any] = {"daily_budget_tokens": int(daily), **extra, "phases": phases}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def daily_to_quota_sum(text: str) -> str:
    """The spec text with daily_budget_tokens set to the sum of its quotas (comments are dropped)."""
    data = parse_yaml_text(text, "spec").data
    if not isinstance(data, dict) or not isinstance(data.get("phases"), dict):
        raise BudgetError("spec: needs a phases mapping to sum")
    total = 0
    for row in data["phases"].values():
        if isinstance(row, dict):
            total += sum(v for k, v in row.items() if k != SLA_KEY and isinstance(v, int) and not isinstance(v, bool))
    data["daily_budget_tokens"] = total
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


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
                "waited_min": d["waited_min"],
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
