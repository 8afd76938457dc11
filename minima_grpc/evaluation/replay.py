"""Replay a dataset through a running Minima as a user's traffic would.

Learning (train split). "bandit" (default): for each prompt, Recommend with the
text only, look up how the recommended model really did and what it cost, and
report that in SubmitFeedback, one prompt after the other. "full": write every
model's outcome on every train prompt (what `minima seed` does), the most a
router could learn from that history. "none": measure the cold start.

Measuring (test split). Protocol "frozen" (default): learn once in one
namespace, then Recommend each test prompt at every slider setting with no
feedback, so all settings see the same learned state and none leaks into
another. Protocol "online": every slider setting gets its own namespace, learns
the train split at that setting, and keeps sending feedback on the test split,
as a user who always runs at that setting would.

Paths. One bandit run is one learning history: which models got tried on
which prompts depends on the exploration draws, and on RouterBench two
histories can end up half a dozen points of AIQ apart. `paths` > 1 repeats
the whole protocol in fresh namespaces (<namespace>-p1, -p2, ...): the draws
are seeded by namespace, so each path is an independent history, and the
report gives the mean with each path's figures.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Never

import numpy as np
from tqdm import tqdm

from minima_grpc.evaluation.catalog_file import estimated_tokens
from minima_grpc.evaluation.client import ApiError, Hints, MinimaApi, OutcomeReport, Pick
from minima_grpc.evaluation.dataset import RoutingDataset, Sample
from minima_grpc.evaluation.history import (
    SeedSummary,
    outcome_of,
    sample_key,
    tasks_from_samples,
    write_history,
)
from minima_grpc.evaluation.metrics import Choices
from minima_grpc.evaluation.pool import for_each

LearnMode = Literal["bandit", "full", "none"]
ProtocolName = Literal["frozen", "online"]

# RouterBench benchmark -> Minima task type, sent only with --hints.
EVAL_TASK_TYPES: Mapping[str, str] = {
    "arc-challenge": "qa",
    "mmlu": "qa",
    "winogrande": "reasoning",
    "hellaswag": "reasoning",
    "grade-school-math": "reasoning",
    "gsm8k": "reasoning",
    "mbpp": "code",
    "mt-bench": "other",
    "consensus_summary": "summarization",
    "rag": "rag",
}


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    # None: the default namespace. The online protocol appends the setting.
    namespace: str | None
    sliders: tuple[float, ...]
    learn: LearnMode = "bandit"
    protocol: ProtocolName = "frozen"
    train_slider: float = 5.0
    hints: bool = False
    concurrency: int = 4
    quiet: bool = False
    paths: int = 1


@dataclass(slots=True)
class PassStats:
    """What the engine said during one pass over a split."""

    prompts: int = 0
    seconds: float = 0.0
    decision_basis: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    task_types: Counter[str] = field(default_factory=Counter)
    predicted_success_sum: float = 0.0
    feedback_accepted: int = 0
    feedback_rejected: int = 0

    def add(self, pick: Pick) -> None:
        self.prompts += 1
        self.decision_basis[pick.decision_basis] += 1
        self.warnings.update(pick.warnings)
        self.task_types[pick.task_type] += 1
        self.predicted_success_sum += pick.predicted_success

    @classmethod
    def merged(cls, passes: Sequence[PassStats]) -> PassStats:
        """Several passes (one per learning path) counted as one."""
        total = cls()
        for stats in passes:
            total.prompts += stats.prompts
            total.seconds += stats.seconds
            total.decision_basis.update(stats.decision_basis)
            total.warnings.update(stats.warnings)
            total.task_types.update(stats.task_types)
            total.predicted_success_sum += stats.predicted_success_sum
            total.feedback_accepted += stats.feedback_accepted
            total.feedback_rejected += stats.feedback_rejected
        return total


@dataclass(frozen=True, slots=True)
class Pass:
    choices: Choices  # model index per prompt
    stats: PassStats


@dataclass(frozen=True, slots=True)
class SliderRun:
    slider: float
    namespace: str | None
    test: Pass
    learned: Pass | SeedSummary | None  # online protocol: this setting's own learning


@dataclass(frozen=True, slots=True)
class LearningPath:
    """One learning history and what was measured after it."""

    learned: Pass | SeedSummary | None  # frozen protocol: the one learning phase
    runs: tuple[SliderRun, ...]  # one per slider setting, in the plan's order


@dataclass(frozen=True, slots=True)
class ReplayResult:
    plan: ReplayPlan
    paths: tuple[LearningPath, ...]
    seconds: float


class Replay:
    def __init__(self, api: MinimaApi, dataset: RoutingDataset, plan: ReplayPlan) -> None:
        self._api = api
        self._data = dataset
        self._plan = plan
        self._index = {m: i for i, m in enumerate(dataset.models)}
        self._restrict: tuple[str, ...] = ()

    async def run(self) -> ReplayResult:
        started = time.perf_counter()
        await self._check_catalog()
        plan = self._plan
        if plan.paths == 1:
            paths = [await self._path(plan.namespace)]
        else:
            prefix = plan.namespace or "eval"
            paths = [await self._path(f"{prefix}-p{n}") for n in range(1, plan.paths + 1)]
        return ReplayResult(plan, tuple(paths), time.perf_counter() - started)

    async def _path(self, namespace: str | None) -> LearningPath:
        train, test = self._data.split("train"), self._data.split("test")
        plan = self._plan
        runs: list[SliderRun] = []
        if plan.protocol == "frozen":
            learned = await self._learn(train, namespace, plan.train_slider)
            for slider in plan.sliders:
                measured = await self._pass(test, slider, namespace, feedback=False)
                runs.append(SliderRun(slider, namespace, measured, None))
            return LearningPath(learned, tuple(runs))
        for slider in plan.sliders:
            own_namespace = f"{namespace or 'eval'}-s{slider:g}"
            own = await self._learn(train, own_namespace, slider)
            measured = await self._pass(test, slider, own_namespace, feedback=True)
            runs.append(SliderRun(slider, own_namespace, measured, own))
        return LearningPath(None, tuple(runs))

    async def _check_catalog(self) -> None:
        served = await self._api.model_ids()
        missing = [m for m in self._data.models if m not in served]
        if missing:
            raise ApiError(
                f"the server's catalog lacks {', '.join(missing)}; start it with the catalog "
                "file `minima eval` writes (or run without --target)"
            )
        if len(served) > len(self._data.models):
            # Only the dataset's models can be scored: keep the router to them.
            self._restrict = self._data.models

    async def _learn(
        self, train: Sequence[Sample], namespace: str | None, slider: float
    ) -> Pass | SeedSummary | None:
        if self._plan.learn == "none":
            return None
        if self._plan.learn == "bandit":
            return await self._pass(train, slider, namespace, feedback=True)
        with self._bar(f"learn {namespace or 'default'} (all outcomes)", len(train)) as bar:
            return await write_history(
                self._api,
                tasks_from_samples(self._data.models, train),
                namespace=namespace,
                tag=f"{self._data.source}:train",
                concurrency=self._plan.concurrency,
                advance=bar.update,
            )

    async def _pass(
        self,
        samples: Sequence[Sample],
        slider: float,
        namespace: str | None,
        *,
        feedback: bool,
    ) -> Pass:
        """Route every prompt; with feedback, one after the other, as learning is sequential."""
        choices = np.full(len(samples), -1, dtype=np.int64)
        stats = PassStats()
        started = time.perf_counter()
        with self._bar(f"{samples[0].split} slider {slider:g}", len(samples)) as bar:

            async def route(position: int) -> None:
                sample = samples[position]
                pick = await self._api.recommend(
                    sample.prompt,
                    slider,
                    namespace,
                    self._hints(sample),
                    max_candidates=min(64, len(self._data.models)),
                    candidate_models=self._restrict,
                )
                chosen = self._index.get(pick.model_id)
                if chosen is None:
                    raise ApiError(
                        f"the server recommended {pick.model_id!r}, which is not in the dataset"
                    )
                choices[position] = chosen
                stats.add(pick)
                if feedback:
                    receipt = await self._api.feedback(
                        OutcomeReport(
                            recommendation_id=pick.recommendation_id,
                            model_id=pick.model_id,
                            outcome=outcome_of(sample.scores[chosen]),
                            idempotency_key=f"eval:{namespace or ''}:{sample_key(sample)}",
                            quality=sample.scores[chosen],
                            cost_usd=sample.costs[chosen],
                        )
                    )
                    if receipt.accepted:
                        stats.feedback_accepted += 1
                    else:
                        stats.feedback_rejected += 1
                bar.update(1)

            await for_each(range(len(samples)), route, 1 if feedback else self._plan.concurrency)
        stats.seconds = time.perf_counter() - started
        return Pass(choices, stats)

    def _hints(self, sample: Sample) -> Hints:
        if not self._plan.hints:
            return Hints()
        return Hints(EVAL_TASK_TYPES.get(sample.eval_name), estimated_tokens(sample.prompt))

    def _bar(self, label: str, total: int) -> tqdm[Never]:
        return tqdm(total=total, desc=label, unit="prompt", disable=self._plan.quiet, leave=False)
