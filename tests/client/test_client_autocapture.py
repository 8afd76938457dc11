"""autocapture with the real OpenAI and Anthropic SDKs, pointed at loopback
fakes of their HTTP APIs, reporting to a loopback Minima REST API."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from anthropic.resources.messages import AsyncMessages, Messages
from minima_client import AsyncMinimaClient, MinimaClient, autocapture
from openai.resources.chat.completions import AsyncCompletions, Completions

from tests.client.client_support import (
    API_KEY,
    FakeHttp,
    Recorded,
    Reply,
    Route,
    chat_completion,
    minima_routes,
    models_body,
    recommend_body,
)

PATCHED = [(Completions, "create"), (AsyncCompletions, "create")]
PATCHED += [(Messages, "create"), (AsyncMessages, "create")]


def anthropic_message(request: Recorded) -> Reply:
    return Reply(
        body={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": f"{request.body['model']}-20251001",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 40},
        }
    )


@pytest.fixture
def providers() -> Iterator[FakeHttp]:
    routes: dict[tuple[str, str], Route] = {
        ("POST", "/v1/chat/completions"): chat_completion,
        ("POST", "/v1/messages"): anthropic_message,
    }
    with FakeHttp(routes) as fake:
        yield fake


@pytest.fixture
def minima_api() -> Iterator[FakeHttp]:
    with FakeHttp(minima_routes()) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _always_disable() -> Iterator[None]:
    yield
    autocapture.disable()


def openai_client(fake: FakeHttp) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=f"{fake.url}/v1", max_retries=0)


def anthropic_client(fake: FakeHttp) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.url, max_retries=0)


def catalog_price(model_id: str) -> dict[str, Any]:
    card: dict[str, Any] = next(c for c in models_body()["models"] if c["model_id"] == model_id)
    return card


def ask(client: openai.OpenAI, model: str) -> Any:
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Summarize this."}]
    )


def test_openai_call_is_captured_and_reported_to_minima(
    providers: FakeHttp, minima_api: FakeHttp
) -> None:
    llm = openai_client(providers)  # made before enable(): still captured
    with MinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima, namespace="team-payments", user_id="svc")
        rec = autocapture.recommend("Summarize this incident report.", cost_quality_tradeoff=3)
        ask(llm, rec.recommended_model.model_id)
        answer = autocapture.feedback(good=True)

    assert answer is not None
    assert answer.accepted
    [recommend_sent] = minima_api.requests("/v1/recommend")
    assert recommend_sent.body["namespace"] == "team-payments"
    assert recommend_sent.body["user_id"] == "svc"
    assert recommend_sent.body["cost_quality_tradeoff"] == 3
    [sent] = minima_api.requests("/v1/feedback")
    price = catalog_price("gpt-4o-mini")
    expected_cost = (
        800 * price["input_cost_per_mtok"]
        + 200 * price["cache_read_cost_per_mtok"]
        + 500 * price["output_cost_per_mtok"]
    ) / 1e6
    body = sent.body
    assert body["recommendation_id"] == rec.recommendation_id
    assert body["chosen_model_id"] == "gpt-4o-mini"
    assert body["outcome"] == "success"
    assert (body["input_tokens"], body["output_tokens"]) == (1000, 500)
    assert body["actual_cost_usd"] == pytest.approx(expected_cost)
    assert isinstance(body["latency_ms"], int)
    assert body["latency_ms"] >= 0
    assert body["idempotency_key"]
    assert "quality_score" not in body  # a thumbs-up carries no invented quality
    [call] = autocapture.calls()
    assert call.provider == "openai"
    assert call.response_model == "gpt-4o-mini-2024-07-18"
    assert call.cached_input_tokens == 200


def test_anthropic_call_with_a_score(providers: FakeHttp, minima_api: FakeHttp) -> None:
    with MinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima)
        autocapture.recommend("Fix this bug.")
        anthropic_client(providers).messages.create(
            model="claude-haiku-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "Fix this bug."}],
        )
        autocapture.feedback(score=0.2, notes="needed an edit")
    [sent] = minima_api.requests("/v1/feedback")
    price = catalog_price("claude-haiku-4-5")
    assert sent.body["chosen_model_id"] == "claude-haiku-4-5"
    assert sent.body["outcome"] == "partial"
    assert sent.body["quality_score"] == pytest.approx(0.6)
    assert sent.body["notes"] == "needed an edit"
    assert (sent.body["input_tokens"], sent.body["output_tokens"]) == (120, 40)
    assert sent.body["actual_cost_usd"] == pytest.approx(
        (120 * price["input_cost_per_mtok"] + 40 * price["output_cost_per_mtok"]) / 1e6
    )


async def test_async_clients(providers: FakeHttp, minima_api: FakeHttp) -> None:
    llm = anthropic.AsyncAnthropic(api_key="k", base_url=providers.url, max_retries=0)
    gpt = openai.AsyncOpenAI(api_key="k", base_url=f"{providers.url}/v1", max_retries=0)
    async with AsyncMinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima)
        await autocapture.arecommend("Route me")
        await llm.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        )
        await gpt.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
        answer = await autocapture.afeedback(good=False)
    assert answer is not None
    [sent] = minima_api.requests("/v1/feedback")
    # The last call since the recommendation is the one reported.
    assert sent.body["chosen_model_id"] == "gpt-4o-mini"
    assert sent.body["outcome"] == "failure"
    assert [c.provider for c in autocapture.calls()] == ["anthropic", "openai"]


def test_disable_restores_the_original_methods(providers: FakeHttp) -> None:
    originals = {owner: vars(owner)[attr] for owner, attr in PATCHED}
    llm = openai_client(providers)
    autocapture.enable()
    assert all(vars(owner)[attr] is not originals[owner] for owner, attr in PATCHED)
    ask(llm, "gpt-4o-mini")
    assert len(autocapture.calls()) == 1
    autocapture.disable()
    assert all(vars(owner)[attr] is originals[owner] for owner, attr in PATCHED)
    assert llm.chat.completions.create.__func__ is originals[Completions]  # type: ignore[attr-defined]
    ask(llm, "gpt-4o-mini")
    assert autocapture.calls() == ()
    assert not autocapture.is_enabled()


def test_provider_errors_are_recorded_and_raised_unchanged() -> None:
    failing = {
        ("POST", "/v1/chat/completions"): lambda _: Reply(400, {"error": {"message": "bad"}})
    }
    with FakeHttp(failing) as fake:
        autocapture.enable()
        with pytest.raises(openai.BadRequestError):
            ask(openai_client(fake), "gpt-4o-mini")
    call = autocapture.last_call()
    assert call is not None
    assert call.error == "BadRequestError"
    assert call.input_tokens is None
    assert call.cost_usd is None


def test_wrap_captures_one_client_and_disable_unwraps_it(providers: FakeHttp) -> None:
    wrapped, other = openai_client(providers), openai_client(providers)
    autocapture.enable(patch=False, prices={"gpt-4o-mini": (1.0, 2.0)})
    assert autocapture.wrap(wrapped) is wrapped
    ask(wrapped, "gpt-4o-mini")
    ask(other, "gpt-4o-mini")
    [call] = autocapture.calls()
    assert call.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    autocapture.disable()
    assert "create" not in vars(wrapped.chat.completions)


def test_each_thread_reports_its_own_call(providers: FakeHttp, minima_api: FakeHttp) -> None:
    counter = iter(range(100))
    minima_api.routes[("POST", "/v1/recommend")] = lambda _: Reply(
        body=recommend_body(f"rec-{next(counter)}")
    )
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def worker(model: str) -> None:
        rec = autocapture.recommend("task")
        barrier.wait()  # both recommendations are out before either call
        ask(openai_client(providers), model)
        barrier.wait()
        autocapture.feedback(good=True)
        results[rec.recommendation_id] = model

    with MinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima)
        threads = [threading.Thread(target=worker, args=(m,)) for m in ("gpt-4o-mini", "gpt-4o")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    reported = {
        r.body["recommendation_id"]: r.body["chosen_model_id"]
        for r in minima_api.requests("/v1/feedback")
    }
    assert reported == results
    assert len(reported) == 2


def test_feedback_refuses_to_guess(minima_api: FakeHttp) -> None:
    with MinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima)
        with pytest.raises(autocapture.AutocaptureError, match="recommend"):
            autocapture.feedback(good=True)
        autocapture.recommend("task")
        with pytest.raises(autocapture.AutocaptureError, match="no LLM call"):
            autocapture.feedback(good=True)
        with pytest.raises(ValueError, match="score"):
            autocapture.feedback(score=3)
        with pytest.raises(ValueError, match="not both"):
            autocapture.feedback(score=0.5, good=True)
    assert minima_api.requests("/v1/feedback") == []


def test_not_enabled_is_a_clear_error() -> None:
    with pytest.raises(autocapture.AutocaptureError, match="enable"):
        autocapture.capture([{"role": "user", "content": "x"}], "y")


def test_the_sync_helpers_need_a_sync_client(minima_api: FakeHttp) -> None:
    autocapture.enable(minima=AsyncMinimaClient(minima_api.url, API_KEY))
    with pytest.raises(autocapture.AutocaptureError, match="arecommend"):
        autocapture.recommend("task")


def test_manual_capture_reads_usage_from_a_response_body(minima_api: FakeHttp) -> None:
    with MinimaClient(minima_api.url, API_KEY) as minima:
        autocapture.enable(minima=minima)
        autocapture.recommend("task")
        raw = anthropic_message(Recorded("POST", "/", [], {}, {"model": "claude-haiku-4-5"})).body
        call = autocapture.capture(
            [{"role": "user", "content": "x"}], raw, model="claude-haiku-4-5", latency_ms=900
        )
        autocapture.feedback(good=True)
    assert (call.input_tokens, call.output_tokens, call.latency_ms) == (120, 40, 900)
    [sent] = minima_api.requests("/v1/feedback")
    assert sent.body["latency_ms"] == 900
    assert sent.body["chosen_model_id"] == "claude-haiku-4-5"


def test_importing_needs_no_optional_sdk() -> None:
    blocked = ["openai", "anthropic", "litellm", "mubit", "grpc", "google.protobuf"]
    script = f"""
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # makes `import name` raise ImportError
from minima_client import MinimaClient, autocapture
autocapture.enable()
autocapture.disable()
for call in (lambda: autocapture.enable(endpoint="http://127.0.0.1:9"),
             lambda: MinimaClient("grpc://127.0.0.1:9", api_key="k")):
    try:
        call()
    except ImportError as exc:
        print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert 'pip install "minima-client[mubit]"' in done.stdout
    assert 'pip install "minima-client[grpc]"' in done.stdout


