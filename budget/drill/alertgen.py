"""A seeded generator of a realistic day of alerts, and small samples of every supported format.

    python -m budget.drill.alertgen --count 800 --seed 7 --out scenarios/alerts_day_800.jsonl
    python -m budget.drill.alertgen --samples scenarios/samples

The day (UTC) follows a day-night curve, ``rate(h) = 0.25 + 0.75 * exp(-((h - 13) / 4.5)**2)``
(quiet at night, busiest early afternoon), plus three bursts of 4 % of the day's
alerts each within 8 minutes (03:10 nightly batch, 09:45 morning deploy, 15:30
afternoon peak). Severity follows the mix P0 5 %, P1 20 %, P2 40 %, P3 35 %;
blast radius grows with severity (P0 3-5, P1 2-5, P2 1-3, P3 1-2); the
confidence gap is ``u ** 1.5`` for a uniform ``u`` (most alerts are clear, a
tail is disputed). Everything comes from ``random.Random(seed)``: the same seed
gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from budget.files import atomic_write_text

DAY = datetime(2026, 11, 24, tzinfo=UTC)
MIX = (("P0", 0.05), ("P1", 0.20), ("P2", 0.40), ("P3", 0.35))
BLAST = {"P0": (3, 5), "P1": (2, 5), "P2": (1, 3), "P3": (1, 2)}
BURSTS = ((3 * 60 + 10), (9 * 60 + 45), (15 * 60 + 30))
BURST_SHARE = 0.04
BURST_MIN = 8
SERVICES = ("payments-api", "checkout", "ledger", "auth", "fraud-scoring", "notifications", "search", "billing")
AM_SEVERITY = {"P0": "critical", "P1": "high", "P2": "warning", "P3": "info"}
PD_PRIORITY = {"P0": "P1", "P1": "P2", "P2": "P3", "P3": "P4"}


def rate(hour: float) -> float:
    return 0.25 + 0.75 * math.exp(-(((hour - 13) / 4.5) ** 2))


def _severity(rng: random.Random) -> str:
    u = rng.random()
    acc = 0.0
    for sev, p in MIX:
        acc += p
        if u < acc:
            return sev
    return MIX[-1][0]


def generate_day(count: int, seed: int = 7, day: datetime = DAY) -> list[dict[str, Any]]:
    """``count`` alert records (timestamp, severity, service, blast_radius, confidence_gap, id) on ``day``."""
    rng = random.Random(seed)
    n_burst = int(count * BURST_SHARE) * len(BURSTS)
    weights = [rate(m / 60) for m in range(1440)]
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    seconds = []
    for _ in range(count - n_burst):
        u = rng.random() * total
        lo, hi = 0, 1439
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] < u:
                lo = mid + 1
            else:
                hi = mid
        seconds.append(lo * 60 + rng.randrange(60))
    for start in BURSTS:
        for _ in range(n_burst // len(BURSTS)):
            seconds.append(start * 60 + rng.randrange(BURST_MIN * 60))
    seconds.sort()
    records = []
    for i, sec in enumerate(seconds, 1):
        sev = _severity(rng)
        lo, hi = BLAST[sev]
        records.append(
            {
                "id": f"alert-{i:05d}",
                "timestamp": (day + timedelta(seconds=sec)).isoformat().replace("+00:00", "Z"),
                "severity": AM_SEVERITY[sev],
                "service": rng.choice(SERVICES),
                "blast_radius": rng.randint(lo, hi),
                "confidence_gap": round(rng.random() ** 1.5, 2),
            }
        )
    return records


def to_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def to_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    fields = ["timestamp", "severity", "service", "blast_radius", "confidence_gap", "id"]
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow({k: r[k] for k in fields})
    return out.getvalue()


def _sev_of(record: dict[str, Any]) -> str:
    return {v: k for k, v in AM_SEVERITY.items()}[record["severity"]]


def to_alertmanager(records: list[dict[str, Any]], grafana: bool = False) -> str:
    alerts = []
    for r in records:
        alert: dict[str, Any] = {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "severity": r["severity"],
                "service": r["service"],
                "job": r["service"],
            },
            "annotations": {"summary": f"{r['service']} error rate high"},
            "startsAt": r["timestamp"],
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.local/graph",
            "fingerprint": r["id"].replace("alert-", "fp"),
        }
        if grafana:
            alert["values"] = {"A": 0.12}
        alerts.append(alert)
    payload: dict[str, Any] = {
        "version": "4",
        "status": "firing",
        "receiver": "budget-keeper",
        "groupLabels": {},
        "commonLabels": {},
        "alerts": alerts,
    }
    if grafana:
        payload["orgId"] = 1
    # a re-sent notification repeats the first payload: the importer drops it on fingerprint + startsAt
    return json.dumps([payload, {**payload, "alerts": alerts[:2]}], indent=2) + "\n"


def to_pagerduty(records: list[dict[str, Any]]) -> str:
    incidents = [
        {
            "id": r["id"].replace("alert-", "PD"),
            "incident_number": i,
            "created_at": r["timestamp"],
            "status": "resolved",
            "urgency": "high" if _sev_of(r) in ("P0", "P1") else "low",
            "priority": {"summary": PD_PRIORITY[_sev_of(r)]},
            "service": {"summary": r["service"]},
            "resolved_at": r["timestamp"],
        }
        for i, r in enumerate(records, 1)
    ]
    return json.dumps({"incidents": incidents, "limit": 100, "offset": 0, "more": False}, indent=2) + "\n"


def to_pagerduty_analytics(records: list[dict[str, Any]]) -> str:
    data = [
        {
            "id": r["id"].replace("alert-", "PA"),
            "created_at": r["timestamp"],
            "priority_name": PD_PRIORITY[_sev_of(r)],
            "urgency": "high" if _sev_of(r) in ("P0", "P1") else "low",
            "service_name": r["service"],
            "seconds_to_resolve": 900,
            "major": _sev_of(r) == "P0",
        }
        for r in records
    ]
    return json.dumps({"data": data}, indent=2) + "\n"


# An Alertmanager day: rules as a kube-prometheus setup with page/ticket routing names them.
AM_RULES = (
    ("PaymentsAPIErrorBudgetBurn", "page", 4),
    ("CheckoutLatencySLOBurn", "page", 2),
    ("LedgerReplicationStopped", "page", 2),
    ("KubePodCrashLooping", "ticket", 3),
    ("DiskWillFillIn24Hours", "ticket", 2),
    ("CertificateExpiresIn7Days", "ticket", 1),
    ("TargetDown", "critical", 4),
    ("NodeMemoryHighUtilization", "warning", 20),
    ("KafkaConsumerGroupLag", "warning", 18),
    ("InfoInhibitor", "none", 20),
    ("KubeJobCompletion", "info", 24),
    ("CPUThrottlingHigh", "info", 20),
)
AM_GROUP_WAIT_S = 30
AM_REPEAT_S = 4 * 3600


def _am_alert_of(name: str, severity: str, k: int, start: datetime, end: datetime | None) -> dict[str, Any]:
    service = SERVICES[k % len(SERVICES)]
    labels = {
        "alertname": name,
        "severity": severity,
        "namespace": "payments" if k % 3 else "platform",
        "service": service,
        "instance": f"10.20.{k % 7}.{10 + k % 50}:9100",
        "job": service,
    }
    fingerprint = hashlib.sha1(json.dumps(labels, sort_keys=True).encode(), usedforsecurity=False).hexdigest()[:16]
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    return {
        "status": "firing" if end is None else "resolved",
        "labels": labels,
        "annotations": {"summary": f"{name} on {service}"},
        "startsAt": start.strftime(stamp),
        "endsAt": end.strftime(stamp) if end else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": fingerprint,
    }


def alertmanager_day(seed: int = 5) -> str:
    """A day of Alertmanager webhooks (JSONL, one notification a line) with 120 unique alerts.

    Severities as a page/ticket setup labels them (``AM_RULES``: 8 page, 6 ticket, 4 critical,
    38 warning, 44 info, 20 none). Each alert fires at a random time of the day for 2-90
    minutes; its group is notified ``AM_GROUP_WAIT_S`` after each new alert, again every
    ``AM_REPEAT_S`` while an alert fires, and once more when one resolves, each notification
    carrying every alert of the group still firing or just resolved (so alerts repeat, as
    Alertmanager re-sends them).
    """
    rng = random.Random(seed)
    events: list[tuple[float, str, list[tuple[float, float, int]]]] = []
    k = 0
    for name, _severity, count in AM_RULES:
        alerts = []
        for _ in range(count):
            start = rng.uniform(600, 86_400 - 6_000)
            alerts.append((start, start + rng.uniform(120, 5_400), k))
            k += 1
        times = {a[0] + AM_GROUP_WAIT_S for a in alerts} | {a[1] + 10 for a in alerts}
        for a in alerts:
            times |= {a[0] + AM_GROUP_WAIT_S + n * AM_REPEAT_S for n in range(1, int((a[1] - a[0]) // AM_REPEAT_S) + 1)}
        events += [(t, name, alerts) for t in sorted(times) if t < 86_400]
    lines = []
    severity_of = {name: sev for name, sev, _ in AM_RULES}
    for t, name, alerts in sorted(events, key=lambda e: (e[0], e[1])):
        carried = [
            _am_alert_of(
                name, severity_of[name], k, DAY + timedelta(seconds=s), None if t < e else DAY + timedelta(seconds=e)
            )
            for s, e, k in alerts
            if s + AM_GROUP_WAIT_S <= t and t < e + 300
        ]
        if not carried:
            continue
        firing = any(a["status"] == "firing" for a in carried)
        payload = {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{name}"}}',
            "truncatedAlerts": 0,
            "status": "firing" if firing else "resolved",
            "receiver": "budget-keeper",
            "groupLabels": {"alertname": name},
            "commonLabels": {"alertname": name, "severity": severity_of[name]},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.local:9093",
            "alerts": carried,
        }
        lines.append(json.dumps(payload, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def write_samples(folder: Path, seed: int = 11) -> list[Path]:
    recs = generate_day(40, seed)[:12]
    files = {
        "alerts.jsonl": to_jsonl(recs),
        "alerts.csv": to_csv(recs),
        "alertmanager.json": to_alertmanager(recs),
        "grafana.json": to_alertmanager(recs, grafana=True),
        "pagerduty_incidents.json": to_pagerduty(recs),
        "pagerduty_analytics.json": to_pagerduty_analytics(recs),
        "alertmanager_day.jsonl": alertmanager_day(),
    }
    return [atomic_write_text(folder / name, text) for name, text in files.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m budget.drill.alertgen", description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=800)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--day", default=DAY.date().isoformat(), help="the day's date, YYYY-MM-DD (2026-11-24)")
    ap.add_argument("--out", help="write the day as JSONL here")
    ap.add_argument("--samples", help="write one small sample of each format into this folder")
    args = ap.parse_args(argv)
    if args.count <= 0:
        print("alertgen: error: --count must be positive", file=sys.stderr)
        return 2
    try:
        day = datetime.fromisoformat(args.day).replace(tzinfo=UTC)
    except ValueError:
        print(f"alertgen: error: --day {args.day!r}: must be a date YYYY-MM-DD", file=sys.stderr)
        return 2
    if args.out:
        atomic_write_text(args.out, to_jsonl(generate_day(args.count, args.seed, day)))
        print(f"wrote {args.count} alerts to {args.out}")
    if args.samples:
        for p in write_samples(Path(args.samples)):
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
