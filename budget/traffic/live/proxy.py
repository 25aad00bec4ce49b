"""Start and stop a real LiteLLM proxy with an exported config (tests, bench and demo).

The proxy runs as ``litellm`` from ``BUDGET_LITELLM`` (a path) or next to this Python; ``budget`` must be
importable by it (``PYTHONPATH`` is set to this checkout). Offline: the local cost map, no database.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

from budget.errors import BudgetError

LITELLM_ENV = "BUDGET_LITELLM"
MASTER_KEY = "sk-budget-keeper-local"
READY_TIMEOUT_SEC = 120.0


def litellm_executable() -> str:
    given = os.environ.get(LITELLM_ENV, "")
    if given:
        return given
    beside = Path(sys.executable).with_name("litellm")
    if beside.exists():
        return str(beside)
    found = shutil.which("litellm")
    if found is None:
        raise BudgetError(f"no litellm proxy: pip install 'litellm[proxy]==1.108.7' or set {LITELLM_ENV}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """A LiteLLM proxy process on 127.0.0.1, with the keeper's environment."""

    def __init__(self, config: Path, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root = str(Path(__file__).resolve().parents[3])
        full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        full.update(env)
        full["PYTHONPATH"] = root + os.pathsep + full.get("PYTHONPATH", "")
        full.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        full.setdefault("LITELLM_MASTER_KEY", MASTER_KEY)
        self.key = full["LITELLM_MASTER_KEY"]
        cmd = [litellm_executable(), "--config", str(config), "--port", str(self.port), "--host", "127.0.0.1"]
        if workers > 1:
            cmd += ["--num_workers", str(workers), "--timeout_worker_healthcheck", "60"]
        self.log_path = log
        self._log: BinaryIO = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, env=full, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = READY_TIMEOUT_SEC) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise BudgetError(f"the proxy exited with {self.proc.returncode}: see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/health/liveliness", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise BudgetError(f"the proxy did not answer within {timeout:.0f} s: see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(10)
        self._log.close()

    def chat(self, body: dict[str, Any], timeout: float = 30) -> tuple[int, dict[str, str], dict[str, Any]]:
        """POST /v1/chat/completions: (status, headers, JSON body)."""
        status, headers, data = self.post("/v1/chat/completions", body, timeout)
        try:
            parsed = json.loads(data or b"{}")
        except ValueError:
            parsed = {"raw": data.decode(errors="replace")}
        return status, headers, parsed

    def post(self, path: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        """POST ``path`` with the master key: (status, headers, the body's bytes)."""
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def decision_of(body: dict[str, Any]) -> dict[str, Any]:
    """The keeper's decision in a 429 body (``error.provider_specific_fields``)."""
    err = body.get("error") if isinstance(body, dict) else None
    fields = err.get("provider_specific_fields") if isinstance(err, dict) else None
    return fields if isinstance(fields, dict) else {}
