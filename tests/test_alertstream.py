"""The streamed JSONL reader gives what the whole-file importer gives: the same incidents, skips and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget import alertstream
from budget.alerts import import_alerts, load_alerts, load_records, load_severity_map
from budget.errors import BudgetError
from tests.conftest import ROOT

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "3", "0.5", "x", "1e3", "nan"]),
)
TIMES = st.one_of(
    st.sampled_from(
        ["2026-11-24T10:00:00Z", "2026-11-24T23:59:59+00:00", "2026-11-25T00:00:01Z", "2026-11-24 08:00", "soon", ""]
    ),
    st.integers(1_700_000_000, 1_800_000_000),
    VALUES,
)
SEVERITIES = st.one_of(st.sampled_from(["critical", "Sev-1", "warning", "INFO", "page", "bogus", ""]), VALUES)
RECORD = st.fixed_dictionaries(
    {"timestamp": TIMES, "severity": SEVERITIES},
    optional={
        "id": st.one_of(st.sampled_from(["a-1", "a-2", "a-1", ""]), VALUES),
        "service": st.one_of(st.sampled_from(["billing", "auth", ""]), VALUES),
        "blast_radius": VALUES,
        "confidence_gap": VALUES,
    },
)
LINE = st.one_of(
    RECORD.map(lambda r: json.dumps(r)),
    RECORD.map(lambda r: "  " + json.dumps(r)),  # leading spaces: the scanner leaves it to json.loads
    st.sampled_from(["", "   ", "{", '{"timestamp": 1', "[1, 2]", "42", '"text"', "null", "{} x", "\ufeff{}"]),
)


def whole(path: Path) -> object:
    """What the whole-file importer gives (or the error it raises, whatever it is)."""
    try:
        return import_alerts(path.read_text(encoding="utf-8"), str(path), None, load_severity_map(None))
    except Exception as exc:  # noqa: BLE001 - both readers must fail alike, with whatever they raise
        return f"{type(exc).__name__}: {exc}"


def streamed(path: Path) -> object:
    try:
        return load_alerts(path)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=RECORD.map(json.dumps),
    lines=st.lists(LINE, min_size=1, max_size=30),
    crlf=st.booleans(),
    block=st.sampled_from([16, 64, 1 << 20]),
)
def test_streamed_equals_whole_file(tmp_path: Path, monkeypatch, first, lines, crlf, block):
    monkeypatch.setattr(alertstream, "BLOCK_BYTES", block)  # lines that straddle the blocks too
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(("\r\n" if crlf else "\n").join([first, *lines]).encode())
    assert streamed(path) == whole(path)


@pytest.mark.parametrize(
    "text",
    [
        '{\n  "timestamp": "2026-11-24T10:00:00Z",\n  "severity": "critical"\n}\n',  # one pretty-printed record
        '[{"timestamp": "2026-11-24T10:00:00Z", "severity": "critical"},\n{"severity": "x"}]\n',  # an array
        '\n\n{"timestamp": "2026-11-24T10:00:00Z", "severity": "critical"}\n',  # one record: numbered 1 whole
        '{"timestamp": "2026-11-24T10:00:00Z", "severity": "info"}\n{"timestamp": "2026-11-24T11:00:00Z", '
        '"severity": "critical", "service": "a\u2028b"}\n',  # splitlines breaks inside the string
        '{"timestamp": "2026-11-24T10:00:00Z", "severity": "info"}\r{"timestamp": "2026-11-24T11:00:00Z"}\n',
    ],
)
def test_what_is_not_a_plain_line_stream_is_read_whole(tmp_path: Path, text: str):
    path = tmp_path / "alerts.jsonl"
    path.write_text(text, encoding="utf-8", newline="")
    assert alertstream.read_jsonl(path, str(path), None, load_severity_map(None)) is None
    assert streamed(path) == whole(path)


def test_bad_bytes_are_named_as_before(tmp_path: Path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b'{"timestamp": "2026-11-24T10:00:00Z", "severity": "info"}\n{"x": "\xff"}\n')
    with pytest.raises(BudgetError, match=r"alerts.jsonl: not UTF-8 text \(byte 65\)"):
        load_alerts(path)


def test_the_shipped_day_is_streamed():
    path = ROOT / "scenarios" / "alerts_day_800.jsonl"
    assert alertstream.read_jsonl(path, str(path), None, load_severity_map(None)) is not None
    raws, report = load_records(path)
    assert len(raws) == report.records == 800
    assert streamed(path) == whole(path)
