"""The engine end to end over the real embedded memory."""

from __future__ import annotations

import dataclasses
import re

import pytest

from minima_grpc.engine.errors import InvalidRequest, NoCandidateModels, UnknownModel
from minima_grpc.engine.types import (
    Constraints,
    DecisionBasis,
    Difficulty,
    FeedbackRequest,
    HealthStatus,
    ModelsQuery,
    Outcome,
    RecommendRequest,
    RecommendResponse,
    Scope,
    StrategiesQuery,
    TaskInput,
    TaskType,
)

from .conftest import PACKAGED, SCOPE, EngineRig, MakeEngine

CSV = TaskInput("Write a Python CSV parser.")


def _ask(task: TaskInput = CSV, **kwargs: object) -> RecommendRequest:
    return RecommendRequest(task=task, **kwargs)  # type: ignore[arg-type]


async def test_cold_start_recommendation_is_complete_and_consistent(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, _ask())
    assert re.fullmatch(r"[0-9a-f]{32}", r.recommendation_id)
    assert (r.classified_task_type, r.classified_difficulty) == (TaskType.CODE, Difficulty.MEDIUM)
    assert r.recommended_model == r.ranked[0]
    assert len(r.ranked) == 8
    assert [m.score for m in r.ranked] == sorted((m.score for m in r.ranked), reverse=True)
    assert r.decision_basis is DecisionBasis.PRIOR
    assert r.confidence == 0.0
    # tau is the pick's own prediction: the pick is the cheapest model clearing it
    assert r.threshold_used == pytest.approx(r.recommended_model.predicted_success, abs=1e-4)
    assert r.catalog_version == PACKAGED.version
    assert not r.catalog_stale
    assert r.latency_ms >= 0
    assert "cold_start" in r.warnings
    for m in r.ranked:
        assert set(m.est_cost_breakdown) == {"input", "output"}
        assert m.est_cost_usd == pytest.approx(sum(m.est_cost_breakdown.values()), rel=1e-6)
        assert "est $" in m.rationale
        assert m.evidence == ()
    fallback = r.fallback_model
    assert fallback is not None
    assert fallback.predicted_success > r.recommended_model.predicted_success
    assert fallback in r.ranked


async def test_max_candidates_caps_the_list_but_never_hides_a_cheaper_pick(rig: EngineRig) -> None:
    wide = await rig.engine.recommend(SCOPE, _ask(max_candidates=64))
    narrow = await rig.engine.recommend(SCOPE, _ask(max_candidates=1))
    assert len(wide.ranked) == len(PACKAGED.entries)
    assert narrow.recommended_model.model_id == wide.recommended_model.model_id
    assert len(narrow.ranked) <= 2  # the pick, plus the fallback when there is one
    cheapest_clearing = min(
        (m for m in wide.ranked if m.predicted_success >= wide.threshold_used),
        key=lambda m: m.est_cost_usd,
    )
    assert wide.recommended_model.model_id == cheapest_clearing.model_id


async def test_the_slider_trades_cost_for_quality(rig: EngineRig) -> None:
    hard = TaskInput("Prove that the halting problem is undecidable, rigorously.")
    picks = [
        await rig.engine.recommend(SCOPE, _ask(hard, cost_quality_tradeoff=cq)) for cq in (0, 5, 10)
    ]
    costs = [p.recommended_model.est_cost_usd for p in picks]
    quality = [p.recommended_model.predicted_success for p in picks]
    assert costs == sorted(costs)
    assert quality == sorted(quality)
    assert costs[0] < costs[2]
    for p in picks:
        assert p.threshold_used == pytest.approx(p.recommended_model.predicted_success, abs=1e-4)
        assert "no_model_meets_threshold" not in p.warnings
    # 0: the cheapest acceptable model (p >= tau_min 0.55); 10: the most likely to succeed
    every = await rig.engine.recommend(
        SCOPE, _ask(hard, cost_quality_tradeoff=0, max_candidates=64)
    )
    acceptable = [m for m in every.ranked if m.predicted_success >= 0.55]
    cheapest_acceptable = min(acceptable, key=lambda m: m.est_cost_usd)
    assert picks[0].recommended_model.model_id == cheapest_acceptable.model_id
    assert quality[2] == pytest.approx(max(m.predicted_success for m in every.ranked), abs=1e-4)


