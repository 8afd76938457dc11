"""Regenerate the client's gRPC descriptor set from protos/ (run by `make proto`).

The client talks gRPC without generated Python modules: it ships one
FileDescriptorSet (the minima.v1 API plus google.rpc.Status and its error
details, with every import) and builds message classes from it at run time in
a private descriptor pool. That keeps the client free of server code, of
googleapis-common-protos and of the protobuf gencode version floor.

Usage: python client/scripts/gen_descriptors.py [OUTPUT]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
TARGET = ROOT / "client" / "minima_client" / "_grpc" / "minima_v1.binpb"
GOOGLEAPIS = Path(__import__("google.api", fromlist=["x"]).__path__[0]).parent.parent
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"
EXTRA = ("google/rpc/status.proto", "google/rpc/error_details.proto")


def build(output: Path) -> None:
    """Write the descriptor set for every proto under protos/ to `output`."""
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        cmd = [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{PROTOS}", f"-I{GOOGLEAPIS}", f"-I{WELL_KNOWN}",
            "--include_imports", f"--descriptor_set_out={out}",
            *sources, *EXTRA,
        ]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=PROTOS)
        output.write_bytes(out.read_bytes())


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
