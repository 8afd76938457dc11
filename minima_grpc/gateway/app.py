"""The gateway's ASGI application (Starlette).

Routes: one per http rule (routes.py), plus `/metrics` (Prometheus text of
`registry`), `/openapi.json` and `/docs` (Swagger UI served from the
swagger-ui-bundle package, so it works offline). Unknown paths give 404 and
wrong methods 405 with `Allow`, both as problem+json; trailing slashes are
not redirected.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.routing import Route as HttpRoute
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from minima_grpc import __version__, v1
from minima_grpc.gateway.comments import load_comments
from minima_grpc.gateway.middleware import HttpMetrics, MetricsMiddleware, RequestIdMiddleware
from minima_grpc.gateway.openapi import openapi_document
from minima_grpc.gateway.problem import INTERNAL_DETAIL, Problem
from minima_grpc.gateway.routes import Route, build_routes
from minima_grpc.gateway.transcode import Fallback, Limits, RpcEndpoint

log = logging.getLogger("minima.gateway")


def unreachable_health() -> v1.GetHealthResponse:
    """GetHealth "always answers" (200): this is the body when the server cannot.

    Degraded, nothing known about memory, no catalog vouched for; the version
    is the gateway's own.
    """
    return v1.GetHealthResponse(
        status=v1.HealthStatus.HEALTH_STATUS_DEGRADED,
        memory=v1.MemoryHealth(),
        catalog=v1.CatalogHealth(version="", stale=True, models=0),
        version=__version__,
    )


# RPCs documented to always answer 200, and what to answer when the call fails.
ALWAYS_ANSWERS: Mapping[str, Fallback] = {v1.method_path("GetHealth"): unreachable_health}

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Minima API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


def create_app(
    channel: grpc.aio.Channel,
    limits: Limits,
    registry: CollectorRegistry,
    *,
    routes: Sequence[Route] | None = None,
    auth_exempt: Collection[str] = (),
) -> Starlette:
    """The REST adapter over `channel`; HTTP metrics are registered on `registry`."""
    routes = build_routes([v1.service_pb2.DESCRIPTOR]) if routes is None else routes
    document = openapi_document(
        routes,
        title="Minima API",
        version=__version__,
        comments=load_comments(),
        auth_exempt=auth_exempt,
    )
    openapi_bytes = json.dumps(document, ensure_ascii=False).encode("utf-8")

    async def openapi(_: Request) -> Response:
        return Response(openapi_bytes, media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(_DOCS_PAGE)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    http_routes: list[BaseRoute] = [
        *_rpc_routes(routes, channel, limits),
        HttpRoute("/openapi.json", openapi, methods=["GET"]),
        HttpRoute("/docs", docs, methods=["GET"]),
        Mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path))),
        HttpRoute("/metrics", metrics, methods=["GET"]),
    ]
    app = Starlette(
        routes=http_routes,
        middleware=[
            Middleware(MetricsMiddleware, metrics=HttpMetrics(registry)),
            Middleware(RequestIdMiddleware),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    app.router.redirect_slashes = False
    return app


def _rpc_routes(
    routes: Sequence[Route], channel: grpc.aio.Channel, limits: Limits
) -> list[BaseRoute]:
    by_path: dict[str, dict[str, RpcEndpoint]] = {}
    for route in routes:
        endpoint = RpcEndpoint(route, channel, limits, ALWAYS_ANSWERS.get(route.rpc_path))
        by_path.setdefault(route.path, {})[route.http_method] = endpoint
    return [
        HttpRoute(path, _dispatch(endpoints), methods=list(endpoints))
        for path, endpoints in by_path.items()
    ]


def _dispatch(endpoints: Mapping[str, RpcEndpoint]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Starlette answers HEAD on GET routes; HEAD runs the GET.
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


_TITLES = {404: "Not found", 405: "Method not allowed"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    elif status == 404:
        detail = f"no route {request.url.path}"
    else:
        detail = exc.detail
    title = _TITLES.get(status, detail)
    problem = Problem(status, title, detail, request.state.request_id, headers=exc.headers or {})
    return problem.response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    rid: str = getattr(request.state, "request_id", "")
    fields = {"request_id": rid}
    log.error("unhandled error in the REST gateway", exc_info=exc, extra={"fields": fields})
    response = Problem(500, "Internal error", INTERNAL_DETAIL, rid).response()
    # This handler answers outside RequestIdMiddleware, so the echo is added here.
    response.headers["x-request-id"] = rid
    return response
