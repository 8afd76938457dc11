"""Proto comments, kept for the OpenAPI descriptions.

Generated `_pb2` descriptors drop source comments, so they are extracted once
from protos/ and shipped as data: `python -m minima_grpc.gateway.comments`
compiles protos/ with source info (grpc_tools, a dev dependency) and writes
proto_comments.json, `{full name: leading comment}` for every service, method,
message, field, enum and enum value. A test fails when it drifts from protos/.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2

COMMENTS_FILE = Path(__file__).with_name("proto_comments.json")
PROTO_ROOT = Path(__file__).resolve().parents[2] / "protos"

# Field numbers in descriptor.proto that lead from a container to its children.
_FILE_MESSAGES, _FILE_ENUMS, _FILE_SERVICES = 4, 5, 6
_MESSAGE_FIELDS, _MESSAGE_NESTED, _MESSAGE_ENUMS = 2, 3, 4
_ENUM_VALUES = 2
_SERVICE_METHODS = 2

Path_ = tuple[int, ...]


@cache
def load_comments() -> Mapping[str, str]:
    """The shipped comments by full name (empty if the data file is missing)."""
    if not COMMENTS_FILE.is_file():
        return {}
    comments: dict[str, str] = json.loads(COMMENTS_FILE.read_text(encoding="utf-8"))
    return comments


def extract(files: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """Leading comments of every element of `files`, by full name."""
    comments: dict[str, str] = {}
    for file in files.file:
        names = dict(_names(file))
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            text = _clean(location.leading_comments)
            if name is not None and text:
                comments[name] = text
    return dict(sorted(comments.items()))


def _names(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[Path_, str]]:
    prefix = f"{file.package}." if file.package else ""
    for i, message in enumerate(file.message_type):
        yield from _message_names(message, (_FILE_MESSAGES, i), prefix)
    for i, enum in enumerate(file.enum_type):
        yield from _enum_names(enum, (_FILE_ENUMS, i), prefix)
    for i, service in enumerate(file.service):
        name = prefix + service.name
        yield (_FILE_SERVICES, i), name
        for j, method in enumerate(service.method):
            yield (_FILE_SERVICES, i, _SERVICE_METHODS, j), f"{name}.{method.name}"


def _message_names(
    message: descriptor_pb2.DescriptorProto, path: Path_, prefix: str
) -> Iterator[tuple[Path_, str]]:
    name = prefix + message.name
    yield path, name
    for j, field in enumerate(message.field):
        yield (*path, _MESSAGE_FIELDS, j), f"{name}.{field.name}"
    for j, nested in enumerate(message.nested_type):
        yield from _message_names(nested, (*path, _MESSAGE_NESTED, j), f"{name}.")
    for j, enum in enumerate(message.enum_type):
        yield from _enum_names(enum, (*path, _MESSAGE_ENUMS, j), f"{name}.")


def _enum_names(
    enum: descriptor_pb2.EnumDescriptorProto, path: Path_, prefix: str
) -> Iterator[tuple[Path_, str]]:
    name = prefix + enum.name
    yield path, name
    # Enum values are scoped beside their enum, not inside it.
    for j, value in enumerate(enum.value):
        yield (*path, _ENUM_VALUES, j), prefix + value.name


def _clean(comment: str) -> str:
    """Drop the one leading space per line and buf lint directives."""
    lines = [line.removeprefix(" ").rstrip() for line in comment.splitlines()]
    return "\n".join(line for line in lines if not line.startswith("buf:lint:")).strip()


def compile_protos(root: Path = PROTO_ROOT) -> descriptor_pb2.FileDescriptorSet:
    """protos/ compiled with source info (needs grpc_tools, a dev dependency)."""
    # Imported here: only this build step needs grpc_tools.
    import google.api  # type: ignore[import-untyped, unused-ignore]
    import grpc_tools  # type: ignore[import-untyped, unused-ignore]
    from grpc_tools import protoc  # type: ignore[import-untyped, unused-ignore]

    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p) for p in root.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = [
            "protoc",
            f"-I{root}",
            f"-I{googleapis}",
            f"-I{well_known}",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *sources,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {root}")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def render(comments: Mapping[str, str]) -> str:
    return json.dumps(comments, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    COMMENTS_FILE.write_text(render(extract(compile_protos())), encoding="utf-8")
    print(f"wrote {COMMENTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
