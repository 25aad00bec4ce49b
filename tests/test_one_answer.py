"""One answer per question: each shipped spec through each page that shows a verdict, against the CLI's JSON.

A page and the command line run the same function with the same inputs (the current spec and its own
policy), so what the page shows is what ``budget simulate``, ``budget drill`` and ``budget validate``
print for that spec.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from budget.keeper import health_text
from tests.conftest import ROOT, run_cli
from tests.test_app import open_page, scratch_root, texts  # noqa: F401 (the fixture: a scratch data root)

SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.yaml") if "template" not in p.name)


def pick(at, name: str):  # type: ignore[no-untyped-def]
    picker = next(s for s in at.sidebar.selectbox if s.label.startswith("Current spec"))
    return picker.select(name).run()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Per spec: the CLI's simulate, drill and validate JSON, as a learner gets them."""
    work = tmp_path_factory.mktemp("cli")
    out: dict[str, dict] = {}
    for name in SPECS:
        stem = name.removesuffix(".yaml")
        sim = run_cli(
            [
                "simulate",
                "--plan",
                f"specs/{name}",
                "--scenario",
                "scenarios/fail_local_45m.json",
                "--out",
                f"{work}/{stem}_sim.json",
                "--explain",
            ],
            ROOT,
        )
        assert sim.returncode == 0, sim.stderr
        drill = run_cli(
            [
                "drill",
                "--budget-spec",
                f"specs/{name}",
                "--alerts",
                "scenarios/alerts_day_800.jsonl",
                "--outages",
                "15,30,45",
                "--out",
                f"{work}/{stem}_drill.json",
                "--csv",
                f"{work}/{stem}_drill.csv",
                "--explain",
            ],
            ROOT,
            timeout=300,
        )
        assert drill.returncode in (0, 1), drill.stderr
        gate = run_cli(
            [
                "validate",
                "--validation",
                "specs/validation/budget_gate.yaml",
                "--metrics",
                f"{work}/{stem}_sim.json",
                "--json",
            ],
            ROOT,
        )
        assert gate.returncode in (0, 1), gate.stderr
        out[name] = {
            "simulate": json.loads(Path(f"{work}/{stem}_sim.json").read_text()),
            "drill": json.loads(Path(f"{work}/{stem}_drill.json").read_text()),
            "validate": json.loads(gate.stdout),
            "why": [ln for ln in sim.stdout.splitlines() if ln.startswith("why ")],
            "drill_why": [ln.split(": ", 1)[1] for ln in drill.stdout.splitlines() if re.match(r"\d+m why ", ln)],
        }
    return out


@pytest.mark.parametrize("name", SPECS)
def test_the_simulator_shows_what_budget_simulate_prints(name: str, cli: dict[str, dict]) -> None:
    want = cli[name]["simulate"]
    at = pick(open_page(), name)
    at.switch_page("pages/2_Simulator.py").run()
    at.button(key="w_sim_run").click().run()
    assert not at.exception
    got = at.session_state["sim_result"]["result"]
    for key in ("failover_to_frontier", "degraded_queue", "token_health_min", "mttr_p95", "guard"):
        assert got[key] == want[key], key
    health = next(m for m in at.metric if m.label.startswith("token_health_min"))
    assert health.value == health_text(want["token_health_min"])  # the CLI's one rounding rule (down)
    assert f"the {want['guard']['alert_threshold']:.2f} guard" in str(health.delta)
    # the explanation is budget simulate --explain's, sentence by sentence (the query's section aside: the
    # page explains the query in its box)
    shown = texts(at)
    why = [ln.split(": ", 1) for ln in cli[name]["why"] if not ln.startswith("why the composite query")]
    assert len(why) >= 4
    for section, sentence in why:
        assert sentence in shown, (section, sentence)


@pytest.mark.parametrize("name", SPECS)
def test_the_drill_page_judges_against_the_specs_own_guard(name: str, cli: dict[str, dict]) -> None:
    want = cli[name]["drill"]
    at = pick(open_page(), name)
    at.switch_page("pages/5_Drill.py").run()
    assert at.number_input(key="w_drill_guard").value == pytest.approx(want["fail_under"])
    at.button(key="w_drill_run").click().run()
    assert not at.exception
    got = at.session_state["drill_result"]["data"]
    assert got["fail_under"] == want["fail_under"]
    assert got["below_guard"] == want["below_guard"]
    assert [r["token_health_min"] for r in got["runs"]] == [r["token_health_min"] for r in want["runs"]]
    shown = texts(at)
    assert f"{want['fail_under']:.2f} guard" in shown
    want_why = cli[name]["drill_why"]
    assert want_why
    shown_why = texts(at)  # the expanders' text, as budget drill --explain prints it
    assert all(sentence in shown_why for sentence in want_why), [w for w in want_why if w not in shown_why]
    command = at.session_state["work"].entries[-1].command
    assert "--fail-under" not in command  # the spec's own guard: the command needs no flag


@pytest.mark.parametrize("name", SPECS)
def test_the_gateway_page_runs_the_outage_on_the_current_spec_and_says_so(name: str, cli: dict[str, dict]) -> None:
    want = cli[name]["validate"]
    at = pick(open_page(), name)
    at.switch_page("pages/7_Gateway.py").run()
    at.radio(key="w_gate_source").set_value("45-minute outage, policy ranked").run()
    assert not at.exception
    assert any(name in c.value and "45-minute outage" in c.value for c in at.caption)
    shown = [str(x.value) for x in [*at.success, *at.error] if name in str(x.value)]
    assert len(shown) == 1, shown  # the verdict names the spec it ran
    assert shown[0].startswith("FAIL") == (want["verdict"] == "fail")
    failed = sorted(i["name"] for i in want["failed"])
    assert all(n in shown[0] for n in failed), (failed, shown[0])


def test_the_calibrate_page_starts_from_the_clis_default_sweep() -> None:
    at = pick(open_page(), "payment_gateway_80_20_mid.yaml")
    at.switch_page("pages/6_Calibrate.py").run()
    shown = texts(at)
    assert "220 variants x 3 outages" in shown
    assert "The default sweep is `budget calibrate`'s" in shown
    at.multiselect(key="w_cal_timeouts").set_value([120]).run()
    assert "differs from `budget calibrate`'s default: --timeouts 120" in texts(at)


@pytest.mark.parametrize("name", SPECS)
def test_compiling_a_spec_diffs_only_against_its_own_reference(name: str) -> None:
    at = pick(open_page(), name)
    at.switch_page("pages/1_Spec_editor.py").run()
    at.button(key="w_spec_compile").click().run()
    shown = texts(at)
    assert "textbook's example plan" not in shown
    if name == "budget_network.yaml":
        assert "No difference to specs/reference/budget_plan.example.json" in shown
    else:
        assert f"No reference plan ships for {name}" in shown
        assert "diff lines" not in shown
