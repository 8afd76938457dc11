"""Workflow constraint merging, dependency validation and totals."""

from __future__ import annotations

import math

import pytest

from minima_grpc.engine.errors import InvalidRequest, NoCandidateModels
from minima_grpc.engine.types import (
    Constraints,
    TaskInput,
    WorkflowRequest,
    WorkflowStep,
)
from minima_grpc.engine.validate import Violations
from minima_grpc.engine.workflow import check_graph, merge_constraints

from .conftest import SCOPE, EngineRig


def test_a_steps_explicit_values_win_including_false() -> None:
    base = Constraints(
        allowed_providers=("openai",),
        require_prompt_caching=True,
        max_cost_per_call=0.01,
        min_quality=0.8,
    )
    step = Constraints(require_prompt_caching=False, max_cost_per_call=0.0)
    merged = merge_constraints(base, step)
    assert merged.require_prompt_caching is False
    assert merged.max_cost_per_call == 0.0
    assert merged.min_quality == 0.8
    assert merged.allowed_providers == ("openai",)
    assert merge_constraints(
        base, Constraints(allowed_providers=("google",))
    ).allowed_providers == ("google",)
    assert merge_constraints(base, None) is base


def _step(step_id: str, *deps: str) -> WorkflowStep:
    return WorkflowStep(step_id, TaskInput("Summarize this."), depends_on=deps)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], [("steps", "at least one step is required")]),
        ([_step("a"), _step("a")], [("steps[1].step_id", "duplicate step id 'a'")]),
        ([_step(" ")], [("steps[0].step_id", "must not be empty")]),
        ([_step("a", "ghost")], [("steps[0].depends_on[0]", "unknown step id 'ghost'")]),
        ([_step("a", "a")], [("steps[0].depends_on[0]", "a step cannot depend on itself")]),
        (
            [_step("a", "c"), _step("b", "a"), _step("c", "b"), _step("d")],
            [("steps", "depends_on forms a cycle: a -> c -> b -> a")],
        ),
    ],
)
def test_dependency_graph_validation(
    steps: list[WorkflowStep], expected: list[tuple[str, str]]
) -> None:
    v = Violations()
    check_graph(v, steps)
    assert [(x.field, x.description) for x in v.items] == expected


def test_a_dag_is_fine() -> None:
    v = Violations()
    check_graph(v, [_step("a"), _step("b", "a"), _step("c", "a", "b"), _step("d", "c", "a")])
    assert v.items == []


async def test_workflow_runs_every_step_and_totals_costs(rig: EngineRig) -> None:
    request = WorkflowRequest(
        steps=(
            WorkflowStep("summarize", TaskInput("Summarize this incident report into 3 bullets.")),
            WorkflowStep(
                "fix",
                TaskInput("Fix the failing unit tests in utils.py"),
                constraints=Constraints(allowed_providers=("openai",)),
                depends_on=("summarize",),
            ),
        ),
        cost_quality_tradeoff=3,
        constraints=Constraints(require_prompt_caching=True),
    )
    response = await rig.engine.recommend_workflow(SCOPE, request)
    assert [s.step_id for s in response.steps] == ["summarize", "fix"]
    recs = [s.recommendation for s in response.steps]
    assert len({r.recommendation_id for r in recs}) == 2
    assert {m.provider for m in recs[1].ranked} == {"openai"}
    assert response.total_est_cost_usd == pytest.approx(
        sum(r.recommended_model.est_cost_usd for r in recs), abs=1e-8
    )
    assert response.total_est_cost_if_all_premium >= response.total_est_cost_usd
    assert (
        response.total_est_cost_if_all_premium
        >= sum(max(m.est_cost_usd for m in r.ranked) for r in recs) - 1e-8
    )
    assert response.confidence == pytest.approx(sum(r.confidence for r in recs) / 2)
    assert len(rig.store.puts) == 2
    assert not math.isnan(response.confidence)


async def test_an_invalid_or_impossible_step_fails_the_call_and_writes_nothing(
    rig: EngineRig,
) -> None:
    bad_dep = WorkflowRequest(steps=(_step("a", "nope"),))
    with pytest.raises(InvalidRequest, match="unknown step id"):
        await rig.engine.recommend_workflow(SCOPE, bad_dep)
    bad_task = WorkflowRequest(steps=(_step("a"), WorkflowStep("b", TaskInput(""))))
    with pytest.raises(InvalidRequest) as caught:
        await rig.engine.recommend_workflow(SCOPE, bad_task)
    assert [v.field for v in caught.value.violations] == ["steps[1].task.task"]
    impossible = WorkflowRequest(
        steps=(
            _step("a"),
            WorkflowStep("b", TaskInput("x"), constraints=Constraints(candidate_models=("no",))),
        )
    )
    with pytest.raises(NoCandidateModels) as nothing:
        await rig.engine.recommend_workflow(SCOPE, impossible)
    assert nothing.value.metadata["stepId"] == "b"
    assert rig.store.puts == []