async def test_constraints_shape_the_candidate_set(rig: EngineRig) -> None:
    only_google = await rig.engine.recommend(
        SCOPE, _ask(constraints=Constraints(allowed_providers=("GOOGLE",)), max_candidates=64)
    )
    assert {m.provider for m in only_google.ranked} == {"google"}
    chosen = ("gpt-5.4-mini", "claude-haiku-4-5")
    listed = await rig.engine.recommend(
        SCOPE, _ask(constraints=Constraints(candidate_models=chosen, excluded_models=chosen[:1]))
    )
    assert [m.model_id for m in listed.ranked] == ["claude-haiku-4-5"]
    long_context = await rig.engine.recommend(
        SCOPE,
        _ask(constraints=Constraints(require_context_window=500_000, require_prompt_caching=True),
             max_candidates=64),
    )  # fmt: skip
    assert all(m.context_window >= 500_000 for m in long_context.ranked)
    assert all(m.supports_prompt_caching for m in long_context.ranked)
    # max_latency_ms is a reserved hint: accepted, changes nothing
    hinted = await rig.engine.recommend(SCOPE, _ask(constraints=Constraints(max_latency_ms=10)))
    plain = await rig.engine.recommend(SCOPE, _ask())
    assert [m.model_id for m in hinted.ranked] == [m.model_id for m in plain.ranked]


async def test_no_candidates_and_bad_input_are_errors_that_write_nothing(rig: EngineRig) -> None:
    with pytest.raises(NoCandidateModels, match="no models match the supplied constraints"):
        await rig.engine.recommend(
            SCOPE, _ask(constraints=Constraints(allowed_providers=("nobody",)))
        )
    with pytest.raises(InvalidRequest) as caught:
        await rig.engine.recommend(
            SCOPE,
            _ask(
                TaskInput("  ", expected_output_tokens=-1),
                cost_quality_tradeoff=11,
                max_candidates=0,
                constraints=Constraints(min_quality=1.5, max_cost_per_call=-1),
            ),
        )
    fields = {v.field for v in caught.value.violations}
    assert fields == {
        "task.task",
        "task.expected_output_tokens",
        "cost_quality_tradeoff",
        "max_candidates",
        "constraints.min_quality",
        "constraints.max_cost_per_call",
    }
    assert rig.store.puts == []
    assert rig.faults.calls.get("recall", 0) == 0


async def test_explain_false_drops_evidence_refs(rig: EngineRig) -> None:
    first = await rig.engine.recommend(SCOPE, _ask())
    pick = first.recommended_model.model_id
    await rig.engine.feedback(
        SCOPE, FeedbackRequest(first.recommendation_id, pick, Outcome.SUCCESS)
    )
    explained = await rig.engine.recommend(SCOPE, _ask(max_candidates=64))
    quiet = await rig.engine.recommend(SCOPE, _ask(explain=False, max_candidates=64))
    informed = next(m for m in explained.ranked if m.model_id == pick)
    assert informed.evidence
    assert informed.evidence[0].model_id == pick
    assert informed.decision_basis is DecisionBasis.MEMORY
    assert all(m.evidence == () for m in quiet.ranked)


async def test_feedback_closes_the_loop(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, _ask())
    other = "claude-opus-4-8"
    with pytest.raises(UnknownModel):
        await rig.engine.feedback(
            SCOPE, FeedbackRequest(r.recommendation_id, "gpt-9", Outcome.SUCCESS)
        )
    unknown = await rig.engine.feedback(SCOPE, FeedbackRequest("f" * 32, other, Outcome.SUCCESS))
    assert (unknown.accepted, unknown.warnings) == (False, ("unknown_recommendation",))

    first = await rig.engine.feedback(
        SCOPE,
        FeedbackRequest(r.recommendation_id, other, Outcome.SUCCESS, input_tokens=200,
                        output_tokens=600, actual_cost_usd=0.016, latency_ms=900),
    )  # fmt: skip
    assert first.accepted
    assert first.record_id
    assert first.warnings == ()
    retry = await rig.engine.feedback(
        SCOPE, FeedbackRequest(r.recommendation_id, other, Outcome.SUCCESS)
    )
    assert (retry.accepted, retry.warnings) == (True, ("duplicate_feedback_ignored",))
    # the same recommendation, a different model actually run: a new outcome
    second = await rig.engine.feedback(
        SCOPE, FeedbackRequest(r.recommendation_id, r.recommended_model.model_id, Outcome.FAILURE)
    )
    assert second.accepted
    assert second.record_id != first.record_id


