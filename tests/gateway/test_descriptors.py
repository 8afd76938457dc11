"""Everything the gateway derives from descriptors: the route table, the
OpenAPI operations, and the shipped proto comments."""

from __future__ import annotations

import itertools
from typing import Any, cast

import pytest
from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor

from minima_grpc import v1
from minima_grpc.gateway.comments import COMMENTS_FILE, compile_protos, extract, render
from minima_grpc.gateway.openapi import openapi_document
from minima_grpc.gateway.routes import RouteError, build_routes

_names = itertools.count()


def annotated_file(*methods: tuple[str, dict[str, Any], bool]) -> FileDescriptor:
    """A new .proto in the default pool: service Extra with (name, http rule, streaming);
    an empty rule leaves the method unannotated."""
    number = next(_names)
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"gateway_test/extra_{number}.proto",
        package=f"gateway_test{number}",
        syntax="proto3",
        dependency=["minima/v1/recommendation_service.proto", "google/api/annotations.proto"],
    )
    service = proto.service.add(name="Extra")
    for name, rule, streaming in methods:
        method = service.method.add(
            name=name,
            input_type=".minima.v1.ListModelsRequest",
            output_type=".minima.v1.ListModelsResponse",
            server_streaming=streaming,
        )
        if rule:
            method.options.Extensions[annotations_pb2.http].CopyFrom(http_pb2.HttpRule(**rule))
    return descriptor_pool.Default().AddSerializedFile(proto.SerializeToString())


def test_routes_are_the_http_annotations() -> None:
    service = v1.SERVICE_DESCRIPTOR
    expected = set()
    for method in service.methods:
        rule = method.GetOptions().Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        expected.add((verb.upper(), getattr(rule, verb), f"/{service.full_name}/{method.name}"))

    routes = build_routes([v1.service_pb2.DESCRIPTOR])

    assert {(r.http_method, r.path, r.rpc_path) for r in routes} == expected
    assert len(routes) == len(expected) == 6
    recommend = next(r for r in routes if r.path == "/v1/recommend")
    assert recommend.request_class().DESCRIPTOR.full_name == "minima.v1.RecommendRequest"
    assert recommend.has_body


def test_an_annotated_rpc_adds_its_route_and_operation() -> None:
    file = annotated_file(
        (
            "Ping",
            {"get": "/v1/ping", "additional_bindings": [{"post": "/v1/ping", "body": "*"}]},
            False,
        ),
        ("Unrouted", {}, False),
    )
    routes = build_routes([v1.service_pb2.DESCRIPTOR, file])

    extra = [(r.http_method, r.path) for r in routes if r.method.containing_service.name == "Extra"]
    assert extra == [("GET", "/v1/ping"), ("POST", "/v1/ping")]
    paths = openapi_document(routes, title="t", version="v", comments={})["paths"]
    assert isinstance(paths, dict)
    assert set(cast(dict[str, Any], paths["/v1/ping"])) == {"get", "post"}


@pytest.mark.parametrize(
    ("rule", "streaming", "message"),
    [
        ({"get": "/v1/things/{model_id}"}, False, "path variables"),
        ({"post": "/v1/things:run", "body": "*"}, False, "verbs"),
        ({"post": "/v1/things", "body": "provider"}, False, "needs body '*'"),
        ({"get": "/v1/things", "body": "*"}, False, "needs body ''"),
        ({"post": "/v1/things", "body": "*", "response_body": "models"}, False, "response_body"),
        ({"get": "/v1/things"}, True, "unary"),
        ({"get": "/v1/models"}, False, "already"),
        (
            {
                "get": "/v1/a",
                "additional_bindings": [
                    {"get": "/v1/b", "additional_bindings": [{"get": "/v1/c"}]}
                ],
            },
            False,
            "nested",
        ),
    ],
)
def test_rules_the_gateway_cannot_serve_fail_at_start_up(
    rule: dict[str, Any], streaming: bool, message: str
) -> None:
    file = annotated_file(("Thing", rule, streaming))
    with pytest.raises(RouteError, match=message):
        build_routes([v1.service_pb2.DESCRIPTOR, file])


def test_shipped_comments_match_the_protos() -> None:
    # Regenerate with: python -m minima_grpc.gateway.comments
    assert COMMENTS_FILE.read_text(encoding="utf-8") == render(extract(compile_protos()))
