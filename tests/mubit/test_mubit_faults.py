"""What the Mubit backend does when Mubit rejects, fails, stalls or talks nonsense.

The contract with the engine: a rejected key is `Unauthenticated` (401 to the
caller), a deadline is `TimeoutError` (prior-only, `recall_timeout`), anything
else is `MubitUnavailable` (prior-only, `memory_unavailable`). Never an SDK
exception, never a hang.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable

import pytest

from minima_grpc.engine.errors import BackendUnavailable, Unauthenticated
from minima_grpc.engine.types import Scope
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.errors import MubitUnavailable
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.mubit.settings import MubitSettings
from minima_grpc.memory.protocol import OutcomeRecord, RecallQuery, Reinforcement
from tests.fake_mubit import FakeKeys, FakeMubit

OutcomeFactory = Callable[..., OutcomeRecord]
ScopeFactory = Callable[..., Scope]
SettingsFactory = Callable[..., MubitSettings]
QUERY = RecallQuery(text="rewrite the billing service in rust")


async def test_a_key_mubit_rejects_is_unauthenticated(
    mubit_memory: MubitMemory,
    make_scope: ScopeFactory,
    make_outcome: OutcomeFactory,
    keys: FakeKeys,
) -> None:
    bad = make_scope(key=keys.unknown)
    with pytest.raises(Unauthenticated):
        await mubit_memory.recall(bad, QUERY)
    with pytest.raises(Unauthenticated):
        await mubit_memory.remember(bad, make_outcome("t", "m"))
    with pytest.raises(Unauthenticated):
        await mubit_memory.strategies(bad, [], 5)


async def test_a_scope_without_a_key_is_unauthenticated_without_a_call(
    mubit_memory: MubitMemory, fake_mubit: FakeMubit
) -> None:
    with pytest.raises(Unauthenticated):
        await mubit_memory.recall(Scope(tenant="acme"), QUERY)
    assert fake_mubit.requests() == []


@pytest.mark.parametrize("status", [403])
async def test_forbidden_counts_as_a_rejected_key(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit, status: int
) -> None:
    fake_mubit.inject("/v2/control/query", status=status)
    with pytest.raises(Unauthenticated):
        await mubit_memory.recall(scope, QUERY)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_mubit_is_unavailable_and_fails_fast(
    make_settings: SettingsFactory, scope: Scope, make_outcome: OutcomeFactory
) -> None:
    settings = make_settings(endpoint=f"http://127.0.0.1:{_closed_port()}", max_retries=2)
    memory = MubitMemory(MubitConnector(settings))
    try:
        with pytest.raises(MubitUnavailable) as caught:
            await memory.recall(scope, QUERY)
        assert caught.value.label == "unreachable"
        with pytest.raises(BackendUnavailable):
            await memory.remember(scope, make_outcome("t", "m"))
        assert not (await memory.probe(scope)).reachable
    finally:
        await memory.close()


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (500, "server_error"),
        (503, "server_error"),
        (429, "server_error"),
        (400, "rejected_payload"),
        (404, "rejected_payload"),
        (501, "unsupported"),
    ],
)
async def test_error_statuses_become_unavailable_with_a_label(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit, status: int, label: str
) -> None:
    fake_mubit.inject("/v2/control/query", status=status)
    with pytest.raises(MubitUnavailable) as caught:
        await mubit_memory.recall(scope, QUERY)
    assert caught.value.label == label


async def test_transient_errors_are_retried_by_the_sdk_for_idempotent_calls(
    make_settings: SettingsFactory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    memory = MubitMemory(MubitConnector(make_settings(max_retries=1)))
    try:
        fake_mubit.inject("/v2/control/query", status=503, times=1)
        assert len(await memory.recall(scope, QUERY)) == 0
        assert len(fake_mubit.requests("/v2/control/query")) == 2
    finally:
        await memory.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>502 Bad Gateway</html>", "text/html"),
        (b"{not json", "application/json"),
        (b'{"evidence": "none"}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
    ],
    ids=["html", "broken-json", "wrong-shape", "list"],
)
async def test_garbage_answers_are_unavailable_not_crashes(
    mubit_memory: MubitMemory,
    scope: Scope,
    fake_mubit: FakeMubit,
    body: bytes,
    content_type: str,
) -> None:
    fake_mubit.inject("/v2/control", body=body, content_type=content_type)
    with pytest.raises(MubitUnavailable) as caught:
        await mubit_memory.recall(scope, QUERY)
    assert caught.value.label == "bad_response"
    with pytest.raises(MubitUnavailable):
        await mubit_memory.reinforce(
            scope, Reinforcement(entry_ids=("e1",), signal=1.0, idempotency_key="k")
        )


async def test_a_garbage_strategies_answer_is_unavailable(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    fake_mubit.inject("/v2/control/strategies", body=b"<html>oops</html>", content_type="text/html")
    with pytest.raises(MubitUnavailable):
        await mubit_memory.strategies(scope, [], 5)


async def test_garbage_rows_are_dropped_and_good_rows_kept(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit, make_outcome: OutcomeFactory
) -> None:
    await mubit_memory.remember(scope, make_outcome("rewrite the billing service in rust", "m1"))
    good = fake_mubit.instance(scope.api_key or "")
    (entry,) = good.entries.values()
    row = entry.evidence(0.9)
    body = (
        b'{"evidence": [17, {"id": "x", "metadata_json": "{broken"}, '
        + json.dumps(row).encode()
        + b"]}"
    )
    fake_mubit.inject("/v2/control/query", body=body)
    hits = await mubit_memory.recall(scope, QUERY)
    assert tuple(hits.entry_ids) == (entry.record_id,)


async def test_a_slow_mubit_is_cut_off_at_the_deadline(
    make_settings: SettingsFactory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    memory = MubitMemory(MubitConnector(make_settings(inline_timeout_ms=300)))
    fake_mubit.inject("/v2/control/query", delay_s=3.0)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            await memory.recall(scope, QUERY)
    finally:
        await memory.close()
    # Generous bound: the point is "about the budget", not "about the 3 s stall".
    assert time.monotonic() - started < 2.0


async def test_stalled_workers_do_not_stall_the_event_loop_or_later_calls(
    make_settings: SettingsFactory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    """More concurrent calls than workers against a stalled Mubit: each ends at its
    deadline (queued ones never start), the loop keeps ticking, and once Mubit is
    healthy again the backend answers."""
    memory = MubitMemory(MubitConnector(make_settings(inline_timeout_ms=300, max_workers=2)))
    stall = fake_mubit.inject("/v2/control/query", delay_s=1.0, times=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    try:
        results = await asyncio.gather(
            *(memory.recall(scope, QUERY) for _ in range(6)), return_exceptions=True
        )
        assert all(isinstance(r, TimeoutError) for r in results)
        assert ticks > 5
        # Only the two calls that got a worker reached Mubit; the four queued were dropped.
        assert stall.hits == 2
        await asyncio.sleep(1.0)  # let the stalled workers finish
        assert len(await memory.recall(scope, QUERY)) == 0
    finally:
        tick_task.cancel()
        await memory.close()


async def test_the_key_never_reaches_the_logs(
    mubit_memory: MubitMemory,
    make_scope: ScopeFactory,
    fake_mubit: FakeMubit,
    keys: FakeKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_mubit.inject("/v2/control/query", status=500)
    for key in (keys.main, keys.unknown):
        with pytest.raises((MubitUnavailable, Unauthenticated)):
            await mubit_memory.recall(make_scope(key=key), QUERY)
    assert caplog.records, "failures should be logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert keys.main not in logged
    assert keys.unknown not in logged
    assert "secret" not in logged


async def test_every_request_carries_the_callers_key(
    mubit_memory: MubitMemory,
    make_scope: ScopeFactory,
    fake_mubit: FakeMubit,
    keys: FakeKeys,
    make_outcome: OutcomeFactory,
) -> None:
    for key in (keys.main, keys.other_org):
        scope = make_scope(key=key)
        await mubit_memory.remember(scope, make_outcome("t", "m"))
        await mubit_memory.recall(scope, QUERY)
    seen = {r.headers.get("authorization") for r in fake_mubit.requests()}
    assert seen == {f"Bearer {keys.main}", f"Bearer {keys.other_org}"}


async def test_writes_get_the_longer_write_budget(
    make_settings: SettingsFactory,
    scope: Scope,
    fake_mubit: FakeMubit,
    make_outcome: OutcomeFactory,
) -> None:
    """Recall is cut at the read budget; an outcome write may take longer than that."""
    memory = MubitMemory(MubitConnector(make_settings(inline_timeout_ms=200, timeout_ms=3_000)))
    fake_mubit.inject("/v2/control/ingest", delay_s=0.5, times=1)
    fake_mubit.inject("/v2/control/query", delay_s=0.5, times=1)
    try:
        assert await memory.remember(scope, make_outcome("t", "m"))
        with pytest.raises(TimeoutError):
            await memory.recall(scope, QUERY)
    finally:
        await memory.close()
