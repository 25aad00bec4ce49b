"""The live keeper's state in Redis (several hosts): the same operations as the SQLite store.

A small RESP client on a socket (no dependency); every operation that checks and writes is one Lua
script (``EVAL``), which Redis runs atomically. Keys: ``budget:keeper:<day>:log`` (a list of JSON
records), ``:facts`` (the same records of incidents seen and tiers down and up, which the keeper's run
reads), ``:incidents`` and ``:counters`` (hashes), and ``budget:keeper:tiers`` (tier -> down since).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from budget.errors import BudgetError
from budget.traffic.live.store import FACT_KINDS, STATE_ENV, Reservation

PREFIX = "budget:keeper:"
TIMEOUT_SEC = 2.0

_FIRST_SEEN = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('RPUSH', KEYS[3], ARGV[3])
  return ARGV[2]
end
return redis.call('HGET', KEYS[1], ARGV[1])
"""
_SET_TIER = """
local was = redis.call('HGET', KEYS[1], ARGV[1])
local down = ARGV[2] == '1'
if (was ~= false) == down then return 0 end
if down then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) else redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[4])
return 1
"""
_RESERVE = """
local n = #ARGV / 3
for i = 0, n - 1 do
  local v = tonumber(redis.call('HGET', KEYS[1], ARGV[3 * i + 1]) or '0')
  if v + tonumber(ARGV[3 * i + 2]) > tonumber(ARGV[3 * i + 3]) then return ARGV[3 * i + 1] end
end
for i = 0, n - 1 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[3 * i + 1], ARGV[3 * i + 2]) end
return ''
"""


class RedisStore:
    def __init__(self, url: str) -> None:
        u = urlparse(url)
        self.url = url
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 6379
        self.db = int(u.path.strip("/") or 0) if u.path.strip("/").isdigit() or not u.path.strip("/") else -1
        if self.db < 0:
            raise BudgetError(f"{STATE_ENV}={url}: the database must be a number (redis://host:port/0)")
        self._local = threading.local()
        self._all: list[socket.socket] = []
        self._lock = threading.Lock()
        self._call("PING")

    def close(self) -> None:
        """Close every connection this store opened, in any thread."""
        with self._lock:
            for s in self._all:
                s.close()
            self._all = []

    def _sock(self) -> tuple[socket.socket, Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                s = socket.create_connection((self.host, self.port), timeout=TIMEOUT_SEC)
            except OSError as exc:
                raise BudgetError(f"{STATE_ENV}={self.url}: Redis does not answer ({exc})") from None
            conn = self._local.conn = (s, s.makefile("rb"))
            with self._lock:
                self._all.append(s)
            if self.db:
                self._call("SELECT", str(self.db))
        return conn  # type: ignore[no-any-return]

    def _call(self, *args: str) -> Any:
        s, reader = self._sock()
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        try:
            s.sendall(b"".join(out))
            return _read(reader, self.url)
        except (OSError, ValueError) as exc:
            self._local.conn = None
            s.close()
            raise BudgetError(f"{STATE_ENV}={self.url}: Redis does not answer ({exc})") from None

    def _k(self, day: str, name: str) -> str:
        return f"{PREFIX}{day}:{name}"

    def first_seen(self, day: str, incident: str, record: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(record, sort_keys=True)
        entry = json.dumps({"kind": "seen", "body": record}, sort_keys=True)
        self._call("SADD", PREFIX + "days", day)
        got = self._call(
            "EVAL",
            _FIRST_SEEN,
            "3",
            self._k(day, "incidents"),
            self._k(day, "log"),
            self._k(day, "facts"),
            incident,
            body,
            entry,
        )
        return dict(json.loads(got))

    def set_tier(self, day: str, tier: str, down: bool, record: dict[str, Any]) -> bool:
        entry = json.dumps({"kind": "down" if down else "up", "body": record}, sort_keys=True)
        keys = (PREFIX + "tiers", self._k(day, "log"), self._k(day, "facts"))
        self._call("SADD", PREFIX + "days", day)
        return bool(self._call("EVAL", _SET_TIER, "3", *keys, tier, "1" if down else "0", str(record["t"]), entry))

    def tiers_down(self) -> dict[str, float]:
        flat = self._call("HGETALL", PREFIX + "tiers") or []
        return {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2)}

    def reserve(self, day: str, items: Reservation) -> str | None:
        args = [str(x) for key, amount, limit in items for x in (key, repr(float(amount)), repr(float(limit)))]
        got = self._call("EVAL", _RESERVE, "1", self._k(day, "counters"), *args)
        return got or None

    def reserve_and_log(self, day: str, items: Reservation, record: Callable[[str | None], dict[str, Any]]) -> None:
        """Reserve (one Lua script), then log the decision made of the outcome."""
        self.log(day, "decision", record(self.reserve(day, items)))

    def reconcile(self, day: str, items: list[tuple[str, float]], record: dict[str, Any]) -> None:
        """Move the counters by ``items`` and log the usage ``record``."""
        for key, delta in items:
            self._call("HINCRBYFLOAT", self._k(day, "counters"), key, repr(float(delta)))
        self.log(day, "usage", record)

    def log(self, day: str, kind: str, record: dict[str, Any]) -> None:
        self._call("RPUSH", self._k(day, "log"), json.dumps({"kind": kind, "body": record}, sort_keys=True))
        self._call("SADD", PREFIX + "days", day)

    def events(self, day: str, facts_only: bool = False) -> list[tuple[str, dict[str, Any]]]:
        rows = self._call("LRANGE", self._k(day, "log"), "0", "-1") or []
        out = []
        for r in rows:
            e = json.loads(r)
            if not facts_only or e["kind"] in FACT_KINDS:
                out.append((str(e["kind"]), dict(e["body"])))
        return out

    def facts(self, day: str, after: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """The day's facts (seen, down, up) after the first ``after`` of them, and how many there are now."""
        rows = self._call("LRANGE", self._k(day, "facts"), str(after), "-1") or []
        return [(str(e["kind"]), dict(e["body"])) for e in map(json.loads, rows)], after + len(rows)

    def counters(self, day: str) -> dict[str, float]:
        flat = self._call("HGETALL", self._k(day, "counters")) or []
        return dict(sorted((flat[i], float(flat[i + 1])) for i in range(0, len(flat), 2)))

    def days(self) -> list[str]:
        return sorted(self._call("SMEMBERS", PREFIX + "days") or [])

    def get_meta(self, key: str) -> str | None:
        got = self._call("HGET", PREFIX + "meta", key)
        return None if got is None else str(got)

    def set_meta(self, key: str, value: str) -> None:
        self._call("HSET", PREFIX + "meta", key, value)


def _read(reader: Any, url: str) -> Any:
    """One RESP reply: simple string, error, integer, bulk string or array (strings decoded as UTF-8)."""
    line = reader.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise BudgetError(f"{STATE_ENV}={url}: Redis refused a command ({rest.decode()[:200]})")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)
        return data[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(reader, url) for _ in range(n)]
    raise OSError(f"unexpected reply {line[:20]!r}")
