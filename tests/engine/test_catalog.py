"""The packaged catalog, user catalog files, staleness and ListModels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minima_grpc.catalog import CatalogError, load_catalog
from minima_grpc.catalog.loader import parse_catalog
from minima_grpc.catalog.priors import by_difficulty
from minima_grpc.engine.types import Difficulty, ModelsQuery, TaskType

MAJOR_PROVIDERS = {"anthropic", "openai", "google", "xai", "deepseek", "mistral", "meta"}


def test_packaged_snapshot_covers_the_major_providers_with_priced_cards() -> None:
    catalog = load_catalog()
    assert len(catalog.entries) >= 25
    assert {e.card.provider for e in catalog.entries} >= MAJOR_PROVIDERS
    for entry in catalog.entries:
        card = entry.card
        assert card.input_cost_per_mtok > 0, card.model_id
        assert card.output_cost_per_mtok > 0, card.model_id
        assert card.context_window > 0
        assert set(card.capability_by_task_type) == {t.value for t in TaskType}
        assert card.cost_source.startswith("litellm-")
        assert card.cost_fetched_at is not None
        if card.supports_prompt_caching:
            assert card.cache_read_cost_per_mtok is not None
    assert catalog.refreshed_at is not None
    assert catalog.version.startswith(catalog.refreshed_at.date().isoformat())


def test_packaged_priors_fall_with_difficulty_and_separate_models() -> None:
    catalog = load_catalog()
    for entry in catalog.entries:
        for task_type in TaskType:
            levels = [entry.prior(task_type, d) for d in Difficulty]
            assert levels == sorted(levels, reverse=True), (entry.model_id, task_type)
    # Realistic spread: on expert reasoning the best model is far ahead of the weakest.
    expert = [e.prior(TaskType.REASONING, Difficulty.EXPERT) for e in catalog.entries]
    assert max(expert) - min(expert) > 0.4
    trivial = [e.prior(TaskType.CLASSIFICATION, Difficulty.TRIVIAL) for e in catalog.entries]
    assert min(trivial) > 0.85


def test_difficulty_expansion_shifts_the_logit() -> None:
    levels = by_difficulty(0.5)
    # logit(0.5) = 0; offsets +1.6 / +0.8 / 0 / -1 / -2
    assert levels[Difficulty.MEDIUM] == 0.5
    assert levels[Difficulty.HARD] == pytest.approx(0.2689, abs=1e-4)
    assert levels[Difficulty.EXPERT] == pytest.approx(0.1192, abs=1e-4)
    assert levels[Difficulty.TRIVIAL] == pytest.approx(0.8320, abs=1e-4)


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(doc))
    return path


ROUTERBENCH_MODELS = {
    "models": [
        {
            "model_id": "gpt-4-1106-preview",
            "provider": "openai",
            "input_cost_per_mtok": 10,
            "output_cost_per_mtok": 30,
            "context_window": 128000,
            "capability_by_task_type": {"qa": 0.88, "code": 0.8},
        },
        {
            "model_id": "mistralai/mistral-7b-chat",
            "provider": "Mistral",
            "input_cost_per_mtok": 0.2,
            "output_cost_per_mtok": 0.2,
            "context_window": 32000,
        },
    ]
}


def test_a_user_catalog_with_only_dataset_models_loads(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, ROUTERBENCH_MODELS))
    assert [e.model_id for e in catalog.entries] == [
        "gpt-4-1106-preview",
        "mistralai/mistral-7b-chat",
    ]
    gpt4, mistral = catalog.entries
    assert mistral.card.provider == "mistral"
    assert not mistral.card.supports_prompt_caching
    assert mistral.card.cost_source == "user-catalog"
    # Sparse priors: the given type, the neutral prior otherwise.
    assert gpt4.prior(TaskType.QA, Difficulty.MEDIUM) == 0.88
    assert gpt4.prior(TaskType.QA, Difficulty.HARD) < 0.88
    assert mistral.prior(TaskType.CODE, Difficulty.HARD) == 0.5
    assert catalog.version.startswith("user-")
    # No refresh date: the prices cannot be vouched for.
    assert catalog.is_stale(datetime.now(UTC))


def test_user_catalog_version_follows_content(tmp_path: Path) -> None:
    first = load_catalog(_write(tmp_path, ROUTERBENCH_MODELS)).version
    same = load_catalog(_write(tmp_path, ROUTERBENCH_MODELS)).version
    changed_doc = json.loads(json.dumps(ROUTERBENCH_MODELS))
    changed_doc["models"][1]["input_cost_per_mtok"] = 0.25
    changed = load_catalog(_write(tmp_path, changed_doc)).version
    assert first == same != changed


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("models"), "'models' must be a non-empty list"),
        (lambda d: d["models"][0].pop("context_window"), "context_window"),
        (lambda d: d["models"][0].update(input_cost_per_mtok=-1), "input_cost_per_mtok"),
        (lambda d: d["models"][0].update(capability_by_task_type={"poetry": 0.5}), "poetry"),
        (lambda d: d["models"][0].update(capability_by_task_type={"qa": 1.5}), "qa"),
        (lambda d: d["models"].append(dict(d["models"][0])), "duplicate model ids"),
        (lambda d: d.update(refreshed_at="yesterday"), "refreshed_at"),
    ],
)
def test_malformed_user_catalogs_are_rejected_with_the_place(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    doc = json.loads(json.dumps(ROUTERBENCH_MODELS))
    mutate(doc)
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, doc))


def test_missing_or_broken_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CatalogError, match="not readable JSON"):
        load_catalog(broken)


def test_staleness_window() -> None:
    refreshed = datetime(2026, 1, 1, tzinfo=UTC)
    doc = {**ROUTERBENCH_MODELS, "refreshed_at": refreshed.isoformat(), "stale_after_days": 30}
    catalog = parse_catalog(doc, source="test")
    assert not catalog.is_stale(refreshed + timedelta(days=29))
    assert catalog.is_stale(refreshed + timedelta(days=31))
    never = parse_catalog({**doc, "stale_after_days": None}, source="test")
    assert not never.is_stale(refreshed + timedelta(days=3650))


def test_list_models_filters_and_sorts() -> None:
    catalog = load_catalog()
    now = catalog.refreshed_at or datetime.now(UTC)
    everything = catalog.cards(ModelsQuery(), now)
    assert len(everything) == len(catalog.entries)
    prices = [c.input_cost_per_mtok for c in everything]
    assert prices == sorted(prices)

    google = catalog.cards(ModelsQuery(provider="GOOGLE"), now)
    assert google
    assert {c.provider for c in google} == {"google"}

    cheap = catalog.cards(ModelsQuery(max_cost=1.0), now)
    assert cheap
    assert all(max(c.input_cost_per_mtok, c.output_cost_per_mtok) <= 1.0 for c in cheap)
    assert len(cheap) < len(everything)

    assert len(catalog.cards(ModelsQuery(task_type=TaskType.RAG), now)) == len(everything)


def test_include_stale_false_prefers_fresh_cards() -> None:
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    doc = {
        "refreshed_at": fetched.isoformat(),
        "models": [
            {**ROUTERBENCH_MODELS["models"][0], "cost_fetched_at": fetched.isoformat()},
            {
                **ROUTERBENCH_MODELS["models"][1],
                "cost_fetched_at": (fetched + timedelta(days=25)).isoformat(),
            },
        ],
    }
    catalog = parse_catalog(doc, source="test")
    now = fetched + timedelta(days=40)
    every = catalog.cards(ModelsQuery(include_stale=True), now)
    assert [c.cost_stale for c in every] == [False, True]  # sorted by price: mistral first
    fresh = catalog.cards(ModelsQuery(include_stale=False), now)
    assert [c.model_id for c in fresh] == ["mistralai/mistral-7b-chat"]
    # Nothing fresh at all: "prefer", not "require".
    later = fetched + timedelta(days=400)
    assert len(catalog.cards(ModelsQuery(include_stale=False), later)) == 2
