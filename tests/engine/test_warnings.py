"""Every documented warning, provoked on purpose at engine level."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from minima_grpc.catalog import Catalog
from minima_grpc.catalog.loader import parse_catalog
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.reasoner import ReasonerConfig, build_reasoner
from minima_grpc.engine.types import (
    Constraints,
    DecisionBasis,
    Difficulty,
    FeedbackRequest,
    Outcome,
    RecommendRequest,
    TaskInput,
    TaskType,
)

from .conftest import NOW, RELAXED, SCOPE, EngineRig, MakeEngine
from .fake_llm import FakeLLM

CSV = RecommendRequest(TaskInput("Write a Python CSV parser."))


def _catalog(*models: tuple[str, float, float]) -> Catalog:
    """(model_id, price per Mtok in and out, prior for every task type)."""
    return parse_catalog(
        {
            "refreshed_at": NOW.isoformat(),
            "catalog_version": "warnings-test",
            "models": [
                {
                    "model_id": model_id,
                    "provider": "acme",
                    "input_cost_per_mtok": price,
                    "output_cost_per_mtok": price,
                    "context_window": 100_000,
                    "capability_by_task_type": {t.value: prior for t in TaskType},
                }
                for model_id, price, prior in models
            ],
        },
        source="test",
    )


def _reasoner(llm: FakeLLM, provider: str = "anthropic", timeout_ms: int = 30_000) -> Any:
    config = ReasonerConfig(provider, "fake-model", "sk-test", llm.base_url(provider), timeout_ms)
    return build_reasoner(config)


# -- recommend -----------------------------------------------------------------


async def test_cold_start_thin_evidence_low_confidence_reasoner_disabled(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, CSV)
    # on priors alone the two best values are within tie_delta (0.02) of each other
    assert r.ranked[0].score - r.ranked[1].score < 0.02
    assert r.warnings == (
        "escalation_suggested:thin_evidence",
        "escalation_suggested:low_confidence",
        "escalation_suggested:tie",
        "reasoner_disabled",
        "cold_start",
    )
    quiet = await rig.engine.recommend(
        SCOPE, RecommendRequest(CSV.task, allow_llm_escalation=False)
    )
    assert quiet.warnings == ("cold_start",)


async def test_recall_timeout_answers_from_priors(make_engine: MakeEngine) -> None:
    rig = await make_engine(settings=replace(RELAXED, recall_timeout_ms=50))
    rig.faults.faults["recall"] = "hang"
    r = await rig.engine.recommend(SCOPE, RecommendRequest(CSV.task, allow_llm_escalation=False))
    assert r.warnings == ("recall_timeout",)
    assert r.decision_basis is DecisionBasis.PRIOR


async def test_memory_unavailable_answers_from_priors(rig: EngineRig) -> None:
    rig.faults.faults["recall"] = ConnectionError("memory is down")
    r = await rig.engine.recommend(SCOPE, RecommendRequest(CSV.task, allow_llm_escalation=False))
    assert r.warnings == ("memory_unavailable",)
    assert r.recommended_model.model_id


async def test_a_rejected_key_is_not_degraded_but_refused(rig: EngineRig) -> None:
    rig.faults.faults["recall"] = Unauthenticated("key rejected by memory")
    with pytest.raises(Unauthenticated):
        await rig.engine.recommend(SCOPE, CSV)


async def test_prices_stale_after_the_window(rig: EngineRig) -> None:
    rig.clock.now = NOW + timedelta(days=45)
    r = await rig.engine.recommend(SCOPE, RecommendRequest(CSV.task, allow_llm_escalation=False))
    assert r.catalog_stale
    assert r.warnings[-1] == "prices_stale"


async def test_no_model_meets_threshold(rig: EngineRig) -> None:
    r = await rig.engine.recommend(
        SCOPE,
        RecommendRequest(CSV.task, constraints=Constraints(min_quality=0.999), max_candidates=64),
    )
    assert "no_model_meets_threshold" in r.warnings
    assert r.threshold_used == 0.999
    assert r.recommended_model.predicted_success == max(m.predicted_success for m in r.ranked)


async def test_cost_budget_filters_or_is_relaxed_with_a_warning(rig: EngineRig) -> None:
    budget = 0.001
    within = await rig.engine.recommend(
        SCOPE, RecommendRequest(CSV.task, constraints=Constraints(max_cost_per_call=budget),
                                max_candidates=64),
    )  # fmt: skip
    assert all(m.est_cost_usd <= budget for m in within.ranked)
    assert "no_model_within_cost_budget" not in within.warnings
    relaxed = await rig.engine.recommend(
        SCOPE, RecommendRequest(CSV.task, constraints=Constraints(max_cost_per_call=0.0))
    )
    assert "no_model_within_cost_budget" in relaxed.warnings
    assert relaxed.recommended_model.est_cost_usd > 0.0


async def test_tie_between_interchangeable_models(make_engine: MakeEngine) -> None:
    rig = await make_engine(catalog=_catalog(("twin-a", 1.0, 0.9), ("twin-b", 1.0, 0.9)))
    r = await rig.engine.recommend(SCOPE, CSV)
    assert "escalation_suggested:tie" in r.warnings


async def test_conflict_when_the_picks_neighbours_disagree(make_engine: MakeEngine) -> None:
    rig = await make_engine(catalog=_catalog(("cheap", 0.1, 0.95), ("premium", 10.0, 0.99)))
    ask = RecommendRequest(
        TaskInput("Draft the quarterly vendor report.", task_type=TaskType.OTHER,
                  difficulty=Difficulty.MEDIUM),
        cost_quality_tradeoff=0,
    )  # fmt: skip
    for outcome in (Outcome.SUCCESS, Outcome.FAILURE, Outcome.SUCCESS, Outcome.FAILURE):
        r = await rig.engine.recommend(SCOPE, ask)
        quality = 1.0 if outcome is Outcome.SUCCESS else 0.0
        await rig.engine.feedback(
            SCOPE, FeedbackRequest(r.recommendation_id, "cheap", outcome, quality_score=quality)
        )
    r = await rig.engine.recommend(SCOPE, ask)
    assert r.recommended_model.model_id == "cheap"
    assert "escalation_suggested:conflict" in r.warnings


async def test_reasoner_consulted_changes_scores(make_engine: MakeEngine) -> None:
    catalog = _catalog(("cheap", 0.1, 0.8), ("premium", 10.0, 0.9))

    def doubts_cheap(_: dict[str, Any]) -> str:
        return json.dumps({"success": {"cheap": 0.2, "premium": 0.95}})

    with FakeLLM(reply=doubts_cheap) as llm:
        rig = await make_engine(catalog=catalog, reasoner=_reasoner(llm))
        r = await rig.engine.recommend(SCOPE, CSV)
    assert "reasoner_consulted" in r.warnings
    assert "escalation_suggested:thin_evidence" in r.warnings
    # cold start, no evidence: the reasoner's opinion gets half the weight
    by_id = {m.model_id: m for m in r.ranked}
    prior_cheap = catalog.entries[0].prior(TaskType.CODE, Difficulty.MEDIUM)
    assert by_id["cheap"].predicted_success == pytest.approx(
        0.5 * prior_cheap + 0.5 * 0.2, abs=1e-4
    )
    assert by_id["cheap"].decision_basis is DecisionBasis.LLM
    assert r.recommended_model.model_id == "premium"
    assert r.decision_basis is DecisionBasis.LLM


@pytest.mark.parametrize("failure", ["http_error", "timeout", "nonsense"])
async def test_reasoner_failed_keeps_the_deterministic_result(
    make_engine: MakeEngine, failure: str
) -> None:
    reply = "no idea" if failure == "nonsense" else json.dumps({"success": {"cheap": 0.1}})
    status = 500 if failure == "http_error" else 200
    # The slow reasoner answers long after the engine's deadline.
    delay, deadline_ms = (3.0, 300) if failure == "timeout" else (0.0, 30_000)
    catalog = _catalog(("cheap", 0.1, 0.8), ("premium", 10.0, 0.9))
    with FakeLLM(reply=lambda _: reply, status=status, delay_s=delay) as llm:
        rig = await make_engine(
            catalog=catalog,
            reasoner=_reasoner(llm, "openai", timeout_ms=30_000),
            settings=replace(RELAXED, reasoner_timeout_ms=deadline_ms),
        )
        r = await rig.engine.recommend(SCOPE, CSV)
    assert "reasoner_failed" in r.warnings
    assert r.recommended_model.model_id == "cheap"
    assert r.decision_basis is DecisionBasis.PRIOR


async def test_llm_classified_refines_an_ambiguous_task(make_engine: MakeEngine) -> None:
    with FakeLLM(reply=lambda _: json.dumps({"task_type": "qa", "difficulty": "easy"})) as llm:
        rig = await make_engine(reasoner=_reasoner(llm))
        r = await rig.engine.recommend(SCOPE, RecommendRequest(TaskInput("hello there")))
        clear = await rig.engine.recommend(
            SCOPE, RecommendRequest(TaskInput("Translate 'good night' into Spanish."))
        )
    assert (r.classified_task_type, r.classified_difficulty) == (TaskType.QA, Difficulty.EASY)
    assert "llm_classified" in r.warnings
    assert "reasoner_consulted" in r.warnings
    # a clear classification is not up for the reasoner to change
    assert clear.classified_task_type is TaskType.TRANSLATION
    assert "llm_classified" not in clear.warnings


# -- feedback ------------------------------------------------------------------


async def test_unknown_recommendation_writes_nothing(rig: EngineRig) -> None:
    fb = await rig.engine.feedback(SCOPE, FeedbackRequest("0" * 32, "gpt-5.4", Outcome.SUCCESS))
    assert (fb.accepted, fb.warnings, fb.record_id) == (False, ("unknown_recommendation",), None)
    assert rig.faults.calls.get("remember", 0) == 0


async def test_duplicate_feedback_ignored(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, CSV)
    request = FeedbackRequest(r.recommendation_id, "gpt-5.4", Outcome.SUCCESS, idempotency_key="k1")
    assert (await rig.engine.feedback(SCOPE, request)).accepted
    again = await rig.engine.feedback(SCOPE, request)
    assert (again.accepted, again.warnings) == (True, ("duplicate_feedback_ignored",))
    assert rig.faults.calls["remember"] == 1


async def test_memory_write_failed_is_honest_and_retryable(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, CSV)
    request = FeedbackRequest(r.recommendation_id, "gpt-5.4", Outcome.SUCCESS)
    rig.faults.faults["remember"] = OSError("disk full")
    failed = await rig.engine.feedback(SCOPE, request)
    assert (failed.accepted, failed.warnings) == (False, ("memory_write_failed",))
    del rig.faults.faults["remember"]
    retried = await rig.engine.feedback(SCOPE, request)
    assert retried.accepted
    assert retried.warnings == ()


async def test_rejected_key_on_write_propagates_and_releases_the_claim(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, CSV)
    request = FeedbackRequest(r.recommendation_id, "gpt-5.4", Outcome.SUCCESS)
    rig.faults.faults["remember"] = Unauthenticated("key rejected")
    with pytest.raises(Unauthenticated):
        await rig.engine.feedback(SCOPE, request)
    del rig.faults.faults["remember"]
    assert (await rig.engine.feedback(SCOPE, request)).accepted


async def _agreeing_history(rig: EngineRig, model: str) -> str:
    """A recommendation whose evidence holds a success of `model` on the same task."""
    first = await rig.engine.recommend(SCOPE, CSV)
    await rig.engine.feedback(
        SCOPE, FeedbackRequest(first.recommendation_id, model, Outcome.SUCCESS)
    )
    return (await rig.engine.recommend(SCOPE, CSV)).recommendation_id


async def test_reinforcement_credits_agreeing_neighbours_or_warns(rig: EngineRig) -> None:
    rec = await _agreeing_history(rig, "gpt-5.4")
    ok = await rig.engine.feedback(SCOPE, FeedbackRequest(rec, "gpt-5.4", Outcome.SUCCESS))
    assert len(ok.reinforced_entry_ids) == 1
    assert ok.updated_confidence is not None

    rec = await _agreeing_history(rig, "gpt-5.5")
    rig.faults.faults["reinforce"] = RuntimeError("reinforce broke")
    failed = await rig.engine.feedback(SCOPE, FeedbackRequest(rec, "gpt-5.5", Outcome.SUCCESS))
    assert failed.accepted
    assert failed.warnings == ("reinforcement_failed",)


async def test_a_disagreeing_outcome_reinforces_nothing(rig: EngineRig) -> None:
    rec = await _agreeing_history(rig, "gpt-5.4")
    fb = await rig.engine.feedback(SCOPE, FeedbackRequest(rec, "gpt-5.4", Outcome.FAILURE))
    assert fb.accepted
    assert fb.reinforced_entry_ids == ()
    assert rig.faults.calls.get("reinforce", 0) == 0


async def test_lessons_only_for_verified_high_quality_successes(rig: EngineRig) -> None:
    async def report(**kwargs: Any) -> Any:
        r = await rig.engine.recommend(SCOPE, CSV)
        return await rig.engine.feedback(
            SCOPE, FeedbackRequest(r.recommendation_id, "gpt-5.4", **kwargs)
        )

    assert (await report(outcome=Outcome.SUCCESS, verified_in_production=True)).lesson_promoted
    unverified = await report(outcome=Outcome.SUCCESS)
    assert not unverified.lesson_promoted
    mediocre = await report(outcome=Outcome.SUCCESS, quality_score=0.7, verified_in_production=True)
    assert not mediocre.lesson_promoted
    verified_failure = await report(outcome=Outcome.FAILURE, verified_in_production=True)
    assert not verified_failure.lesson_promoted
    assert verified_failure.reflection_triggered

    rig.faults.faults["record_lesson"] = RuntimeError("lesson store down")
    failed = await report(outcome=Outcome.SUCCESS, verified_in_production=True)
    assert failed.accepted
    assert not failed.lesson_promoted
    assert failed.warnings == ("lesson_promotion_failed",)
