"""The REST adapter: the documented /v1 JSON contract over the gRPC service.

Routes come from the `google.api.http` annotations (routes.py), JSON <-> proto
from the descriptors (jsonmap.py, query.py), and every call goes through a real
gRPC channel (transcode.py) so the server's interceptors run for REST too.
Errors are problem+json (problem.py). `gateway_companion` runs it beside the
gRPC server in one event loop; `run_gateway` runs it alone (serve.py).
"""

from __future__ import annotations

from minima_grpc.gateway.app import create_app
from minima_grpc.gateway.serve import (
    RunningGateway,
    gateway_companion,
    run_gateway,
    serve_gateway,
)

__all__ = ["RunningGateway", "create_app", "gateway_companion", "run_gateway", "serve_gateway"]
