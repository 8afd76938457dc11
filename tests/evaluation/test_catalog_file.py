from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minima_grpc.catalog import load_catalog
from minima_grpc.engine.types import Difficulty, TaskType
from minima_grpc.evaluation.catalog_file import build_catalog, provider_of, write_catalog
from minima_grpc.evaluation.dataset import load_routing_dataset
from tests.evaluation.conftest import WriteCsv, wide_row


def _rows(test_big_score: str = "1") -> list[dict[str, str]]:
    def costs(big: str, small: str) -> dict[str, str]:
        return {"big": big, "small": small}

    return [
        wide_row("t1", "train", "x" * 400, {"big": "1", "small": "0"}, costs("0.02", "0.001")),
        wide_row("t2", "train", "y" * 800, {"big": "1", "small": "1"}, costs("0.04", "0.002")),
        wide_row("s1", "test", "z" * 400, {"big": test_big_score, "small": "1"}, costs("9", "9")),
    ]


def test_catalog_loads_in_the_server_and_ranks_models_by_cost(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    data = load_routing_dataset(write_csv(_rows()))
    path = write_catalog(build_catalog(data, data.split("train"), "neutral"), tmp_path / "c.json")
    catalog = load_catalog(path)
    big, small = catalog.get("big"), catalog.get("small")
    assert big is not None
    assert small is not None
    # 0.06 USD over 300 estimated tokens (1200 chars / 4) -> 200 USD per Mtok
    assert big.card.input_cost_per_mtok == pytest.approx(200.0)
    assert big.card.output_cost_per_mtok == big.card.input_cost_per_mtok
    assert small.card.input_cost_per_mtok == pytest.approx(10.0)
    # Neutral: no prior in the file, so the engine's neutral default applies.
    assert big.prior(TaskType.CODE, Difficulty.HARD) == small.prior(TaskType.QA, Difficulty.EASY)
    assert not catalog.is_stale(datetime.now(UTC) + timedelta(days=365))


def test_train_priors_never_read_the_test_split(write_csv: WriteCsv) -> None:
    first = load_routing_dataset(write_csv(_rows(test_big_score="1")))
    second = load_routing_dataset(write_csv(_rows(test_big_score="0")))
    doc = build_catalog(first, first.split("train"), "train")
    models = {m["model_id"]: m for m in doc["models"]}
    assert models["small"]["capability_priors"] == {"intelligence_index": 0.5}
    assert models["big"]["capability_priors"] == {"intelligence_index": 1.0}
    other = build_catalog(second, second.split("train"), "train")

    def fitted(document: dict[str, Any]) -> list[tuple[float, dict[str, float]]]:
        return [(m["input_cost_per_mtok"], m["capability_priors"]) for m in document["models"]]

    assert fitted(doc) == fitted(other)


def test_provider_names() -> None:
    assert provider_of("meta/llama-2-70b-chat") == "meta"
    assert provider_of("gpt-4-1106-preview") == "openai"
    assert provider_of("claude-v2") == "anthropic"
    assert provider_of("yi-34b") == "yi"