async def test_other_tenants_cannot_see_a_recommendation(rig: EngineRig) -> None:
    r = await rig.engine.recommend(SCOPE, _ask())
    stranger = await rig.engine.feedback(
        Scope(tenant="tenant-b"),
        FeedbackRequest(r.recommendation_id, r.recommended_model.model_id, Outcome.SUCCESS),
    )
    assert stranger.warnings == ("unknown_recommendation",)


async def test_same_state_same_request_same_answer(rig: EngineRig) -> None:
    def comparable(r: RecommendResponse) -> RecommendResponse:
        return dataclasses.replace(r, recommendation_id="", latency_ms=0)

    first = await rig.engine.recommend(SCOPE, _ask())
    assert comparable(first) == comparable(await rig.engine.recommend(SCOPE, _ask()))


async def test_strategies_list_models_and_health(make_engine: MakeEngine) -> None:
    rig = await make_engine()
    strategies = await rig.engine.strategies(
        Scope("tenant-a", namespace="team-x"), StrategiesQuery()
    )
    assert (strategies.namespace, strategies.lane) == ("team-x", "minima:team-x")
    assert strategies.count == len(strategies.strategies) == 0
    with pytest.raises(InvalidRequest):
        await rig.engine.strategies(SCOPE, StrategiesQuery(max_strategies=51))
    rig.faults.faults["strategies"] = RuntimeError("memory down")
    assert (await rig.engine.strategies(SCOPE, StrategiesQuery())).strategies == ()

    models = await rig.engine.list_models(ModelsQuery(provider="anthropic"))
    assert models.catalog_version == PACKAGED.version
    assert {m.provider for m in models.models} == {"anthropic"}
    with pytest.raises(InvalidRequest):
        await rig.engine.list_models(ModelsQuery(max_cost=-1))

    anonymous = await rig.engine.health(None)
    assert anonymous.status is HealthStatus.OK
    assert anonymous.memory.reachable is None
    assert anonymous.catalog.models == len(PACKAGED.entries)
    keyed = await rig.engine.health(SCOPE)
    assert keyed.memory.reachable is True
    assert keyed.memory.latency_ms is not None
    rig.faults.faults["probe"] = OSError("disk gone")
    down = await rig.engine.health(SCOPE)
    assert down.status is HealthStatus.DEGRADED
    assert down.memory.reachable is False


async def test_namespaces_isolate_learning(rig: EngineRig) -> None:
    team = Scope("tenant-a", namespace="team-x")
    r = await rig.engine.recommend(team, _ask())
    await rig.engine.feedback(
        team, FeedbackRequest(r.recommendation_id, "gpt-5.4", Outcome.SUCCESS)
    )
    assert "cold_start" not in (await rig.engine.recommend(team, _ask())).warnings
    assert "cold_start" in (await rig.engine.recommend(SCOPE, _ask())).warnings


async def test_feedback_lands_in_the_namespace_of_its_recommendation(rig: EngineRig) -> None:
    team = Scope("tenant-a", namespace="team-x")
    r = await rig.engine.recommend(team, _ask())
    # FeedbackRequest has no namespace: the caller's scope names none
    await rig.engine.feedback(
        SCOPE, FeedbackRequest(r.recommendation_id, "gpt-5.4", Outcome.SUCCESS)
    )
    assert "cold_start" not in (await rig.engine.recommend(team, _ask())).warnings
    assert "cold_start" in (await rig.engine.recommend(SCOPE, _ask())).warnings
