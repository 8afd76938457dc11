"""A local HTTP server speaking the Anthropic Messages and OpenAI Chat
Completions wire formats, so the reasoner is tested through the real SDKs.

    with FakeLLM(reply=lambda request: '{"success": {...}}') as llm:
        llm.base_url("anthropic")  # -> http://127.0.0.1:<port>
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Reply = Callable[[dict[str, Any]], str]


class FakeLLM:
    def __init__(self, reply: Reply, *, status: int = 200, delay_s: float = 0.0) -> None:
        self.reply = reply
        self.status = status
        self.delay_s = delay_s
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def base_url(self, provider: str) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        root = f"http://{host}:{port}"
        return root if provider == "anthropic" else f"{root}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append((self.path, body))
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                if fake.status != 200:
                    self._send(fake.status, {"error": {"type": "api_error", "message": "boom"}})
                elif self.path.endswith("/messages"):
                    self._send(200, _anthropic(body, fake.reply(body)))
                elif self.path.endswith("/chat/completions"):
                    self._send(200, _openai(body, fake.reply(body)))
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _anthropic(request: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "fake"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }


def _openai(request: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def user_payload(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON brief the reasoner sent, whichever provider format carried it."""
    for message in request["messages"]:
        if message["role"] == "user":
            content = message["content"]
            return dict(json.loads(content if isinstance(content, str) else content[0]["text"]))
    raise AssertionError("no user message in the request")
