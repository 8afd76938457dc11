"""The composition root: Config (+ env) -> a working engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minima_grpc.catalog import CatalogError
from minima_grpc.config import Config
from minima_grpc.engine.engine import MinimaEngine
from minima_grpc.engine.reasoner import ReasonerConfigError
from minima_grpc.engine.types import ModelsQuery, RecommendRequest, TaskInput
from minima_grpc.wiring import build_engine

from .conftest import PACKAGED, SCOPE
from .fake_llm import FakeLLM


async def test_default_wiring_serves_the_packaged_catalog(tmp_path: Path) -> None:
    engine = build_engine(Config(data_dir=tmp_path, recall_timeout_ms=300), env={})
    assert isinstance(engine, MinimaEngine)
    assert engine.settings.recall_timeout_ms == 300
    await engine.start()
    try:
        models = await engine.list_models(ModelsQuery())
        assert models.catalog_version == PACKAGED.version
        r = await engine.recommend(SCOPE, RecommendRequest(TaskInput("Write a haiku about tea.")))
        assert "reasoner_disabled" in r.warnings
    finally:
        await engine.close()


async def test_a_user_catalog_and_a_reasoner_from_env(tmp_path: Path) -> None:
    catalog = tmp_path / "mine.json"
    catalog.write_text(
        json.dumps(
            {
                "models": [
                    {"model_id": "only-one", "provider": "me", "input_cost_per_mtok": 1,
                     "output_cost_per_mtok": 2, "context_window": 8000},
                ]
            }
        )
    )  # fmt: skip
    with FakeLLM(reply=lambda _: '{"success": {"only-one": 0.1}}') as llm:
        env = {
            "MINIMA_REASONER": "openai:gpt-4o-mini",
            "OPENAI_API_KEY": "sk-test",
            "MINIMA_REASONER_BASE_URL": llm.base_url("openai"),
        }
        engine = build_engine(Config(data_dir=tmp_path / "d", catalog_path=catalog), env=env)
        try:
            r = await engine.recommend(SCOPE, RecommendRequest(TaskInput("Write a haiku.")))
        finally:
            await engine.close()
    assert [m.model_id for m in r.ranked] == ["only-one"]
    assert "reasoner_consulted" in r.warnings
    assert len(llm.requests) == 1


def test_misconfiguration_fails_before_anything_opens(tmp_path: Path) -> None:
    data = tmp_path / "never"
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    with pytest.raises(CatalogError):
        build_engine(Config(data_dir=data, catalog_path=broken), env={})
    with pytest.raises(ReasonerConfigError, match="ANTHROPIC_API_KEY"):
        build_engine(Config(data_dir=data), env={"MINIMA_REASONER": "anthropic:claude-haiku-4-5"})
    assert not data.exists()