def test_capture_never_breaks_the_call(
    providers: FakeHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    autocapture.enable()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug in capture")

    session = autocapture._session
    assert session is not None
    monkeypatch.setattr(session.recorder, "record", broken)
    response = ask(openai_client(providers), "gpt-4o-mini")
    assert response.choices[0].message.content == "Three bullets."


def test_concurrent_async_calls_are_all_captured(providers: FakeHttp) -> None:
    async def main() -> None:
        autocapture.enable()
        gpt = openai.AsyncOpenAI(api_key="k", base_url=f"{providers.url}/v1", max_retries=0)
        await asyncio.gather(
            *(
                gpt.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": str(i)}]
                )
                for i in range(3)
            )
        )

    asyncio.run(main())
    assert len(autocapture.calls()) == 3


def stand_in_litellm() -> Any:
    """A stand-in for the `litellm` package (not installed here), keeping only
    its documented custom-callback contract: functions in `success_callback` /
    `failure_callback` get (kwargs, response, start_time, end_time), and
    kwargs carry `model`, `response_cost` and, on failure, `exception`."""
    module = types.SimpleNamespace(success_callback=[], failure_callback=[])

    def completion(model: str, messages: list[dict[str, str]], fail: bool = False) -> Any:
        start = dt.datetime.now()
        end = start + dt.timedelta(milliseconds=250)
        if fail:
            kwargs = {"model": model, "messages": messages, "exception": TimeoutError("slow")}
            for callback in module.failure_callback:
                callback(kwargs, None, start, end)
            raise TimeoutError("slow")
        response = {"model": model, "usage": {"prompt_tokens": 30, "completion_tokens": 10}}
        kwargs = {"model": model, "messages": messages, "response_cost": 0.00042}
        for callback in module.success_callback:
            callback(kwargs, response, start, end)
        return response

    module.completion = completion
    return module


def test_litellm_calls_are_captured_through_its_callbacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    litellm = stand_in_litellm()
    mine = lambda *a: None  # noqa: E731 - a callback the application registered itself
    litellm.success_callback.append(mine)
    monkeypatch.setitem(sys.modules, "litellm", litellm)
    autocapture.enable()
    litellm.completion("openai/gpt-4o-mini", [{"role": "user", "content": "x"}])
    with pytest.raises(TimeoutError):
        litellm.completion("anthropic/claude-haiku-4-5", [], fail=True)
    ok, failed = autocapture.calls()
    assert (ok.provider, ok.model, ok.cost_usd, ok.latency_ms) == (
        "litellm", "openai/gpt-4o-mini", 0.00042, 250,
    )  # fmt: skip
    assert (ok.input_tokens, ok.output_tokens) == (30, 10)
    assert (failed.error, failed.cost_usd) == ("TimeoutError", None)
    autocapture.disable()
    assert litellm.success_callback == [mine]
    assert litellm.failure_callback == []
