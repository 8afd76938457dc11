"""Headers: request ids in and out, and the call timeout (Grpc-Timeout)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from .conftest import Stack, make_config, running_stack
from .engine_double import SLEEP

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_request_id_is_forwarded_and_echoed(client: httpx.AsyncClient, stack: Stack) -> None:
    response = await client.post(
        "/v1/recommend", json={"task": "hi"}, headers={"x-request-id": "trace-42.a:b"}
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-42.a:b"
    assert stack.engine.last["request_id"] == "trace-42.a:b"


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "semi;colon"])
async def test_missing_or_unusable_request_id_is_replaced(
    client: httpx.AsyncClient, stack: Stack, given: str | None
) -> None:
    headers = {} if given is None else {"x-request-id": given}
    response = await client.post("/v1/recommend", json={"task": "hi"}, headers=headers)

    made = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert stack.engine.last["request_id"] == made


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/v1/nowhere"),
        await client.get("/openapi.json"),
        await client.post(
            "/v1/recommend", content=b"{", headers={"content-type": "application/json"}
        ),
    ):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_only_one_request_id_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/health", headers={"x-request-id": "once"})
    assert response.headers.get_list("x-request-id") == ["once"]


async def test_grpc_timeout_within_the_cap_is_used(client: httpx.AsyncClient) -> None:
    fast = await client.post(
        "/v1/recommend", json={"task": f"{SLEEP}0.05"}, headers={"grpc-timeout": "5S"}
    )
    slow = await client.post(
        "/v1/recommend", json={"task": f"{SLEEP}2"}, headers={"grpc-timeout": "50m"}
    )

    assert fast.status_code == 200
    assert slow.status_code == 504


async def test_server_maximum_caps_the_timeout_and_default_applies(tmp_path: Path) -> None:
    config = make_config(tmp_path, default_deadline_s=0.1, max_deadline_s=0.1)
    async with (
        running_stack(config) as stack,
        httpx.AsyncClient(base_url=stack.base_url, headers=stack.auth) as http,
    ):
        sleepy = {"task": f"{SLEEP}3"}
        capped = await http.post("/v1/recommend", json=sleepy, headers={"grpc-timeout": "1H"})
        defaulted = await http.post("/v1/recommend", json=sleepy)

    assert capped.status_code == 504
    assert defaulted.status_code == 504
