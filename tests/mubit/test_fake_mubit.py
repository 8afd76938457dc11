"""The fake Mubit speaks the wire protocol the real mubit-sdk expects, on every route.

Routes the memory backend itself does not use (dereference, step outcomes,
diagnose, memory health) are covered here, so the fake stays faithful for
anyone who does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mubit
import pytest

from tests.fake_mubit import FakeKeys, FakeMubit

RUN = "minima:default"


@pytest.fixture
def client(fake_mubit: FakeMubit, keys: FakeKeys) -> Iterator[Any]:
    sdk = mubit.Client(
        endpoint=fake_mubit.url, api_key=keys.main, transport="http", timeout=2, max_retries=0
    )
    yield sdk
    sdk.close()


def _remember(client: Any, text: str, **fields: Any) -> str:
    job = client.remember(
        content=text, session_id=RUN, agent_id="minima", project="", env="", **fields
    )
    return str(job["traces"][0]["writes"][0]["record_id"])


def test_upsert_keeps_the_record_id_per_user(client: Any) -> None:
    first = _remember(client, "v1", upsert_key="k", metadata={"kind": "outcome"})
    second = _remember(client, "v2", upsert_key="k", metadata={"kind": "outcome"})
    other_user = _remember(client, "v1", upsert_key="k", user_id="bob")
    assert first == second != other_user
    found = client.dereference(session_id=RUN, reference_id=first)
    assert found["found"] is True
    assert found["evidence"]["content"] == "v2"


def test_a_repeated_ingest_key_is_deduplicated(client: Any) -> None:
    first = client.remember(
        content="x", session_id=RUN, idempotency_key="same", wait=False, project="", env=""
    )
    again = client.remember(
        content="y", session_id=RUN, idempotency_key="same", wait=False, project="", env=""
    )
    assert again["deduplicated"] is True
    assert again["job_id"] == first["job_id"]


def test_dereference_of_an_unknown_id_is_not_found(client: Any) -> None:
    assert client.dereference(session_id=RUN, reference_id="nope") == {"found": False}


def test_lookup_matches_exact_and_in_clauses_or_combined(client: Any) -> None:
    a = _remember(client, "a", metadata={"kind": "outcome", "model_id": "m1"})
    b = _remember(client, "b", metadata={"kind": "outcome", "model_id": "m2"})
    _remember(client, "c", metadata={"kind": "lesson", "model_id": "m3"})

    def ids(match: list[dict[str, Any]], limit: int = 256) -> list[str]:
        hits = client.lookup(session_id=RUN, match=match, limit=limit)
        return [h["metadata"]["id"] for h in hits]

    assert ids([{"kind": "outcome", "model_id": {"$in": ["m1", "m2"]}}]) == [a, b]
    assert ids([{"model_id": "m1"}, {"model_id": "m2"}]) == [a, b]
    assert len(ids([])) == 3
    assert len(ids([], limit=1)) == 1


def test_recall_filters_by_entry_type_and_time(client: Any) -> None:
    _remember(client, "deploy the service", intent="observation", occurrence_time=1_000)
    _remember(client, "deploy the service", intent="lesson", occurrence_time=2_000)
    answer = client.recall(
        query="deploy the service",
        session_id=RUN,
        entry_types=["observation"],
        min_timestamp=500,
        max_timestamp=1_500,
        mode="AGENT_ROUTED",
    )
    assert [e["entry_type"] for e in answer["evidence"]] == ["observation"]
    assert answer["evidence"][0]["score"] == pytest.approx(1.0)


def test_step_outcomes_are_accepted_once_per_key(client: Any) -> None:
    first = client.record_step_outcome(
        step_id="s1", outcome="failure", session_id=RUN, signal=-0.5, idempotency_key="k"
    )
    again = client.record_step_outcome(
        step_id="s1", outcome="failure", session_id=RUN, signal=-0.5, idempotency_key="k"
    )
    assert (first["accepted"], first["duplicate"], again["duplicate"]) == (True, False, True)
    assert again["step_outcome_id"] == first["step_outcome_id"]


def test_diagnose_returns_failure_lessons(client: Any) -> None:
    _remember(
        client, "timeouts upstream: retry with backoff", intent="lesson", lesson_type="failure"
    )
    _remember(client, "fine", intent="lesson", lesson_type="success")
    answer = client.diagnose(error_text="TimeoutError upstream", session_id=RUN, limit=5)
    assert answer["total_failure_lessons"] == 1
    assert answer["failure_lessons"][0]["content"].startswith("timeouts upstream")


def test_memory_health_counts_entries_by_type(client: Any) -> None:
    _remember(client, "a", intent="observation")
    _remember(client, "b", intent="lesson")
    client.raw.invoke(
        "control.batch_insert",
        {"run_id": RUN, "deduplicate": True, "items": [{"item_id": "s", "text": "seed"}]},
    )
    health = client.memory_health(session_id=RUN)
    assert health["entry_counts"] == {"observation": 1, "lesson": 1, "fact": 1}


def test_bad_requests_are_400_and_missing_keys_401(
    client: Any, fake_mubit: FakeMubit, keys: FakeKeys
) -> None:
    with pytest.raises(mubit.BadRequestError):
        client.raw.invoke("control.ingest", {"run_id": RUN, "items": []})
    with pytest.raises(mubit.NotFoundError):
        client.record_outcome(reference_id="missing", outcome="success", session_id=RUN)
    anonymous: Any = mubit.Client(endpoint=fake_mubit.url, transport="http", timeout=2)
    with pytest.raises(mubit.AuthenticationError):
        anonymous.recall(query="q", session_id=RUN)
    # Health needs no key.
    assert anonymous.health()["status"] == "ok"
    fake_mubit.revoke_key(keys.main)
    with pytest.raises(mubit.AuthenticationError):
        client.recall(query="q", session_id=RUN)


def test_a_dropped_connection_is_a_transport_error(client: Any, fake_mubit: FakeMubit) -> None:
    fake_mubit.inject("/v2/control/query", drop=True)
    with pytest.raises(mubit.APIConnectionError):
        client.recall(query="q", session_id=RUN)
