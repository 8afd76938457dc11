"""The REST routing table, read from the `google.api.http` annotations.

Built once at start-up from the compiled descriptors, so an annotated RPC is a
route and nothing is listed twice. The adapter supports what the minima.v1
protos use and fails fast on anything else rather than serving it wrongly:
fixed paths (no `{variables}`), `body: "*"` on methods with a body and no body
on GET/DELETE, additional_bindings one level deep, no response_body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.descriptor import FileDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

_BODYLESS = frozenset({"GET", "DELETE"})


class RouteError(ValueError):
    """An http annotation the adapter cannot serve faithfully."""


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP method + path bound to one unary RPC."""

    http_method: str
    path: str
    method: MethodDescriptor
    request_class: type[Message]
    response_class: type[Message]

    @property
    def rpc_path(self) -> str:
        """The gRPC method path, `/package.Service/Method`."""
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def has_body(self) -> bool:
        return self.http_method not in _BODYLESS


def build_routes(files: Iterable[FileDescriptor]) -> tuple[Route, ...]:
    """Every annotated unary RPC of every service in `files`, in declaration order."""
    routes: list[Route] = []
    seen: dict[tuple[str, str], str] = {}
    for file in files:
        for service in file.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(annotations_pb2.http):
                    continue
                rule = options.Extensions[annotations_pb2.http]
                if any(extra.additional_bindings for extra in rule.additional_bindings):
                    raise RouteError(f"{method.full_name}: nested additional_bindings")
                for binding in (rule, *rule.additional_bindings):
                    route = _route(method, binding)
                    key = (route.http_method, route.path)
                    if key in seen:
                        raise RouteError(f"{method.full_name}: {key} is already {seen[key]}")
                    seen[key] = method.full_name
                    routes.append(route)
    return tuple(routes)


def _route(method: MethodDescriptor, rule: http_pb2.HttpRule) -> Route:
    where = method.full_name
    if method.client_streaming or method.server_streaming:
        raise RouteError(f"{where}: only unary RPCs can be routed")
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        raise RouteError(f"{where}: http rule without a method and path")
    if pattern == "custom":
        http_method, path = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, path = pattern.upper(), getattr(rule, pattern)
    if "{" in path or ":" in path:
        raise RouteError(f"{where}: path variables and verbs are not supported ({path})")
    expected_body = "" if http_method in _BODYLESS else "*"
    if rule.body != expected_body:
        raise RouteError(f"{where}: {http_method} needs body {expected_body!r}, not {rule.body!r}")
    if rule.response_body:
        raise RouteError(f"{where}: response_body is not supported")
    return Route(
        http_method=http_method,
        path=path,
        method=method,
        request_class=GetMessageClass(method.input_type),
        response_class=GetMessageClass(method.output_type),
    )
