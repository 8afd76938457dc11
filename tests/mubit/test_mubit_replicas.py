"""Scale-out: two `minima serve` processes on the same Mubit behave as one service.

A recommendation made on replica A is answered by a feedback sent to
replica B (which never saw it): B finds the pending record in Mubit. A replay
of the same feedback on A is then applied once, not twice.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from minima_grpc import v1
from tests.conftest import bearer
from tests.fake_mubit import FakeKeys, FakeMubit
from tests.server.process import ServerProcess

if TYPE_CHECKING:
    from minima_grpc.v1 import service_pb2_grpc

    AsyncStub = service_pb2_grpc.RecommendationServiceAsyncStub


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _replica(name: str, tmp_path: Path, fake: FakeMubit) -> tuple[ServerProcess, int]:
    args = [
        "-m", "minima_grpc", "serve", "--memory", "mubit",
        "--grpc-port", "0", "--http-port", str(_free_port()),
        "--data-dir", str(tmp_path / name),
    ]  # fmt: skip
    env = {
        "MUBIT_ENDPOINT": fake.url,
        "MUBIT_TRANSPORT": "http",
        "MUBIT_TIMEOUT_MS": "5000",
        "MINIMA_SHUTDOWN_DRAIN_S": "0",
        "MINIMA_SHUTDOWN_GRACE_S": "2",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    process = await ServerProcess.start(args, env)
    port = (await process.wait_for_log("gRPC server listening", within_s=120))["port"]
    await process.wait_for_log("serving", within_s=120)
    return process, int(port)


@pytest.fixture
async def two_replicas(
    tmp_path: Path, fake_mubit: FakeMubit
) -> AsyncIterator[tuple[AsyncStub, AsyncStub]]:
    started = await asyncio.gather(
        _replica("a", tmp_path, fake_mubit), _replica("b", tmp_path, fake_mubit)
    )
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _, port in started]
    try:
        yield (
            v1.RecommendationServiceStub(channels[0]),
            v1.RecommendationServiceStub(channels[1]),
        )
    finally:
        for channel in channels:
            await channel.close()
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            assert await process.wait() == 0, process.output


@pytest.mark.slow
async def test_feedback_on_another_replica_joins_its_recommendation(
    two_replicas: tuple[AsyncStub, AsyncStub],
    fake_mubit: FakeMubit,
    keys: FakeKeys,
) -> None:
    replica_a, replica_b = two_replicas
    auth = bearer(keys.main)
    rec = await replica_a.Recommend(
        v1.RecommendRequest(
            task=v1.TaskInput(task="Summarise this incident report for the on-call channel."),
            namespace="ops",
        ),
        metadata=auth,
        timeout=30,
    )
    feedback = v1.FeedbackRequest(
        recommendation_id=rec.recommendation_id,
        chosen_model_id=rec.recommended_model.model_id,
        outcome=v1.Outcome.OUTCOME_SUCCESS,
        quality_score=0.95,
    )

    on_b = await replica_b.SubmitFeedback(feedback, metadata=auth, timeout=30)
    replay_on_a = await replica_a.SubmitFeedback(feedback, metadata=auth, timeout=30)

    assert on_b.accepted, on_b.warnings
    assert "unknown_recommendation" not in on_b.warnings
    # B had never seen the recommendation: it read the pending record from Mubit.
    pending_reads = [
        r.body["match"]
        for r in fake_mubit.requests("/v2/core/lookup")
        if r.body["match"][0].get("kind") == "minima_pending"
    ]
    assert pending_reads == [
        [{"kind": "minima_pending", "recommendation_id": rec.recommendation_id}]
    ]
    entries = fake_mubit.instance(keys.main).entries
    outcomes = [e for e in entries.values() if e.metadata.get("kind") == "outcome"]
    # The replay reached Mubit again but updated the same entry in place.
    assert replay_on_a.accepted
    assert [e.record_id for e in outcomes] == [on_b.record_id]
    assert outcomes[0].metadata["recommendation_id"] == rec.recommendation_id
