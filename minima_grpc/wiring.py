"""Composition root: turns a Config into the RoutingEngine the server serves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from minima_grpc.catalog import load_catalog
from minima_grpc.config import Config
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.engine.engine import MinimaEngine
from minima_grpc.engine.reasoner import ReasonerConfig, build_reasoner
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.memory.factory import open_memory


def build_engine(config: Config, env: Mapping[str, str] | None = None) -> RoutingEngine:
    """Catalog (user file or packaged snapshot), memory backend and recommendation
    store, engine settings, and the optional reasoner (MINIMA_REASONER*).

    Raises CatalogError / ReasonerConfigError (ValueErrors with a clear message)
    before anything is opened when the catalog or the reasoner is misconfigured.
    """
    catalog = load_catalog(config.catalog_path)
    reasoner_config = ReasonerConfig.from_env(os.environ if env is None else env)
    reasoner = build_reasoner(reasoner_config) if reasoner_config is not None else None
    settings = replace(
        EngineSettings(),
        recall_timeout_ms=config.recall_timeout_ms,
        exploration=config.exploration,
    )
    if reasoner_config is not None:
        settings = replace(settings, reasoner_timeout_ms=reasoner_config.timeout_ms)
    memory, store = open_memory(config)
    return MinimaEngine(catalog, memory, store, settings=settings, reasoner=reasoner)
