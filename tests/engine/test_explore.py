"""Exploration: bounded (thin evidence, capped share, never below min_quality),
visible (a warning naming the model), honest (its own predicted success) and
deterministic (same state and request, same answer)."""

from __future__ import annotations

from dataclasses import replace

from minima_grpc.catalog.loader import parse_catalog
from minima_grpc.engine.types import (
    Constraints,
    Difficulty,
    FeedbackRequest,
    Outcome,
    RecommendRequest,
    RecommendResponse,
    TaskInput,
    TaskType,
)
from minima_grpc.memory.protocol import OutcomeRecord

from .conftest import NOW, RELAXED, SCOPE, EngineRig, MakeEngine

CATALOG = parse_catalog(
    {
        "refreshed_at": NOW.isoformat(),
        "models": [
            {"model_id": model_id, "provider": "acme", "input_cost_per_mtok": price,
             "output_cost_per_mtok": 4 * price, "context_window": 100_000,
             "capability_by_task_type": {"reasoning": prior}}
            for model_id, price, prior in (("cheap", 0.1, 0.6), ("mid", 1.0, 0.8),
                                           ("premium", 10.0, 0.88))
        ],
    },
    source="test",
)  # fmt: skip
EXPLORING = replace(RELAXED, exploration=True, exploration_share=1.0)
PHRASES = [f"the {n}th line of the ledger for account {n * 7}" for n in range(24)]


def translation(phrase: str) -> TaskInput:
    return TaskInput(f"Translate '{phrase}' into French.", TaskType.REASONING, Difficulty.MEDIUM)


def explored(r: RecommendResponse) -> str | None:
    found = [w.split(":", 1)[1] for w in r.warnings if w.startswith("exploration_pick:")]
    return found[0] if found else None


async def ask(rig: EngineRig, phrase: str, **kwargs: object) -> RecommendResponse:
    request = RecommendRequest(translation(phrase), allow_llm_escalation=False, **kwargs)  # type: ignore[arg-type]
    return await rig.engine.recommend(SCOPE, request)


async def test_cold_models_are_explored_visibly_honestly_and_deterministically(
    make_engine: MakeEngine,
) -> None:
    exploiting = await make_engine(catalog=CATALOG)
    exploring = await make_engine(catalog=CATALOG, settings=EXPLORING)
    picks = []
    for phrase in PHRASES:
        usual = await ask(exploiting, phrase)
        first, again = await ask(exploring, phrase), await ask(exploring, phrase)
        # prior-only at slider 5 (lambda 0.044 per e-fold of price): mid's +0.2 over
        # cheap is worth its 10x price, premium's +0.08 over mid is not
        assert usual.recommended_model.model_id == "mid"
        assert explored(usual) is None
        assert again.recommended_model.model_id == first.recommended_model.model_id
        assert again.warnings == first.warnings
        model_id = explored(first)
        picks.append(model_id)
        if model_id is None:
            assert first.recommended_model.model_id == "mid"
            continue
        assert first.recommended_model.model_id == model_id != "mid"
        assert first.recommended_model == first.ranked[0]
        # honest: its own prediction and the usual threshold, with a sturdier fallback
        prior = {m.model_id: m.predicted_success for m in usual.ranked}
        assert first.recommended_model.predicted_success == prior[model_id]
        assert first.threshold_used == usual.threshold_used
        sturdier = [m for m in first.ranked if m.predicted_success >= prior[model_id] + 0.03]
        if sturdier:
            assert first.fallback_model is not None
            assert first.fallback_model.predicted_success >= prior[model_id] + 0.03
    assert None in picks
    assert "cheap" in picks


async def test_no_exploration_below_min_quality_or_with_a_zero_share(
    make_engine: MakeEngine,
) -> None:
    exploring = await make_engine(catalog=CATALOG, settings=EXPLORING)
    capped = await make_engine(catalog=CATALOG, settings=replace(EXPLORING, exploration_share=0.0))
    for phrase in PHRASES:
        floored = await ask(exploring, phrase, constraints=Constraints(min_quality=0.7))
        assert explored(floored) is None
        assert explored(await ask(capped, phrase)) is None


async def test_models_with_enough_evidence_are_not_explored(make_engine: MakeEngine) -> None:
    cold = await make_engine(catalog=CATALOG, settings=EXPLORING)
    sturdy = replace(EXPLORING, exploration_max_weight=1.0)
    warm = await make_engine(catalog=CATALOG, settings=sturdy)
    records = [
        OutcomeRecord(
            task_text=translation(phrase).task,
            task_type=TaskType.REASONING,
            difficulty=Difficulty.MEDIUM,
            model_id=model_id,
            outcome=Outcome.SUCCESS if quality > 0.5 else Outcome.FAILURE,
            quality=quality,
            recorded_at=NOW,
            idempotency_key=f"{model_id}:{phrase}",
        )
        for phrase in PHRASES
        for model_id, quality in (("cheap", 0.1), ("mid", 0.9), ("premium", 0.9))
    ]
    await warm.memory.remember(SCOPE, records[0])
    await warm.memory.remember_many(SCOPE, records[1:])
    cold_explored = [explored(await ask(cold, phrase)) for phrase in PHRASES]
    warm_answers = [await ask(warm, phrase) for phrase in PHRASES]
    assert any(cold_explored)
    assert not any(explored(r) for r in warm_answers)
    assert {r.recommended_model.model_id for r in warm_answers} == {"mid"}


async def test_exploration_stops_where_no_feedback_comes_back(make_engine: MakeEngine) -> None:
    window = 8
    settings = replace(EXPLORING, exploration_feedback_window=window)
    fresh = await make_engine(catalog=CATALOG, settings=settings)
    silent = await make_engine(catalog=CATALOG, settings=settings)
    reporting = await make_engine(catalog=CATALOG, settings=settings)
    # `window` earlier recommendations on unrelated text: one lane never reports back
    # on them, the other reports every outcome.
    for n in range(window):
        await ask(silent, f"qqq{n} zzz{n}")
        done = await ask(reporting, f"qqq{n} zzz{n}")
        outcome = FeedbackRequest(
            done.recommendation_id, done.recommended_model.model_id, Outcome.SUCCESS
        )
        await reporting.engine.feedback(SCOPE, outcome)
    assert any([explored(await ask(fresh, p)) for p in PHRASES])  # benefit of the doubt
    assert any([explored(await ask(reporting, p)) for p in PHRASES])
    quiet = [await ask(silent, p) for p in PHRASES]
    assert not any(explored(r) for r in quiet)
    assert {r.recommended_model.model_id for r in quiet} == {"mid"}
