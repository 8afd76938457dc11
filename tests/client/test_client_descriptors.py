"""The client's shipped gRPC descriptor set must match protos/ exactly."""

from __future__ import annotations

import runpy
from importlib.resources import files
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]


def _load(data: bytes) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    parsed = descriptor_pb2.FileDescriptorSet.FromString(data)
    return {f.name: f for f in parsed.file}


def test_shipped_descriptors_match_the_protos(tmp_path: Path) -> None:
    generator = runpy.run_path(str(ROOT / "client" / "scripts" / "gen_descriptors.py"))
    fresh = tmp_path / "fresh.binpb"
    generator["build"](fresh)
    shipped = files("minima_client._grpc").joinpath("minima_v1.binpb").read_bytes()
    expected, actual = _load(fresh.read_bytes()), _load(shipped)
    assert sorted(actual) == sorted(expected)
    stale = [name for name in expected if expected[name] != actual[name]]
    assert not stale, f"run client/scripts/gen_descriptors.py: {stale} changed"
