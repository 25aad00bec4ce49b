"""A seeded generator of LiteLLM spend logs with a known workload (the samples and the fit's tests).

    python -m budget.traffic.spendgen --samples scenarios/samples
    python -m budget.traffic.spendgen --incidents 400 --seed 3 --out out/spend.json

A :class:`Workload` says what the log must show: incidents a day, tokens per
incident (the median of the work tiers' tokens), review share, disputed share,
phase shares and each phase's work tier, the model groups that serve each tier
and their prices, the share of failed requests and of other traffic. The rows
are LiteLLM's ``LiteLLM_SpendLogs`` rows as the proxy writes them
(``budget/traffic/spendlog.py`` lists the columns), tagged the three ways
docs/litellm-spend-logs.md describes, one way per incident.

How each incident is made, all from ``random.Random(seed)``:

- arrival: the day-night curve of ``budget.drill.alertgen.rate`` over the day;
- work tokens ``W_i = W * exp(spread * z_i)``, where the ``z_i`` are the normal
  scores ``Phi^-1((k + 1/2) / n)``, k = 0..n-1, in a random order: the day's
  incident sizes spread like a log-normal and their median is ``W`` (the
  workload the log shows is the workload asked for, not a sample of it);
  each incident's tokens are split over the phases by the phase shares, each jittered by
  up to +-10 % (relative); a phase's tokens go to its work tier in 1-2
  requests, a quarter of each request being completion tokens;
- disputed: exactly ``round(disputed_share * incidents)`` incidents, drawn
  without replacement, get a review on the top tier of
  ``review_share * W_i * u`` tokens, ``u`` uniform in 0.95-1.05, in 1-2 requests;
- a request fails with probability ``failed_share``: a ``status: failure`` row
  (its prompt tokens counted, no spend) followed by the retry that succeeds;
- other traffic: ``untagged_share`` times as many untagged embedding requests
  from another application, spread over the day.

The same workload and seed give the same rows, byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from budget.drill import DAY, rate
from budget.files import atomic_write_text

COLUMNS = (
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "request_duration_ms",
    "completionStartTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "organization_id",
    "end_user",
    "requester_ip_address",
    "messages",
    "response",
    "session_id",
    "status",
    "mcp_namespaced_tool_name",
    "agent_id",
    "proxy_server_request",
)
JSON_COLUMNS = ("metadata", "request_tags", "messages", "response", "proxy_server_request")
PAYMENT_PHASES = (
    ("triage", 0.3974),
    ("classification", 0.2658),
    ("diagnosis", 0.1289),
    ("plan", 0.0750),
    ("remediation", 0.0934),
    ("postmortem", 0.0395),
)
TAG_STYLES = ("spend_logs_metadata", "request_tags", "metadata")
OTHER_APP_GROUP = "text-embedding-3-small"
SAMPLE_INCIDENTS = 30
CSV_SAMPLE_COLUMNS = (
    "request_id",
    "startTime",
    "endTime",
    "model_group",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "spend",
    "status",
    "metadata",
    "request_tags",
)


@dataclass(frozen=True)
class Workload:
    """The known workload a generated log shows (defaults: the payment-gateway team, three tiers)."""

    incidents: int = 200
    tokens_per_incident: int = 45_000
    spread: float = 0.2
    review_share: float = 0.10
    disputed_share: float = 0.15
    phase_shares: tuple[tuple[str, float], ...] = PAYMENT_PHASES
    tiers: tuple[str, ...] = ("local-coder", "mid-coder", "frontier-reviewer")
    phase_tier: dict[str, str] = field(default_factory=lambda: {"diagnosis": "mid-coder", "plan": "mid-coder"})
    model_groups: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "local-coder": ("qwen-coder-32b", "qwen-coder-32b-b"),
            "mid-coder": ("gpt-4.1-mini",),
            "frontier-reviewer": ("claude-opus",),
        }
    )
    price_per_million: dict[str, float] = field(
        default_factory=lambda: {"local-coder": 0.10, "mid-coder": 0.60, "frontier-reviewer": 3.00}
    )
    failed_share: float = 0.03
    untagged_share: float = 0.05
    day: datetime = DAY

    @property
    def top_tier(self) -> str:
        return self.tiers[-1]

    def work_tier(self, phase: str) -> str:
        return self.phase_tier.get(phase, self.tiers[0])

    def tier_map(self) -> dict[str, str]:
        """``--tier-map`` for this log: every model group to its tier."""
        return {g: t for t, groups in self.model_groups.items() for g in groups}


class _Gen:
    def __init__(self, w: Workload, seed: int) -> None:
        self.w = w
        self.rng = random.Random(seed)
        self.rows: list[dict[str, Any]] = []
        self.api_key = hashlib.sha256(f"sk-incident-pipeline-{seed}".encode()).hexdigest()

    def arrival(self) -> float:
        while True:
            sec = self.rng.random() * 86_400
            if self.rng.random() <= rate(sec / 3600):
                return sec

    def split(self, total: int, parts: int) -> list[int]:
        cuts = sorted(self.rng.random() for _ in range(parts - 1))
        bounds = [0, *(round(total * c) for c in cuts), total]
        return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]

    def row(self, at: datetime, group: str, tokens: int, incident: str | None, phase: str | None, style: str) -> float:
        """Append a request's rows (a failed attempt first, sometimes); return its duration in seconds."""
        tier = next((t for t, gs in self.w.model_groups.items() if group in gs), None)
        if incident is not None and self.rng.random() < self.w.failed_share:
            prompt = tokens - tokens // 4
            self._append(at, group, tier, prompt, 0, incident, phase, style, failed=True)
            at += timedelta(seconds=2 + self.rng.random() * 3)
        return self._append(at, group, tier, tokens - tokens // 4, tokens // 4, incident, phase, style)

    def _append(
        self,
        at: datetime,
        group: str,
        tier: str | None,
        prompt: int,
        completion: int,
        incident: str | None,
        phase: str | None,
        style: str,
        failed: bool = False,
    ) -> float:
        rng = self.rng
        duration = round(0.4 + completion / 80 + rng.random() * 0.5, 3)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # the table keeps milliseconds
        price = self.w.price_per_million.get(tier or "", 0.02)
        spend = 0.0 if failed else round((prompt + completion) * price / 1e6, 8)
        status = "failure" if failed else "success"
        custom: dict[str, str] = {}
        tags = ["User-Agent: OpenAI/Python 1.82.0"]
        metadata: dict[str, Any] = {
            "user_api_key_alias": "incident-pipeline" if incident else "search-indexer",
            "user_api_key_team_id": "sre",
            "status": status,
        }
        if incident is not None:
            if style == "spend_logs_metadata":
                custom = {"incident_id": incident, "phase": phase or ""}
            elif style == "request_tags":
                tags += [f"incident:{incident}", f"phase:{phase}"]
            else:
                metadata.update(incident_id=incident, phase=phase)
        metadata["spend_logs_metadata"] = custom or None
        if failed:
            metadata["error_information"] = {"error_class": "APIConnectionError", "error_code": "500"}
        end = at + timedelta(seconds=duration)
        provider = "anthropic" if tier == self.w.top_tier else "openai"
        self.rows.append(
            {
                "request_id": f"chatcmpl-{rng.getrandbits(64):016x}",
                "call_type": "acompletion" if incident else "aembedding",
                "api_key": self.api_key,
                "spend": spend,
                "total_tokens": prompt + completion,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "startTime": at,
                "endTime": end,
                "request_duration_ms": int(duration * 1000),
                "completionStartTime": None if failed else at + timedelta(milliseconds=int(duration * 250)),
                "model": f"{provider}/{group}",
                "model_id": hashlib.sha256(group.encode()).hexdigest()[:32],
                "model_group": group,
                "custom_llm_provider": provider,
                "api_base": "http://10.20.0.40:8000/v1" if tier == self.w.tiers[0] else "",
                "user": "",
                "metadata": metadata,
                "cache_hit": "False",
                "cache_key": "",
                "request_tags": tags,
                "team_id": "sre",
                "organization_id": None,
                "end_user": "",
                "requester_ip_address": "10.20.0.7",
                "messages": {},
                "response": {},
                "session_id": f"session-{incident}" if incident else None,
                "status": status,
                "mcp_namespaced_tool_name": None,
                "agent_id": None,
                "proxy_server_request": {},
            }
        )
        return duration

    def incident(self, number: int, z: float, disputed: bool) -> None:
        w, rng = self.w, self.rng
        ident = f"INC-{number:04d}"
        style = TAG_STYLES[rng.randrange(len(TAG_STYLES))]
        at = w.day + timedelta(seconds=self.arrival())
        size = w.tokens_per_incident * math.exp(w.spread * z)
        weights = [share * (1 + rng.uniform(-0.1, 0.1)) for _, share in w.phase_shares]
        scale = size / sum(weights)
        for (phase, _), weight in zip(w.phase_shares, weights, strict=True):
            groups = w.model_groups[w.work_tier(phase)]
            for part in self.split(round(weight * scale), rng.randint(1, 2)):
                at += timedelta(seconds=self.row(at, groups[rng.randrange(len(groups))], part, ident, phase, style))
                at += timedelta(seconds=1 + rng.random() * 4)
            if disputed and phase == w.phase_shares[1 % len(w.phase_shares)][0]:
                review = round(w.review_share * size * rng.uniform(0.95, 1.05))
                top = w.model_groups[w.top_tier]
                for part in self.split(review, rng.randint(1, 2)):
                    at += timedelta(seconds=self.row(at, top[rng.randrange(len(top))], part, ident, phase, style))

    def other_traffic(self, count: int) -> None:
        for _ in range(count):
            at = self.w.day + timedelta(seconds=self.arrival())
            self.row(at, OTHER_APP_GROUP, self.rng.randint(200, 2000), None, None, "")


def generate(workload: Workload | None = None, seed: int = 11) -> list[dict[str, Any]]:
    """The spend-log rows of one day of ``workload``, sorted by ``startTime``."""
    w = workload or Workload()
    gen = _Gen(w, seed)
    disputed = set(gen.rng.sample(range(w.incidents), round(w.disputed_share * w.incidents)))
    normal = statistics.NormalDist()
    scores = [normal.inv_cdf((k + 0.5) / w.incidents) for k in range(w.incidents)]
    gen.rng.shuffle(scores)
    for i in range(w.incidents):
        gen.incident(i + 1, scores[i], i in disputed)
    gen.other_traffic(round(w.untagged_share * len(gen.rows)))
    return sorted(gen.rows, key=lambda r: (r["startTime"], r["request_id"]))


def _iso(value: Any, csv_form: bool) -> Any:
    if not isinstance(value, datetime):
        return value
    if csv_form:  # Postgres timestamp(3) without time zone, as COPY ... CSV writes it
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def to_json(rows: list[dict[str, Any]]) -> str:
    """The JSON list ``GET /spend/logs`` returns (one row a line)."""
    lines = [
        json.dumps({k: _iso(r[k], False) for k in COLUMNS}, ensure_ascii=False, separators=(",", ":")) for r in rows
    ]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    """A CSV export of the ``LiteLLM_SpendLogs`` table: Json columns as JSON text, NULL as empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        cells = []
        for k in columns:
            v = _iso(r[k], True)
            if k in JSON_COLUMNS and v is not None:
                v = json.dumps(v, ensure_ascii=False)
            cells.append("" if v is None else v)
        writer.writerow(cells)
    return buf.getvalue()


def write_samples(folder: str | Path) -> list[Path]:
    """The shipped samples: a quiet payment-gateway day (30 incidents) as the API's JSON and as a CSV export.

    The CSV holds the columns a ``SELECT request_id, "startTime", ... FROM "LiteLLM_SpendLogs"`` export
    would (``CSV_SAMPLE_COLUMNS``); the JSON holds every column, as ``/spend/logs`` returns them.
    """
    rows = generate(Workload(incidents=SAMPLE_INCIDENTS), seed=11)
    out = Path(folder)
    return [
        atomic_write_text(out / "litellm_spend_logs.json", to_json(rows)),
        atomic_write_text(out / "litellm_spend_logs.csv", to_csv(rows, CSV_SAMPLE_COLUMNS)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m budget.traffic.spendgen", description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", help="a .json (the /spend/logs list) or .csv (a table export) file")
    parser.add_argument("--samples", metavar="FOLDER", help="write the shipped samples into FOLDER")
    args = parser.parse_args(argv)
    if args.samples:
        for path in write_samples(args.samples):
            print(f"wrote {path}")
        return 0
    if not args.out or args.incidents <= 0:
        parser.error("give --out FILE and a positive --incidents, or --samples FOLDER")
    rows = generate(Workload(incidents=args.incidents), seed=args.seed)
    atomic_write_text(args.out, to_csv(rows) if args.out.lower().endswith(".csv") else to_json(rows))
    print(f"wrote {args.out}: {len(rows):,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
