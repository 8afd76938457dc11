"""Turn a dataset's models into a Minima catalog file for the run.

Prices. The dataset has only each call's total USD cost, not its token split, so
every model gets one blended price for input and output tokens: its total cost
over the train split divided by the estimated prompt tokens (characters / 4) of
those prompts. With input and output priced alike, the engine's estimate for a
prompt is (its token estimate) x (the model's price), so models rank by cost
exactly as their real costs do on average; the absolute level is approximate
(output tokens are not in the fit), and the engine switches to the costs the
replay reports in feedback once it has observed them.

Priors. "neutral" writes none, so every model starts from the engine's neutral
prior and everything it knows comes from feedback. "train" writes each model's
mean score on the train split as its intelligence_index (the same prior for
every task type), an ablation that never looks at the test split.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from minima_grpc.evaluation.dataset import RoutingDataset, Sample

PriorMode = Literal["neutral", "train"]
CHARS_PER_TOKEN = 4.0
# Unknown for the dataset's models; large enough never to filter a prompt out.
CONTEXT_WINDOW = 128_000
_PROVIDER_PREFIXES = {"gpt": "openai", "claude": "anthropic"}


def estimated_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def provider_of(model_id: str) -> str:
    """The organisation before '/' (RouterBench's convention), else a known name prefix."""
    if "/" in model_id:
        return model_id.split("/", 1)[0].lower()
    head = model_id.split("-", 1)[0].lower()
    return _PROVIDER_PREFIXES.get(head, head)


def blended_prices(dataset: RoutingDataset, train: Sequence[Sample]) -> dict[str, float]:
    """USD per million tokens per model, fitted on `train` (see the module doc)."""
    if not train:
        raise ValueError("pricing needs at least one train prompt")
    tokens = sum(estimated_tokens(s.prompt) for s in train)
    return {
        model: sum(s.costs[i] for s in train) / tokens * 1e6
        for i, model in enumerate(dataset.models)
    }


def build_catalog(
    dataset: RoutingDataset, train: Sequence[Sample], priors: PriorMode
) -> dict[str, Any]:
    prices = blended_prices(dataset, train)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    models: list[dict[str, Any]] = []
    for i, model in enumerate(dataset.models):
        entry: dict[str, Any] = {
            "model_id": model,
            "provider": provider_of(model),
            "input_cost_per_mtok": round(prices[model], 6),
            "output_cost_per_mtok": round(prices[model], 6),
            "context_window": CONTEXT_WINDOW,
            "supports_prompt_caching": False,
            "cost_source": f"fit:{dataset.source}:train",
            "capability_source": "neutral" if priors == "neutral" else f"{dataset.source}:train",
        }
        if priors == "train":
            mean_score = sum(s.scores[i] for s in train) / len(train)
            entry["capability_priors"] = {"intelligence_index": round(mean_score, 4)}
        models.append(entry)
    return {
        "catalog_version": f"eval-{dataset.source}-{priors}",
        "refreshed_at": now,
        "stale_after_days": None,  # the dataset's prices do not age during a run
        "models": models,
    }


def write_catalog(document: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
