"""Feedback moves recommendations for new, similar tasks: per prompt, not per
bucket. Both kinds of task share one task type and difficulty, so only the
recalled neighbours can tell them apart."""

from __future__ import annotations

from minima_grpc.catalog.loader import parse_catalog
from minima_grpc.engine.types import (
    Difficulty,
    FeedbackRequest,
    Outcome,
    RecommendRequest,
    RecommendResponse,
    TaskInput,
    TaskType,
)

from .conftest import NOW, SCOPE, MakeEngine

CATALOG = parse_catalog(
    {
        "refreshed_at": NOW.isoformat(),
        "models": [
            {"model_id": "cheap", "provider": "acme", "input_cost_per_mtok": 0.1,
             "output_cost_per_mtok": 0.4, "context_window": 100_000,
             "capability_by_task_type": {"reasoning": 0.8}},
            {"model_id": "premium", "provider": "acme", "input_cost_per_mtok": 10.0,
             "output_cost_per_mtok": 30.0, "context_window": 100_000,
             "capability_by_task_type": {"reasoning": 0.9}},
        ],
    },
    source="test",
)  # fmt: skip

PHRASES = [
    "good morning", "where is the library", "I would like a coffee", "see you tomorrow",
    "the weather is nice today", "how much does this cost", "thank you very much",
    "my name is Anna", "the train leaves at noon", "I lost my keys",
]  # fmt: skip
STATEMENTS = [
    "every bounded monotone sequence of reals converges",
    "the square root of 2 is irrational",
    "a continuous function on a closed interval attains its maximum",
    "there is no largest prime number",
    "every finite integral domain is a field",
    "the harmonic series diverges",
    "every tree with n vertices has n - 1 edges",
    "a group of prime order is cyclic",
    "the intersection of two subgroups is a subgroup",
    "every convergent sequence is a Cauchy sequence",
]


def translation(phrase: str) -> TaskInput:
    return TaskInput(f"Translate '{phrase}' into French.", TaskType.REASONING, Difficulty.MEDIUM)


def proof(statement: str) -> TaskInput:
    return TaskInput(
        f"Prove rigorously that {statement}. Give a complete proof with every step justified.",
        TaskType.REASONING,
        Difficulty.MEDIUM,
    )


def _p(r: RecommendResponse, model_id: str) -> float:
    return next(m.predicted_success for m in r.ranked if m.model_id == model_id)


async def test_cheap_model_learned_per_prompt(make_engine: MakeEngine) -> None:
    rig = await make_engine(catalog=CATALOG)
    engine = rig.engine

    async def ask(task: TaskInput) -> RecommendResponse:
        return await engine.recommend(SCOPE, RecommendRequest(task, allow_llm_escalation=False))

    # Cold start: identical buckets, identical answers.
    cold_translation = await ask(translation("happy birthday"))
    cold_proof = await ask(proof("every compact metric space is complete"))
    assert cold_translation.recommended_model.model_id == "cheap"
    assert cold_proof.recommended_model.model_id == "cheap"

    for phrase in PHRASES[:8]:
        r = await ask(translation(phrase))
        await engine.feedback(
            SCOPE,
            FeedbackRequest(r.recommendation_id, "cheap", Outcome.SUCCESS, quality_score=0.95),
        )
    for statement in STATEMENTS[:8]:
        r = await ask(proof(statement))
        await engine.feedback(
            SCOPE,
            FeedbackRequest(r.recommendation_id, "cheap", Outcome.FAILURE, quality_score=0.05),
        )
        await engine.feedback(
            SCOPE,
            FeedbackRequest(r.recommendation_id, "premium", Outcome.SUCCESS, quality_score=0.95),
        )

    # New tasks never seen before, similar to each kind.
    for phrase, statement in zip(PHRASES[8:], STATEMENTS[8:], strict=True):
        new_translation = await ask(translation(phrase))
        new_proof = await ask(proof(statement))
        assert new_translation.recommended_model.model_id == "cheap", new_translation.ranked
        assert new_proof.recommended_model.model_id == "premium", new_proof.ranked
        assert _p(new_translation, "cheap") > _p(cold_translation, "cheap")
        assert _p(new_proof, "cheap") < _p(cold_proof, "cheap")
        assert new_proof.decision_basis.value == "memory"
        assert "cold_start" not in new_proof.warnings
