"""Nothing acknowledged is lost: feedback that returned accepted=true survives
`kill -9` of a real `minima serve` and a restart on the same data directory."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from minima_grpc import v1
from minima_grpc.config import Config
from minima_grpc.engine.types import Scope
from minima_grpc.memory.factory import open_memory
from minima_grpc.memory.protocol import RecallQuery
from tests.conftest import bearer
from tests.server.process import ServerProcess

if TYPE_CHECKING:
    from minima_grpc.v1 import service_pb2_grpc

    AsyncStub = service_pb2_grpc.RecommendationServiceAsyncStub

ACKS_BEFORE_KILL = 40
WRITERS = 4
ENV = {"MINIMA_SHUTDOWN_DRAIN_S": "0.1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stored_outcomes(data_dir: Path) -> set[tuple[str, str]]:
    """(recommendation id, model id) of every feedback outcome in the memory file."""
    (path,) = data_dir.rglob("memory.sqlite3")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT recommendation_id, model_id FROM outcomes WHERE recommendation_id IS NOT NULL"
        ).fetchall()
    return {(str(r), str(m)) for r, m in rows}


def _task(n: int) -> str:
    # Distinct wording per task so each outcome is its own nearest neighbour.
    return f"Translate shipment manifest {n} (crate {n * 7919 % 1000}) into German, item by item."


async def _start(data_dir: Path) -> tuple[ServerProcess, str]:
    args = ["-m", "minima_grpc", "serve", "--grpc-port", "0", "--http-port", str(_free_port())]
    server = await ServerProcess.start([*args, "--data-dir", str(data_dir)], ENV)
    port = (await server.wait_for_log("gRPC server listening", within_s=120))["port"]
    await server.wait_for_log("serving", within_s=120)
    return server, f"127.0.0.1:{port}"


async def _write_until_killed(stub: AsyncStub, key: str, acked: list[tuple[int, str, str]]) -> None:
    """Recommend + feedback in a loop, recording every accepted feedback, until the server dies."""
    counter = iter(range(1_000_000))

    async def writer() -> None:
        while True:
            n = next(counter)
            try:
                rec = await stub.Recommend(
                    v1.RecommendRequest(task=v1.TaskInput(task=_task(n))),
                    metadata=bearer(key),
                    timeout=10,
                )
                model = rec.recommended_model.model_id
                answer = await stub.SubmitFeedback(
                    v1.FeedbackRequest(
                        recommendation_id=rec.recommendation_id,
                        chosen_model_id=model,
                        outcome=v1.Outcome.OUTCOME_SUCCESS,
                    ),
                    metadata=bearer(key),
                    timeout=10,
                )
            except grpc.aio.AioRpcError:
                return  # the server was killed mid-stream
            if answer.accepted:
                acked.append((n, rec.recommendation_id, model))

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


@pytest.mark.slow
async def test_acknowledged_feedback_survives_kill_9_and_restart(tmp_path: Path) -> None:
    server, address = await _start(tmp_path)
    key = next(line.strip() for line in server.lines if line.strip().startswith("mnm_"))
    acked: list[tuple[int, str, str]] = []
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub: AsyncStub = v1.RecommendationServiceStub(channel)
            stream = asyncio.create_task(_write_until_killed(stub, key, acked))
            async with asyncio.timeout(120):
                while len(acked) < ACKS_BEFORE_KILL:
                    if stream.done():
                        stream.result()  # a writer failed: surface its error now
                        pytest.fail(f"writers stopped after {len(acked)} acks")
                    await asyncio.sleep(0.01)
            await server.kill()  # SIGKILL while the writers are still sending
            await stream
    finally:
        await server.kill()
    assert len(acked) >= ACKS_BEFORE_KILL

    # Restarted on the same data: every acknowledged feedback is already applied.
    server, address = await _start(tmp_path)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = v1.RecommendationServiceStub(channel)
            for _, recommendation_id, model in acked:
                again = await stub.SubmitFeedback(
                    v1.FeedbackRequest(
                        recommendation_id=recommendation_id,
                        chosen_model_id=model,
                        outcome=v1.Outcome.OUTCOME_SUCCESS,
                    ),
                    metadata=bearer(key),
                    timeout=10,
                )
                assert again.accepted
                assert "duplicate_feedback_ignored" in again.warnings
    finally:
        server.terminate()
        assert await server.wait() == 0

    # ...and its outcome is recalled for its task, about the model it reported...
    memory, _ = open_memory(Config(data_dir=tmp_path))
    try:
        scope = Scope(tenant="default")
        for n, _, model in acked:
            hits = await memory.recall(scope, RecallQuery(text=_task(n), k=1))
            assert len(hits), f"outcome for task {n} is missing"
            assert hits.models_by_row() == (model,)
    finally:
        await memory.close()
    # ...stored under the recommendation it answered (recall does not return that link).
    stored = await asyncio.to_thread(_stored_outcomes, tmp_path)
    assert {(recommendation_id, model) for _, recommendation_id, model in acked} <= stored
