"""The client against a real `minima serve` subprocess, over REST and gRPC,
sync and async: every method, the documented errors, and the contract (the
server's JSON holds only documented fields, so strict models stay valid)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pydantic
import pytest
from minima_client import (
    AsyncMinimaClient,
    Constraints,
    FeedbackResponse,
    MinimaClient,
    MinimaError,
    ModelsResponse,
    RecommendResponse,
    StrategiesResponse,
    TaskInput,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
    autocapture,
)

from tests.client.client_support import FakeHttp, LiveServer, Route, chat_completion

README = Path(__file__).resolve().parents[2] / "client" / "README.md"


@pytest.fixture(params=["rest-sync", "rest-async", "grpc-sync", "grpc-async"])
def call(request: pytest.FixtureRequest, live_server: LiveServer) -> Any:
    """Run one method on a fresh client of the given transport and flavour."""
    transport, flavour = request.param.split("-")
    url = live_server.rest_url if transport == "rest" else live_server.grpc_url

    def invoke(method: str, *args: Any, api_key: str | None = None, **kwargs: Any) -> Any:
        key = api_key or live_server.api_key
        if flavour == "sync":
            with MinimaClient(url, key, max_retries=0) as client:
                return getattr(client, method)(*args, **kwargs)

        async def go() -> Any:
            async with AsyncMinimaClient(url, key, max_retries=0) as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(go())

    return invoke


def test_recommend_then_feedback(call: Any) -> None:
    rec = call(
        "recommend",
        TaskInput(task="Write a Python function that merges k sorted linked lists.",
                  task_type="code", difficulty="hard", expected_input_tokens=180,
                  expected_output_tokens=600, tags=["lang:python"]),
        cost_quality_tradeoff=3, constraints=Constraints(min_quality=0.5), user_id="u1",
        namespace="client-tests", max_candidates=4, allow_llm_escalation=False, explain=True,
    )  # fmt: skip
    assert isinstance(rec, RecommendResponse)
    assert rec.classified_task_type == "code"
    assert rec.classified_difficulty == "hard"
    assert 1 <= len(rec.ranked) <= 4
    assert rec.recommended_model.model_id in {m.model_id for m in rec.ranked}
    answer = call(
        "feedback", rec.recommendation_id, rec.recommended_model.model_id, "success",
        quality_score=0.9, input_tokens=180, output_tokens=640, actual_cost_usd=0.0034,
        latency_ms=2100, verified_in_production=False, notes="client test",
    )  # fmt: skip
    assert isinstance(answer, FeedbackResponse)
    assert answer.accepted


def test_plain_text_task_with_server_defaults(call: Any) -> None:
    rec = call("recommend", "Summarize this incident report into 3 bullets.")
    assert rec.recommendation_id
    assert 0.0 <= rec.confidence <= 1.0


def test_workflow(call: Any) -> None:
    request = WorkflowRequest(
        steps=[
            WorkflowStep(step_id="extract", task=TaskInput(task="Extract the entities from x")),
            WorkflowStep(
                step_id="reason",
                task=TaskInput(task="Decide the next action", task_type="reasoning"),
                depends_on=["extract"],
            ),
        ],
        cost_quality_tradeoff=4,
    )
    wf = call("recommend_workflow", request)
    assert isinstance(wf, WorkflowResponse)
    assert [s.step_id for s in wf.steps] == ["extract", "reason"]
    assert len({s.recommendation.recommendation_id for s in wf.steps}) == 2
    assert wf.total_est_cost_if_all_premium >= wf.total_est_cost_usd


def test_models_strategies_health(call: Any) -> None:
    everything = call("models")
    assert isinstance(everything, ModelsResponse)
    assert everything.models
    provider = everything.models[0].provider
    filtered = call("models", provider=provider.upper(), include_stale=True)
    assert filtered.models
    assert {m.provider for m in filtered.models} == {provider}
    strategies = call("strategies", namespace="client-tests", max_strategies=3)
    assert isinstance(strategies, StrategiesResponse)
    assert strategies.lane == "minima:client-tests"
    assert strategies.count == len(strategies.strategies)
    status = call("health")
    assert status["status"] in ("ok", "degraded")


def test_a_repeated_report_counts_once(call: Any) -> None:
    rec = call("recommend", "Classify this ticket as bug or feature.")
    model = rec.recommended_model.model_id
    first = call("feedback", rec.recommendation_id, model, "success", output_tokens=40)
    again = call("feedback", rec.recommendation_id, model, "success", output_tokens=40)
    assert first.accepted
    assert "duplicate_feedback_ignored" not in first.warnings
    assert "duplicate_feedback_ignored" in again.warnings


def test_bad_key_is_401(call: Any) -> None:
    with pytest.raises(MinimaError) as caught:
        call("models", api_key="not-a-key")
    assert caught.value.status == 401


def test_out_of_range_is_400_with_the_field(call: Any) -> None:
    with pytest.raises(MinimaError) as caught:
        call("recommend", "task", cost_quality_tradeoff=11, max_candidates=0)
    error = caught.value
    assert error.status == 400
    fields = {v.field for v in error.field_violations}
    assert {"cost_quality_tradeoff", "max_candidates"} <= fields
    assert error.request_id


def test_no_candidates_is_422(call: Any) -> None:
    with pytest.raises(MinimaError) as caught:
        call("recommend", "task", constraints={"allowed_providers": ["no-such-provider"]})
    assert caught.value.status == 422
    assert caught.value.title == "No candidate models"


def test_transports_agree(live_server: LiveServer) -> None:
    with (
        MinimaClient(live_server.rest_url, live_server.api_key) as rest,
        MinimaClient(live_server.grpc_url, live_server.api_key) as grpc,
    ):
        assert rest.models(task_type="code") == grpc.models(task_type="code")


def test_autocapture_reports_a_real_call_to_the_server(live_server: LiveServer) -> None:
    routes: dict[tuple[str, str], Route] = {("POST", "/v1/chat/completions"): chat_completion}
    with (
        FakeHttp(routes) as provider,
        MinimaClient(live_server.rest_url, live_server.api_key) as minima,
    ):
        llm = openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)
        autocapture.enable(minima=minima, namespace="client-tests")
        try:
            rec = autocapture.recommend("Summarize this incident report into 3 bullets.")
            llm.chat.completions.create(
                model=rec.recommended_model.model_id,
                messages=[{"role": "user", "content": "Summarize this incident report."}],
            )
            answer = autocapture.feedback(score=1.0)
            call = autocapture.last_call()
        finally:
            autocapture.disable()
        assert call is not None
        card = next(m for m in minima.models().models if m.model_id == call.model)
    assert answer is not None
    assert answer.accepted
    assert call.model == rec.recommended_model.model_id
    # The fake provider reports 1000 prompt tokens (200 cached) and 500 completion tokens.
    cache_price = card.cache_read_cost_per_mtok
    if cache_price is None:
        cache_price = card.input_cost_per_mtok
    expected = 800 * card.input_cost_per_mtok + 200 * cache_price + 500 * card.output_cost_per_mtok
    assert call.cost_usd == pytest.approx(expected / 1e6)


# -- the contract: the REST JSON holds exactly the documented fields -------------


def _undocumented(data: Any, model: type[pydantic.BaseModel], path: str = "") -> list[str]:
    """Keys in `data` that `model` (recursively) does not declare."""
    extra = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            extra.append(f"{path}{key}")
            continue
        nested = _model_in(field.annotation)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if nested is not None and isinstance(item, dict):
                extra += _undocumented(item, nested, f"{path}{key}.")
    return extra


def _model_in(annotation: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def test_rest_responses_hold_only_documented_fields(live_server: LiveServer) -> None:
    headers = {"authorization": f"Bearer {live_server.api_key}"}
    with httpx.Client(base_url=live_server.rest_url, headers=headers) as http:
        rec = http.post("/v1/recommend", json={"task": {"task": "Translate to French"}}).json()
        feedback = http.post(
            "/v1/feedback",
            json={
                "recommendation_id": rec["recommendation_id"],
                "chosen_model_id": rec["recommended_model"]["model_id"],
                "outcome": "partial",
            },
        ).json()
        workflow = http.post(
            "/v1/recommend/workflow", json={"steps": [{"step_id": "a", "task": {"task": "x"}}]}
        ).json()
        models = http.get("/v1/models").json()
        strategies = http.get("/v1/strategies").json()
    checks: list[tuple[Any, type[pydantic.BaseModel]]] = [
        (rec, RecommendResponse),
        (feedback, FeedbackResponse),
        (workflow, WorkflowResponse),
        (models, ModelsResponse),
        (strategies, StrategiesResponse),
    ]
    for body, model in checks:
        assert _undocumented(body, model) == [], model.__name__
        model.model_validate(body)


# -- the README's quick start ------------------------------------------------------


def test_readme_quick_start_runs(live_server: LiveServer) -> None:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    env = {"MINIMA_URL": live_server.rest_url, "MINIMA_API_KEY": live_server.api_key}
    done = subprocess.run(
        [sys.executable, "-c", code[1]],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^use \S+ \(\S+\), about \$\d", done.stdout, re.MULTILINE), done.stdout
    assert "feedback accepted: True" in done.stdout
