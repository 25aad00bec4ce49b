"""A fake OpenAI-compatible upstream on 127.0.0.1 that counts every hit per model and can fail a model.

The gateway tests point every tier at it and count what the upstream saw: a config that only loads
proves nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeUpstream:
    """``/v1/chat/completions`` answers with a completion and its usage; ``fail(model)`` makes it answer 500."""

    def __init__(self, usage: tuple[int, int] = (11, 7)) -> None:
        self.hits: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.failing: dict[str, int] = {}
        self.usage = usage
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                size = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(size) or b"{}")
                except ValueError:
                    body = {}
                model = str(body.get("model", "?"))
                with upstream._lock:
                    upstream.hits[model] += 1
                    upstream.requests.append({"path": self.path, "auth": self.headers.get("authorization"), **body})
                    status = upstream.failing.get(model)
                if status:
                    self._send(status, {"error": {"message": f"{model} is down", "type": "server_error"}})
                    return
                prompt, completion = upstream.usage
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{sum(upstream.hits.values())}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, model: str, status: int = 500) -> None:
        with self._lock:
            self.failing[model] = status

    def heal(self, model: str) -> None:
        with self._lock:
            self.failing.pop(model, None)

    def reset(self) -> None:
        with self._lock:
            self.hits.clear()
            self.requests.clear()
            self.failing.clear()
