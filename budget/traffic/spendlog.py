"""LiteLLM spend logs in: the JSON list the proxy's ``/spend/logs`` returns, or a CSV export of its table.

The rows are LiteLLM's ``LiteLLM_SpendLogs`` table (``schema.prisma``): ``request_id``,
``call_type``, ``api_key``, ``spend`` (USD), ``total_tokens``, ``prompt_tokens``,
``completion_tokens``, ``startTime``, ``endTime``, ``model``, ``model_id``, ``model_group``,
``api_base``, ``user``, ``metadata`` (Json), ``cache_hit``, ``cache_key``, ``request_tags``
(Json list), ``team_id``, ``end_user``, ``session_id``, ``status`` and more. Read here:

- The JSON is the list ``GET /spend/logs?start_date=...&end_date=...&summarize=false`` returns
  (with dates and without ``summarize=false`` the proxy answers with daily sums instead), or one
  page of ``/spend/logs/v2`` (an object whose ``data`` is that list).
- ``request_id``, ``startTime`` and ``total_tokens`` are required (a row without them is not
  LiteLLM's shape); the tier comes from ``model_group`` (the public model name), or from
  ``model`` when ``model_group`` is empty.
- ``status`` is ``success`` or ``failure`` (LiteLLM's ``StandardLoggingPayloadStatus``); rows
  written before the column existed carry it as ``metadata.status``; neither means success.
  Failed requests are kept here, marked, so that the fit can leave them out and count them.
- In the JSON the Json columns are objects (a JSON string is read too); in a CSV they are JSON
  text, and an empty cell is NULL. ``startTime`` is ISO 8601 (``2026-11-24T03:10:12.345000+00:00``
  from the API, ``2026-11-24 03:10:12.345`` from a Postgres export); a time without an offset is UTC.
- The tagging convention (docs/litellm-spend-logs.md): the incident of a request is
  ``metadata.spend_logs_metadata.incident_id`` (the proxy stores a request's
  ``metadata.spend_logs_metadata`` in the row), ``metadata.incident_id``, or a request tag
  ``incident:ID`` (the request's ``metadata.tags``); its phase likewise ``phase`` / ``phase:NAME``.
  Two places that disagree are an error.

Every error is one line naming the file and the record: ``file:record N`` in JSON (N counts
from 1), ``file:LINE`` in a CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from budget.errors import BudgetError
from budget.files import MAX_TOKENS_PER_INCIDENT, SPEND_LOG_FORMATS, bad_character, name_problem, read_text, short_repr

MAX_SPEND_LOG_BYTES = 64 * 1024 * 1024
REQUIRED = ("request_id", "startTime", "total_tokens")
TAG_KEYS = {"incident": "incident_id", "phase": "phase"}
FORMATS = SPEND_LOG_FORMATS


@dataclass(frozen=True)
class SpendRecord:
    """One row of the spend log, reduced to what the fit reads."""

    where: str
    request_id: str
    start: datetime
    model_group: str
    tokens: int
    spend: float
    failed: bool
    incident: str | None
    phase: str | None

    @property
    def label(self) -> str:
        """``file:record N (request_id X)``: how an error names this record."""
        return _label(self.where, self.request_id)


def _label(where: str, request_id: object) -> str:
    if isinstance(request_id, str) and request_id and len(request_id) <= 80:
        return f"{where} (request_id {request_id})"
    return where


@dataclass(frozen=True)
class SpendLog:
    source: str
    format: str
    records: tuple[SpendRecord, ...]


class _Bad(Exception):
    pass


def _json_column(value: Any, name: str, kind: type) -> Any:
    if value is None or value == "":
        return kind()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _Bad(f"{name}: not valid JSON ({exc.msg})") from None
        if value is None:
            return kind()
    if not isinstance(value, kind):
        raise _Bad(f"{name}: must be a JSON {'object' if kind is dict else 'list'}, got {type(value).__name__}")
    return value


def _tokens(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{name}: must be a whole number of tokens, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            raise _Bad(f"{name}: must be a whole number of tokens, got {text[:40]!r}") from None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _Bad(f"{name}: must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise _Bad(f"{name}: must not be negative, got {value}")
    if value > MAX_TOKENS_PER_INCIDENT:  # one request above what a whole incident may cost
        raise _Bad(f"{name}: {value:,} tokens in one request, over the {MAX_TOKENS_PER_INCIDENT:,} limit")
    return value


def _spend(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise _Bad(f"spend: must be a number of USD, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"spend: must be a number of USD, got {str(value)[:40]!r}") from None
    if not math.isfinite(x) or x < 0:
        raise _Bad(f"spend: must be a finite, non-negative number of USD, got {value!r}")
    return x


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"startTime: must be an ISO 8601 time, got {value!r}")
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f"startTime: not an ISO 8601 time: {value.strip()[:40]!r}") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _failed(row: dict[str, Any], metadata: dict[str, Any]) -> bool:
    status = row.get("status")
    if status is None or status == "":
        status = metadata.get("status")
    if status is None or status == "":
        return False
    text = str(status).strip().lower()
    if text not in ("success", "failure"):
        raise _Bad(f"status: must be success or failure (LiteLLM's values), got {status!r}")
    return text == "failure"


def _tag(metadata: dict[str, Any], tags: list[Any], what: str) -> str | None:
    """The incident id or phase of a request, from wherever the team put it."""
    key = TAG_KEYS[what]
    found: list[tuple[str, str]] = []
    inner = metadata.get("spend_logs_metadata")
    if isinstance(inner, dict) and inner.get(key) not in (None, ""):
        found.append(("metadata.spend_logs_metadata", str(inner[key]).strip()))
    if metadata.get(key) not in (None, ""):
        found.append(("metadata", str(metadata[key]).strip()))
    for tag in tags:
        if isinstance(tag, str) and tag.lower().startswith(f"{what}:") and tag[len(what) + 1 :].strip():
            found.append(("request_tags", tag[len(what) + 1 :].strip()))
    values = {v for _, v in found}
    if len(values) > 1:
        detail = ", ".join(f"{v!r} in {place}" for place, v in found)
        raise _Bad(f"{key}: the tags disagree ({detail})")
    if found and bad_character(found[0][1]):
        raise _Bad(f"{key}: {short_repr(found[0][1])} {name_problem(found[0][1])}")
    return found[0][1] if found else None


def _record(row: Any, where: str) -> SpendRecord:
    if not isinstance(row, dict):
        raise _Bad(f"not LiteLLM's spend-log shape: a row must be an object, got {type(row).__name__}")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        hint = "; ask /spend/logs with summarize=false for rows" if "request_id" in missing else ""
        raise _Bad(
            f"not LiteLLM's spend-log shape: missing {', '.join(missing)} (a LiteLLM_SpendLogs row has them{hint})"
        )
    group = row.get("model_group") or row.get("model")
    if not isinstance(group, str) or not group.strip():
        raise _Bad("model_group: empty (and no model): cannot tell the tier")
    if bad_character(group):
        raise _Bad(f"model_group: {short_repr(group)} {name_problem(group.strip()) or 'holds a control character'}")
    metadata = _json_column(row.get("metadata"), "metadata", dict)
    tags = _json_column(row.get("request_tags"), "request_tags", list)
    return SpendRecord(
        where=where,
        request_id=str(row["request_id"]),
        start=_time(row["startTime"]),
        model_group=group.strip(),
        tokens=_tokens(row["total_tokens"], "total_tokens"),
        spend=_spend(row.get("spend")),
        failed=_failed(row, metadata),
        incident=_tag(metadata, tags, "incident"),
        phase=_tag(metadata, tags, "phase"),
    )


def _json_rows(text: str, name: str) -> list[tuple[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BudgetError(
            f"{name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno}); a spend log is one JSON list "
            "(the /spend/logs answer) or a CSV export"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]  # the paginated form of the UI's logs endpoint
    if not isinstance(data, list):
        raise BudgetError(
            f"{name}: not LiteLLM's spend-log shape: expected the JSON list /spend/logs returns "
            f"(or an object with a data list), got {type(data).__name__}"
        )
    return [(f"{name}:record {i}", row) for i, row in enumerate(data, 1)]


def _csv_rows(text: str, name: str) -> list[tuple[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [f.strip() for f in (reader.fieldnames or [])]
        missing = [k for k in REQUIRED if k not in header]
        if missing:
            raise BudgetError(
                f"{name}:1: not a LiteLLM_SpendLogs CSV export: missing column(s) {', '.join(missing)} "
                f"(the header names {', '.join(header[:6]) or 'nothing'})"
            )
        rows: list[tuple[str, Any]] = []
        line = reader.line_num + 1
        for row in reader:
            if None in row:
                raise BudgetError(f"{name}:{line}: more fields than the header")
            rows.append((f"{name}:{line}", {k.strip(): v for k, v in row.items()}))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise BudgetError(f"{name}:{reader.line_num}: not a readable CSV row ({exc})") from None
    return rows


def parse_spend_log(text: str, name: str = "<spend log>", fmt: str | None = None) -> SpendLog:
    """Every row of an export, checked; raises :class:`BudgetError` naming the first bad record."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise BudgetError(f"{name}: file is empty")
    if fmt is None:
        fmt = "csv" if name.lower().endswith(".csv") else "json" if text.lstrip()[:1] in "[{" else "csv"
    if fmt not in FORMATS:
        raise BudgetError(f"format {fmt!r}: use json or csv")
    rows = _json_rows(text, name) if fmt == "json" else _csv_rows(text, name)
    if not rows:
        raise BudgetError(f"{name}: no spend-log records")
    records = []
    for where, row in rows:
        try:
            records.append(_record(row, where))
        except _Bad as exc:
            rid = row.get("request_id") if isinstance(row, dict) else None
            raise BudgetError(f"{_label(where, rid)}: {exc}") from None
    return SpendLog(source=name, format=fmt, records=tuple(records))


def read_spend_log(path: str | Path, fmt: str | None = None) -> SpendLog:
    """Read an export from disk (at most :data:`MAX_SPEND_LOG_BYTES`)."""
    return parse_spend_log(read_text(path, MAX_SPEND_LOG_BYTES), str(path), fmt)
