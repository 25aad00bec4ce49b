"""The severity words alerting setups use import with the default map, and stay overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.drill import (
    AM_RULES,
    DEFAULT_SEVERITY_MAP,
    SeverityMap,
    alertmanager_day,
    import_alerts,
    load_alerts,
    load_severity_map,
)
from tests.conftest import ROOT

DAY = ROOT / "scenarios" / "samples" / "alertmanager_day.jsonl"
# The default map before page/ticket and friends were added: what lost alerts.
OLD_WORDS = {
    **dict.fromkeys(["p0", "sev0", "critical", "crit", "emergency", "fatal", "disaster"], "P0"),
    **dict.fromkeys(["p1", "sev1", "high", "error", "major"], "P1"),
    **dict.fromkeys(["p2", "sev2", "warning", "warn", "medium", "average"], "P2"),
    **dict.fromkeys(["p3", "p4", "p5", "sev3", "sev4", "low", "info", "informational", "minor", "none"], "P3"),
}


def test_every_unique_alert_of_an_alertmanager_day_imports_with_the_default_map():
    incidents, report = load_alerts(DAY)
    assert report.format == "alertmanager"
    assert len(incidents) == 120 == sum(count for _, _, count in AM_RULES)
    assert not report.skipped and report.duplicates > 0  # re-sent and resolved notifications folded
    levels = {i.severity for i in incidents}
    assert levels == {"P0", "P1", "P2", "P3"}
    page = sum(c for _, sev, c in AM_RULES if sev == "page")
    assert sum(1 for i in incidents if i.severity == "P1") == page


def test_the_old_map_lost_the_page_and_ticket_alerts():
    _, report = import_alerts(DAY.read_text(), str(DAY), severity_map=SeverityMap(OLD_WORDS, {}))
    lost = sum(c for _, sev, c in AM_RULES if sev in ("page", "ticket"))
    assert lost == 14
    reasons = {why for _, why in report.skipped}
    assert reasons == {"unknown severity 'page'", "unknown severity 'ticket'"}
    assert report.imported == 120 - lost


def test_the_fixture_is_the_generators_output():
    assert DAY.read_text() == alertmanager_day()


@pytest.mark.parametrize(
    "word, level",
    [
        ("page", "P1"),
        ("ticket", "P3"),
        ("Critical", "P0"),
        ("emerg", "P0"),
        ("alert", "P0"),
        ("error", "P1"),
        ("err", "P1"),
        ("high", "P1"),
        ("warning", "P2"),
        ("moderate", "P2"),
        ("notice", "P3"),
        ("low", "P3"),
        ("none", "P3"),
        ("info", "P3"),
        ("Not classified", "P3"),
        ("SEV-1", "P1"),
        ("sev_2", "P2"),
        ("major", "P1"),
        ("minor", "P3"),
        ("fatal", "P0"),
        ("emergency", "P0"),
    ],
)
def test_default_words(word, level):
    assert load_severity_map(None).word(word) == level


def test_unknown_words_are_still_skipped_and_a_map_overrides(tmp_path: Path):
    assert load_severity_map(None).word("spicy") is None
    (tmp_path / "map.yaml").write_text("severity:\n  Page: P0\n  spicy: P2\n")
    custom = load_severity_map(tmp_path / "map.yaml")
    assert custom.word("page") == "P0" and custom.word("SPICY") == "P2" and custom.word("ticket") == "P3"
    assert len(DEFAULT_SEVERITY_MAP) > len(OLD_WORDS)
