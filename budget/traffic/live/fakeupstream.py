"""A fake OpenAI-compatible upstream on 127.0.0.1 that counts hits per tier and can fail a tier.

For the tests, the bench and the demo: ``POST /v1/chat/completions`` answers with usage
(prompt: the messages' characters / 4, completion: ``max_tokens`` or 7) unless the requested model
is failing (HTTP 500), as server-sent events when the request asks ``stream``; ``GET /_stats`` gives
the hits per model; ``POST /_fail`` ``{"model": ..., "fail": true|false}`` pulls or restores a tier;
``POST /_reset`` clears both.
Standard library only, one thread per connection.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeUpstream:
    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.failing: set[str] = set()
        self.last_auth: str | None = None  # the Authorization header of the last completion asked for
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeUpstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def fail(self, model: str, failing: bool = True) -> None:
        with self.lock:
            (self.failing.add if failing else self.failing.discard)(model)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return dict(self.hits)

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.failing.clear()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        model = str(body.get("model", "")).removeprefix("openai/")
        with self.lock:
            self.hits[model] = self.hits.get(model, 0) + 1
            failing = model in self.failing
        if failing:
            return 500, {"error": {"message": f"{model} is down (fake upstream)", "type": "server_error"}}
        chars = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [] if isinstance(m, dict))
        prompt = max(1, chars // 4)
        asked = body.get("max_tokens")
        completion: int = asked if isinstance(asked, int) and not isinstance(asked, bool) else 7
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1767225600,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }


def _handler(up: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as written, not 40 ms apart (delayed ACK)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, answer: dict[str, Any]) -> None:
            """The answer as server-sent events: a chunk with the content, one with the finish and the usage."""
            base = {k: answer[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
            choice = answer["choices"][0]
            chunks = [
                base | {"choices": [{"index": 0, "delta": choice["message"], "finish_reason": None}]},
                base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": answer["usage"]},
            ]
            data = b"".join(b"data: %s\n\n" % json.dumps(c).encode() for c in chunks) + b"data: [DONE]\n\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            try:
                got = json.loads(self.rfile.read(min(n, 1 << 20)) or b"{}")
            except ValueError:
                return {}
            return got if isinstance(got, dict) else {}

        def do_GET(self) -> None:
            if self.path.startswith("/_stats"):
                self._send(200, up.stats())
            else:
                self._send(200, {"object": "list", "data": []})

        def do_POST(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            body = self._body()
            if path == "/_fail":
                up.fail(str(body.get("model", "")), bool(body.get("fail", True)))
                self._send(200, {"failing": sorted(up.failing)})
            elif path == "/_reset":
                up.reset()
                self._send(200, {"ok": True})
            elif path.endswith("/chat/completions"):
                up.last_auth = self.headers.get("Authorization")
                code, answer = up.answer(body)
                if code == 200 and body.get("stream"):
                    self._stream(answer)
                else:
                    self._send(code, answer)
            else:
                self._send(404, {"error": {"message": "not found"}})

    return Handler
