"""The intake's fast reading of JSON lines gives exactly what the strict reader gives, line by line."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget.drill import ImportReport, first_day, import_alerts, load_severity_map
from budget.files import jsonscan
from budget.keeper.intake import Skip, generic, line_value
from budget.model import Incident
from tests.intake_lines import random_line, random_lines


def strict_value(line: str) -> object:
    """What a line read as before: the strict reader's value, or its error as a skip reason."""
    try:
        return jsonscan.loads_line(line)
    except RecursionError:
        return Skip("not valid JSON (nested too deeply)")
    except ValueError as exc:
        return Skip(f"not valid JSON ({getattr(exc, 'msg', None) or exc})")


def same(a: object, b: object) -> bool:
    if isinstance(a, Skip) or isinstance(b, Skip):
        return type(a) is type(b) and str(a) == str(b)
    return repr(a) == repr(b)  # 1, 1.0 and True told apart; key order kept


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_a_line_reads_as_the_strict_reader_reads_it(rng: random.Random):
    for _ in range(20):
        line = random_line(rng)
        assert same(line_value(line), strict_value(line)), line


def test_refused_values_and_duplicates_are_refused_as_before():
    cases = {
        '{"a":1,"a":2}': "not valid JSON (duplicate key)",
        '{"a":1, "b":NaN}': "not valid JSON (NaN is not a number (JSON has no NaN or Infinity))",
        '{"a":1e400}': "not valid JSON (number 1e400 is too large (not finite))",
        '{"a":1234567890123456789}': "over the 18-digit limit",
        '{"ab":1,"a\\u0062":2}': "not valid JSON (duplicate key)",
        '{"a" :1,"a":2}': "not valid JSON (duplicate key)",
        '{"a":{"b":1,"b":2}}': "not valid JSON (duplicate key)",
        '{"a":1} x': "not valid JSON (Extra data)",
    }
    for line, reason in cases.items():
        got = line_value(line)
        assert isinstance(got, Skip), line
        assert reason in str(got), (line, str(got))
    assert line_value('{"a":"x\\":y","b":[1,2],"c":{"d":null}}') == {"a": 'x":y', "b": [1, 2], "c": {"d": None}}


def test_a_stream_of_such_lines_imports_as_read_line_by_line_with_the_strict_reader():
    lines = random_lines(random.Random(5), 600)
    text = "\n".join(['{"timestamp":"2026-11-24T00:00:00Z","severity":"info"}', *lines])
    incidents, report = import_alerts(text, "mixed.jsonl")

    sev = load_severity_map(None)
    expected = ImportReport(source="mixed.jsonl", format="jsonl")
    raws = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        expected.records += 1
        value = strict_value(line)
        try:
            if isinstance(value, Skip):
                raise value
            if not isinstance(value, dict):
                raise Skip("not an object")
            raws.append(generic(value, n, sev))
        except Skip as exc:
            expected.skipped.append((n, str(exc)))
    want, expected = first_day(raws, expected)
    assert report.to_dict() == expected.to_dict()
    assert repr(incidents) == repr(want)
    assert len(report.skipped) > 50 and len(incidents) > 300  # both kinds of line are there


def test_a_days_incidents_are_whole_frozen_incidents():
    """Built slot by slot, each incident equals (and hashes as) the one its constructor gives, and stays frozen."""
    text = (
        '{"timestamp":"2026-11-24T00:00:07Z","severity":"critical","service":"pay","id":"x1","confidence_gap":0.5}\n'
        '{"timestamp":"2026-11-24T00:00:03Z","severity":"info","blast_radius":7}\n'
    )
    incidents, _ = import_alerts(text, "two.jsonl")
    assert incidents == (Incident("a2-1", "P3", 3, 7.0, 0.0, None), Incident("x1", "P0", 7, 4, 0.5, "pay"))
    assert [hash(i) for i in incidents] == [hash(Incident("a2-1", "P3", 3, 7.0, 0.0, None)), hash(incidents[1])]
    assert type(incidents[1].blast_radius) is int  # the severity's default, as given
    with pytest.raises(dataclasses.FrozenInstanceError):
        incidents[0].arrival_sec = 5  # type: ignore[misc]
