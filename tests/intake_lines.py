"""JSON lines drawn at random for the intake tests: alert records, and every way a line can go wrong."""

from __future__ import annotations

import random

KEYS = ("timestamp", "severity", "service", "blast_radius", "confidence_gap", "id", "extra", "ab", "a\\u0062")
GOOD = {
    "timestamp": ('"2026-11-24T00:01:02Z"', '"2026-11-24T23:59:59+00:00"', '"2026-11-24T08:00"', '"2026-11-24T12:00Z"'),
    "severity": ('"critical"', '"Sev-1"', '"info"', '"warning"', '"P2"'),
    "number": ("2", "2.0", "0.46", "1e1", "2.5E-3", "0", "1"),
    "gap": ("0", "0.46", "1e-1", "2.5E-3", "1"),
    "text": ('"checkout"', '"a b"', '"q\\":x"', "42", '":colon"'),
}
ODD = {
    "timestamp": (
        '"2026-11-25T01:00:00+02:00"',
        '"2026-11-24 09:30:00Z"',
        '" 2026-11-24T10:00:00Z "',
        '"2026-13-01T00:00:00Z"',
        "1795500000",
        "1795500000.5",
        "-5",
        '""',
        "true",
    ),
    "severity": ('"unknown"', "3", "true", "null", '""'),
    "number": (
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "-Infinity",
        "123456789012345678",
        "1234567890123456789",
        "-1234567890123456789",
        "1001",
        "-1",
        '"0.5"',
        '"x"',
    ),
    "text": ('" lead"', '"tab\\t"', "false", "null", '""', '{"a":1}', "[1,2]", '{"a":1,"a":2}', "[1e400]", "[NaN]"),
}
FIELD_VALUES = {
    "timestamp": "timestamp",
    "severity": "severity",
    "blast_radius": "number",
    "confidence_gap": "gap",
}


def _value(rng: random.Random, key: str) -> str:
    kind = FIELD_VALUES.get(key, "text")
    return rng.choice(ODD["number" if kind == "gap" else kind] if rng.random() < 0.1 else GOOD[kind])


def random_line(rng: random.Random) -> str:
    """One line: usually an alert record, sometimes with a duplicate key, odd spacing, a refused number,
    a nested value, trailing data, a BOM, or not an object at all."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(("", "   ", "[1]", "1", '"s"', "null", "{", '{"a":', "not json", '{"a":1}}'))
    keys = [k for k in KEYS[:6] if rng.random() < (0.98 if k in ("timestamp", "severity") else 0.8)]
    keys += [k for k in KEYS[6:] if rng.random() < 0.15]
    rng.shuffle(keys)
    if keys and rng.random() < 0.08:
        keys.insert(rng.randrange(len(keys) + 1), rng.choice(keys))  # a key twice
    colon = rng.choice((":",) * 6 + (": ", " :", "\t:"))
    comma = rng.choice((",", ",", ", "))
    body = comma.join(f'"{k}"{colon}{_value(rng, k)}' for k in keys)
    line = "{" + body + "}"
    if rng.random() < 0.08:
        line = rng.choice((" ", "\t", "\ufeff")) + line
    if rng.random() < 0.08:
        line += rng.choice((" ", "\r", " x", ",", " {}", "\t"))
    return line


def random_lines(rng: random.Random, n: int) -> list[str]:
    return [random_line(rng) for _ in range(n)]
