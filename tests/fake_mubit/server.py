"""A fake Mubit HTTP server on loopback, speaking the wire protocol mubit-sdk 1.0.4 uses.

Test support, not a mock of the SDK: the real `mubit.Client` talks to it over
HTTP. It serves the 13 routes of `mubit-wire-protocol.md` §5.1 (and a 404
for `/v2/loop/*`, as a server without loop v1 does), checks bearer keys
(`/v2/core/health` needs none), keeps one data `Instance` per key org, records
every request for assertions, and injects latency and faults per route.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .store import BadRequestError, Instance, Json, NotFoundError

Handler = Callable[[Instance, Json, dict[str, str]], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(method: str, path: str, handler: Handler) -> Route:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
    return Route(method, pattern, handler)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v2/control/ingest", lambda db, body, _: db.ingest(body)),
    _route(
        "GET",
        "/v2/control/ingest/jobs/{job_id}",
        lambda db, body, p: db.ingest_job(p["job_id"], str(body.get("run_id", ""))),
    ),
    _route("POST", "/v2/control/query", lambda db, body, _: db.query(body)),
    _route("POST", "/v2/core/lookup", lambda db, body, _: db.lookup(body)),
    _route("POST", "/v2/control/dereference", lambda db, body, _: db.dereference(body)),
    _route("POST", "/v2/control/outcome", lambda db, body, _: db.record_outcome(body)),
    _route("POST", "/v2/control/step_outcome", lambda db, body, _: db.record_step_outcome(body)),
    _route("POST", "/v2/control/batch_insert", lambda db, body, _: db.batch_insert(body)),
    _route("POST", "/v2/control/reflect", lambda db, body, _: db.reflect(body)),
    _route("POST", "/v2/control/strategies", lambda db, body, _: db.surface_strategies(body)),
    _route("POST", "/v2/control/diagnose", lambda db, body, _: db.diagnose(body)),
    _route("POST", "/v2/control/memory_health", lambda db, body, _: db.memory_health(body)),
)
HEALTH_PATH = "/v2/core/health"


def org_of(key: str) -> str:
    """Mubit instance a key opens: `mbt_<org>_<keyid>_<secret>` -> org."""
    parts = key.split("_", 3)
    return parts[1] if len(parts) == 4 else key


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    """What to do instead of (or before) serving requests whose path starts with `prefix`.

    `status` answers that HTTP status; `body`/`content_type` answer 200 with
    that raw payload (garbage); `drop` closes the connection unanswered;
    `delay_s` sleeps first. `times` limits how many requests it hits
    (None = all).
    """

    prefix: str
    status: int | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    drop: bool = False
    delay_s: float = 0.0
    times: int | None = None
    hits: int = 0


@dataclass
class _State:
    keys: set[str] = field(default_factory=set)
    instances: dict[str, Instance] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _reply(
        self,
        status: int,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"fake-{time.monotonic_ns()}")
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self, method: str, query: dict[str, str]) -> Any:
        if method == "GET":
            return dict(query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._read_body(method, query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with state.lock:
            state.log.append(RecordedRequest(method, url.path, query, headers, body))
            fault = next(
                (
                    f
                    for f in state.faults
                    if url.path.startswith(f.prefix) and (f.times is None or f.hits < f.times)
                ),
                None,
            )
            if fault is not None:
                fault.hits += 1
        if fault is not None and self._apply(fault):
            return
        if url.path == HEALTH_PATH and method == "GET":
            self._reply(200, {"status": "ok", "version": "fake"})
            return
        if url.path.startswith("/v2/loop/"):
            self._reply(404, {"error": "loop v1 not enabled"})
            return
        match = next(
            (
                (r, m)
                for r in ROUTES
                if r.method == method
                for m in [r.pattern.match(url.path)]
                if m
            ),
            None,
        )
        if match is None:
            self._reply(404, {"error": f"no route {method} {url.path}"})
            return
        token = headers.get("authorization", "")
        key = token[len("Bearer ") :] if token.startswith("Bearer ") else ""
        if key not in state.keys:
            self._reply(401, {"error": "invalid api key"})
            return
        if not isinstance(body, dict):
            self._reply(400, {"error": "body must be a JSON object"})
            return
        route, params = match
        with state.lock:
            instance = state.instances.setdefault(org_of(key), Instance())
            try:
                result = route.handler(instance, body, params.groupdict())
            except BadRequestError as exc:
                self._reply(400, {"error": str(exc)})
                return
            except NotFoundError as exc:
                self._reply(404, {"error": str(exc)})
                return
        self._reply(200, result)

    def _apply(self, fault: Fault) -> bool:
        """Play a fault; True when it replaced the answer."""
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.drop:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        if fault.status is not None:
            reason = HTTPStatus(fault.status).phrase
            self._reply(fault.status, {"error": f"injected {reason}"})
            return True
        if fault.body is not None:
            self._reply(200, raw=fault.body, content_type=fault.content_type)
            return True
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Concurrent clients (benchmarks, stalled-call tests) must not overflow the backlog.
    request_queue_size = 128
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (deadline) mid-answer is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeMubit:
    """Start with `start()` (or as a context manager); `url` is the endpoint."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self._state = _State(keys=set(keys))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self, port: int = 0) -> FakeMubit:
        server = _Server(("127.0.0.1", port), _RequestHandler)
        server.state = self._state
        self._server = server
        # A short poll interval keeps stop() fast.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name="fake-mubit", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeMubit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Mubit is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- control ----------------------------------------------------------------

    def add_key(self, key: str) -> None:
        with self._state.lock:
            self._state.keys.add(key)

    def revoke_key(self, key: str) -> None:
        with self._state.lock:
            self._state.keys.discard(key)

    def inject(self, prefix: str, **fault: Any) -> Fault:
        """Add a `Fault` for paths starting with `prefix` (first match wins)."""
        rule = Fault(prefix, **fault)
        with self._state.lock:
            self._state.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    # -- inspection -------------------------------------------------------------

    def requests(self, prefix: str = "") -> list[RecordedRequest]:
        with self._state.lock:
            return [r for r in self._state.log if r.path.startswith(prefix)]

    def clear_log(self) -> None:
        with self._state.lock:
            self._state.log.clear()

    def instance(self, key: str) -> Instance:
        """The data a key's org holds (created empty if unseen)."""
        with self._state.lock:
            return self._state.instances.setdefault(org_of(key), Instance())
