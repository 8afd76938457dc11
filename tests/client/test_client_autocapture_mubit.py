"""autocapture over the real mubit-sdk (mubit.learn), talking to a loopback
fake of the Mubit routes learn uses: the lane pinning must be on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from minima_client import autocapture

from tests.client.client_support import FakeHttp, Reply, Route, chat_completion

LANE = "minima:team-payments"
MUBIT_KEY = "mbt_testorg_k1_secret"


@pytest.fixture
def mubit() -> Iterator[FakeHttp]:
    routes: dict[tuple[str, str], Route] = {
        # Legacy (non-loop) learn protocol: capabilities 404, then control routes.
        ("GET", "/v2/loop/capabilities"): lambda _: Reply(404, {"error": "not found"}),
        ("POST", "/v2/control/context"): lambda _: Reply(
            body={"context_block": "Prefer cached answers.", "sources": [{"id": "entry-7"}]}
        ),
        ("POST", "/v2/control/ingest"): lambda _: Reply(body={"accepted": True, "job_id": "j1"}),
        ("POST", "/v2/control/outcome"): lambda _: Reply(body={"success": True}),
        ("POST", "/v2/control/reflect"): lambda _: Reply(body={}),
        ("POST", "/v1/chat/completions"): chat_completion,
    }
    with FakeHttp(routes) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _clean_mubit_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MUBIT_API_KEY", "MUBIT_ENDPOINT", "MUBIT_RUN_ID", "MUBIT_DISABLED",
                 "MUBIT_PROJECT", "MUBIT_TRANSPORT", "MUBIT_LEARN_EXTRACT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MUBIT_ENV", "test")
    yield
    autocapture.disable()


def test_learn_traffic_is_pinned_to_the_minima_lane(mubit: FakeHttp) -> None:
    original_init = vars(openai.OpenAI)["__init__"]
    autocapture.enable(
        api_key=MUBIT_KEY, endpoint=mubit.url, namespace="team-payments", user_id="svc-router"
    )
    llm = openai.OpenAI(api_key="sk-test", base_url=f"{mubit.url}/v1", max_retries=0)
    llm.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How do I cut latency?"}]
    )
    assert autocapture.feedback(good=True) is None  # no Minima client: Mubit only

    [context] = mubit.requests("/v2/control/context")
    ingests = mubit.requests("/v2/control/ingest")
    [outcome] = mubit.requests("/v2/control/outcome")
    assert context.body["run_id"] == LANE
    assert ingests
    assert {i.body["run_id"] for i in ingests} == {LANE}
    assert {i.body["agent_id"] for i in ingests} == {"minima-autocapture"}
    assert outcome.body["run_id"] == LANE
    assert outcome.body["entry_ids"] == ["entry-7"]
    assert outcome.body["signal"] == 1.0
    assert all(r.headers["authorization"] == f"Bearer {MUBIT_KEY}" for r in [context, outcome])
    # The lesson was injected into the real request, and the call captured locally too.
    [llm_request] = mubit.requests("/v1/chat/completions")
    assert "Prefer cached answers." in str(llm_request.body["messages"])
    assert [c.model for c in autocapture.calls()] == ["gpt-4o-mini"]

    autocapture.disable()
    assert vars(openai.OpenAI)["__init__"] is original_init


def test_wrap_with_mubit_is_undone_by_disable(mubit: FakeHttp) -> None:
    llm = openai.OpenAI(api_key="sk-test", base_url=f"{mubit.url}/v1", max_retries=0)
    before = dict(vars(llm.chat.completions))
    autocapture.enable(api_key=MUBIT_KEY, endpoint=mubit.url, patch=False)
    autocapture.wrap(llm)
    llm.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}])
    assert {i.body["run_id"] for i in mubit.requests("/v2/control/ingest")} == {"minima:default"}
    assert len(autocapture.calls()) == 1
    autocapture.disable()
    assert vars(llm.chat.completions) == before
