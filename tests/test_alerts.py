"""Importers: each sample format, broken records with their line numbers, de-duplication, size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget.drill import generate_day, to_jsonl
from budget.drill.alerts import _split_lines, flow_per_hour, import_alerts, load_alerts, load_severity_map
from budget.errors import BudgetError
from budget.model import Incident
from tests.conftest import ROOT

SAMPLES = ROOT / "scenarios" / "samples"


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("alerts.jsonl", "jsonl"),
        ("alerts.csv", "csv"),
        ("alertmanager.json", "alertmanager"),
        ("grafana.json", "grafana"),
        ("pagerduty_incidents.json", "pagerduty"),
        ("pagerduty_analytics.json", "pagerduty-analytics"),
    ],
)
def test_every_sample_imports_the_same_twelve_alerts(name, fmt):
    incidents, report = load_alerts(SAMPLES / name)
    assert report.format == fmt
    assert len(incidents) == 12 and not report.skipped
    reference, _ = load_alerts(SAMPLES / "alerts.jsonl")
    assert [i.arrival_sec for i in incidents] == [i.arrival_sec for i in reference]
    assert [i.severity for i in incidents] == [i.severity for i in reference]
    assert all(i.service for i in incidents)


def test_alertmanager_resent_notifications_are_deduplicated():
    _, report = load_alerts(SAMPLES / "alertmanager.json")
    assert report.duplicates == 2 and report.records == 14


def test_broken_records_are_counted_with_their_lines():
    text = "\n".join(
        [
            '{"timestamp": "2026-11-24T10:00:00Z", "severity": "critical", "service": "a"}',
            '{"severity": "high", "service": "b"}',
            '{"timestamp": "2026-11-24T10:01:00Z", "severity": "apocalyptic", "service": "c"}',
            '{"timestamp": "2026-11-24T10:02:00Z", "severity": "low", "ser',
            '{"timestamp": "yesterday", "severity": "low"}',
            '{"timestamp": "2026-11-24T10:03:00Z", "severity": "warning", "service": "d", "confidence_gap": 7}',
            '{"timestamp": "2026-11-24T10:04:00Z", "severity": "warning", "service": "e"}',
        ]
    )
    incidents, report = import_alerts(text, "day.jsonl")
    assert len(incidents) == 2
    assert report.skipped == [
        (2, "missing timestamp"),
        (3, "unknown severity 'apocalyptic'"),
        (4, "not valid JSON (Unterminated string starting at)"),
        (5, "timestamp: not an ISO 8601 time: 'yesterday'"),
        (6, "confidence_gap: 7 is outside 0-1"),
    ]
    assert "5 skipped (line 2: missing timestamp" in report.summary()


def test_csv_broken_rows():
    text = "timestamp,severity,service\n2026-11-24T10:00:00Z,high,a\n,high,b\n2026-11-24T10:01:00Z,?,c\n"
    incidents, report = import_alerts(text, "a.csv")
    assert len(incidents) == 1
    assert [n for n, _ in report.skipped] == [3, 4]


def test_pagerduty_severity_mapping():
    text = json.dumps(
        {
            "incidents": [
                {"created_at": "2026-11-24T10:00:00Z", "priority": {"summary": "P1"}, "urgency": "high"},
                {"created_at": "2026-11-24T10:01:00Z", "priority": None, "urgency": "low"},
                {"created_at": "2026-11-24T10:02:00Z", "urgency": "high"},
            ]
        }
    )
    incidents, _ = import_alerts(text, "pd.json")
    assert [i.severity for i in incidents] == ["P0", "P3", "P1"]


def test_severity_map_override(tmp_path: Path):
    m = tmp_path / "map.yaml"
    m.write_text("severity:\n  apocalyptic: P0\n")
    text = '{"timestamp": "2026-11-24T10:01:00Z", "severity": "apocalyptic", "service": "c"}\n'
    incidents, _ = import_alerts(text, "x.jsonl", severity_map=load_severity_map(m))
    assert incidents[0].severity == "P0"
    m.write_text("severity:\n  apocalyptic: P9\n")
    with pytest.raises(BudgetError, match=r"map\.yaml:2: severity\.apocalyptic: must be P0, P1, P2 or P3"):
        load_severity_map(m)


def test_a_payload_of_ten_thousand_alerts():
    records = generate_day(10_000, seed=5)
    payload = {
        "version": "4",
        "alerts": [
            {
                "labels": {"severity": r["severity"], "service": r["service"]},
                "startsAt": r["timestamp"],
                "fingerprint": r["id"],
            }
            for r in records
        ],
    }
    incidents, report = import_alerts(json.dumps(payload), "big.json")
    assert len(incidents) == 10_000 and report.format == "alertmanager"


def test_nothing_readable_is_an_error():
    with pytest.raises(BudgetError, match=r"x\.jsonl: no incident could be read"):
        import_alerts('{"severity": "high"}\n', "x.jsonl")
    with pytest.raises(BudgetError, match="cannot tell the alert format"):
        import_alerts('{"what": 1}\n', "x.json")


def test_shipped_day_is_the_generators_output():
    assert (ROOT / "scenarios" / "alerts_day_800.jsonl").read_text() == to_jsonl(generate_day(800, seed=7))


_HOUR_EDGES = st.builds(lambda h, d: max(0, h * 3600 + d), st.integers(0, 30), st.sampled_from((-1, 0, 1)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3 * 86400) | _HOUR_EDGES, max_size=60), st.booleans())
def test_flow_per_hour_counts_each_arrival_in_its_hour(arrivals: list[int], in_order: bool):
    """Each incident counts in the hour it arrived (hour 23 also takes later ones), whatever the order given."""
    secs = sorted(arrivals) if in_order else arrivals
    incidents = [Incident(f"i{n}", "P2", sec) for n, sec in enumerate(secs)]
    expected = [0] * 24
    for sec in secs:
        expected[min(23, sec // 3600)] += 1
    assert flow_per_hour(incidents) == expected
    assert flow_per_hour(tuple(incidents)) == expected


@given(st.text(alphabet="ab\n\r ", max_size=30))
def test_lines_are_split_one_at_a_time_as_split_gives_them(text: str):
    assert list(_split_lines(text)) == text.split("\n")
