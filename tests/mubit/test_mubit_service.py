"""The whole service on the Mubit backend, over gRPC: the learning loop, key
pass-through, and every way Mubit can let the service down.

A real MinimaServer (tests/conftest.py) with the real engine from
`wiring.build_engine`, talking to the fake Mubit through the real mubit-sdk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from minima_grpc import v1
from minima_grpc.wiring import build_engine
from tests.conftest import Metadata, RunningServer, StartServer, bearer, server_config
from tests.fake_mubit import FakeKeys, FakeMubit

if TYPE_CHECKING:
    from minima_grpc.v1 import service_pb2_grpc

    AsyncStub = service_pb2_grpc.RecommendationServiceAsyncStub


CHEAP, PREMIUM = "gpt-4o-mini", "claude-opus-4-6"
Channels = Callable[[str], grpc.aio.Channel]


def _overrides(fake: FakeMubit, **extra: Any) -> dict[str, Any]:
    return {
        "memory": "mubit",
        "mubit_endpoint": fake.url,
        "mubit_transport": "http",
        "mubit_timeout_ms": 2_000,
        "recall_timeout_ms": 500,
        **extra,
    }


@pytest.fixture
async def start_mubit_server(
    start_server: StartServer, tmp_path: Path, fake_mubit: FakeMubit
) -> Callable[..., Any]:
    async def start(**extra: Any) -> RunningServer:
        overrides = _overrides(fake_mubit, **extra)
        engine = build_engine(server_config(tmp_path / "engine", **overrides))
        return await start_server(engine, **overrides)

    return start


@pytest.fixture
async def stub(start_mubit_server: Callable[..., Any], open_channel: Channels) -> AsyncStub:
    running = await start_mubit_server()
    return v1.RecommendationServiceStub(open_channel(running.address))


def _recommend(text: str, namespace: str | None = "team-a") -> v1.RecommendRequest:
    request = v1.RecommendRequest(
        task=v1.TaskInput(
            task=text,
            task_type=v1.TaskType.TASK_TYPE_TRANSLATION,
            difficulty=v1.Difficulty.DIFFICULTY_EASY,
        ),
        constraints=v1.Constraints(candidate_models=[CHEAP, PREMIUM]),
    )
    if namespace is not None:
        request.namespace = namespace
    return request


def _model(response: v1.RecommendResponse, model_id: str) -> v1.RankedModel:
    return next(m for m in response.ranked if m.model_id == model_id)


async def _teach(
    stub: AsyncStub, auth: Metadata, namespace: str | None
) -> tuple[v1.RecommendResponse, v1.RecommendResponse]:
    """Recommend, report four failures of the cheap model on similar tasks, recommend again."""
    task = "translate the greeting card into German"
    before = await stub.Recommend(_recommend(task, namespace), metadata=auth)
    assert "cold_start" in before.warnings
    for i in range(4):
        rec = await stub.Recommend(
            _recommend(f"translate the greeting card number {i} into German", namespace),
            metadata=auth,
        )
        answer = await stub.SubmitFeedback(
            v1.FeedbackRequest(
                recommendation_id=rec.recommendation_id,
                chosen_model_id=CHEAP,
                outcome=v1.Outcome.OUTCOME_FAILURE,
                quality_score=0.05,
            ),
            metadata=auth,
        )
        assert answer.accepted, answer.warnings
    return before, await stub.Recommend(_recommend(task, namespace), metadata=auth)


async def test_feedback_teaches_the_next_recommendation(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    before, after = await _teach(stub, bearer(keys.main), namespace=None)

    cheap = _model(after, CHEAP)
    assert cheap.predicted_success < _model(before, CHEAP).predicted_success
    assert cheap.decision_basis == v1.DecisionBasis.DECISION_BASIS_MEMORY
    assert "cold_start" not in after.warnings
    stored = fake_mubit.instance(keys.main).entries
    assert cheap.evidence
    assert {e.entry_id for e in cheap.evidence} <= set(stored)
    assert {stored[e.entry_id].run_id for e in cheap.evidence} == {"minima:default"}
    # The caller's key, and only it, reached Mubit.
    assert {r.headers.get("authorization") for r in fake_mubit.requests("/v2/control")} == {
        f"Bearer {keys.main}"
    }


async def test_feedback_teaches_recommendations_in_its_namespace(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    before, after = await _teach(stub, bearer(keys.main), namespace="team-a")

    cheap = _model(after, CHEAP)
    assert cheap.predicted_success < _model(before, CHEAP).predicted_success
    stored = fake_mubit.instance(keys.main).entries
    outcome_lanes = {e.run_id for e in stored.values() if e.metadata.get("kind") == "outcome"}
    assert outcome_lanes == {"minima:team-a"}


async def test_a_replayed_feedback_is_applied_once(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    auth = bearer(keys.main)
    rec = await stub.Recommend(_recommend("translate the invoice into French"), metadata=auth)
    feedback = v1.FeedbackRequest(
        recommendation_id=rec.recommendation_id,
        chosen_model_id=CHEAP,
        outcome=v1.Outcome.OUTCOME_SUCCESS,
    )
    first = await stub.SubmitFeedback(feedback, metadata=auth)
    again = await stub.SubmitFeedback(feedback, metadata=auth)

    assert first.accepted
    assert again.accepted
    assert "duplicate_feedback_ignored" in again.warnings
    outcomes = [
        e
        for e in fake_mubit.instance(keys.main).entries.values()
        if e.metadata.get("kind") == "outcome"
    ]
    assert len(outcomes) == 1


async def test_another_tenant_cannot_answer_my_recommendation(
    stub: AsyncStub, keys: FakeKeys
) -> None:
    rec = await stub.Recommend(_recommend("translate the menu"), metadata=bearer(keys.main))
    answer = await stub.SubmitFeedback(
        v1.FeedbackRequest(
            recommendation_id=rec.recommendation_id,
            chosen_model_id=CHEAP,
            outcome=v1.Outcome.OUTCOME_SUCCESS,
        ),
        metadata=bearer(keys.other_org),
    )
    assert not answer.accepted
    assert list(answer.warnings) == ["unknown_recommendation"]


@pytest.mark.parametrize("call", ["Recommend", "ListModels", "SubmitFeedback"])
async def test_a_key_mubit_rejects_is_unauthenticated(
    stub: AsyncStub, keys: FakeKeys, call: str
) -> None:
    requests: dict[str, Any] = {
        "Recommend": _recommend("translate the menu"),
        "ListModels": v1.ListModelsRequest(),
        "SubmitFeedback": v1.FeedbackRequest(
            recommendation_id="r", chosen_model_id=CHEAP, outcome=v1.Outcome.OUTCOME_SUCCESS
        ),
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(stub, call)(requests[call], metadata=bearer(keys.unknown))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert keys.unknown not in (caught.value.details() or "")


async def test_mubit_down_serves_prior_only_and_reports_degraded(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    auth = bearer(keys.main)
    assert (await stub.GetHealth(v1.GetHealthRequest(), metadata=auth)).status == (
        v1.HealthStatus.HEALTH_STATUS_OK
    )
    fake_mubit.stop()

    answer = await stub.Recommend(_recommend("translate the brochure"), metadata=auth)
    health = await stub.GetHealth(v1.GetHealthRequest(), metadata=auth)

    assert "memory_unavailable" in answer.warnings
    assert answer.decision_basis == v1.DecisionBasis.DECISION_BASIS_PRIOR
    assert health.status == v1.HealthStatus.HEALTH_STATUS_DEGRADED
    assert health.memory.HasField("reachable")
    assert not health.memory.reachable
    # Without a key: liveness only, memory not probed.
    anonymous = await stub.GetHealth(v1.GetHealthRequest())
    assert not anonymous.memory.HasField("reachable")


async def test_a_slow_mubit_costs_at_most_the_recall_budget(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    auth = bearer(keys.main)
    await stub.Recommend(_recommend("warm up"), metadata=auth)  # key verdict cached
    # Recall and the pending-record write both stall.
    fake_mubit.inject("/v2/control", delay_s=5.0)

    started = time.monotonic()
    answer = await stub.Recommend(_recommend("translate the contract"), metadata=auth)
    elapsed = time.monotonic() - started

    assert "recall_timeout" in answer.warnings
    # Two inline budgets of 0.5 s at most; the 5 s stall must not leak into the answer.
    assert elapsed < 3.0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"<html>gateway error</html>", "text/html"), (b'{"evidence": 42}', "application/json")],
)
async def test_mubit_talking_garbage_degrades_instead_of_failing(
    stub: AsyncStub,
    fake_mubit: FakeMubit,
    keys: FakeKeys,
    body: bytes,
    content_type: str,
) -> None:
    fake_mubit.inject("/v2/control/query", body=body, content_type=content_type)
    answer = await stub.Recommend(_recommend("translate the poem"), metadata=bearer(keys.main))
    assert "memory_unavailable" in answer.warnings
    assert answer.recommended_model.model_id in (CHEAP, PREMIUM)


async def test_a_failed_write_is_reported_and_a_retry_applies_it_once(
    stub: AsyncStub, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    auth = bearer(keys.main)
    rec = await stub.Recommend(_recommend("translate the safety notice"), metadata=auth)
    feedback = v1.FeedbackRequest(
        recommendation_id=rec.recommendation_id,
        chosen_model_id=PREMIUM,
        outcome=v1.Outcome.OUTCOME_SUCCESS,
        idempotency_key="fb-safety-1",
    )
    fake_mubit.inject("/v2/control/ingest", status=503)
    failed = await stub.SubmitFeedback(feedback, metadata=auth)
    assert not failed.accepted
    assert list(failed.warnings) == ["memory_write_failed"]
    assert not any(
        e.metadata.get("kind") == "outcome" for e in fake_mubit.instance(keys.main).entries.values()
    )

    fake_mubit.clear_faults()
    retried = await stub.SubmitFeedback(feedback, metadata=auth)
    assert retried.accepted
    outcomes = [
        e
        for e in fake_mubit.instance(keys.main).entries.values()
        if e.metadata.get("kind") == "outcome"
    ]
    assert [e.record_id for e in outcomes] == [retried.record_id]
