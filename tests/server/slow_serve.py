"""`python -m tests.server.slow_serve`: the production `serve()` with a slow test engine.

Used by the graceful-shutdown test: Recommend logs "recommend in flight" when
it starts and then takes $SLOW_SECONDS, so a call is provably in flight when
the test sends SIGTERM. Everything else (config from env, interceptors, health,
signals, shutdown order) is the real thing.
"""

from __future__ import annotations

import asyncio
import logging
import os

from minima_grpc.cli.logs import configure_logging
from minima_grpc.config import Config, load_config
from minima_grpc.engine import types as d
from minima_grpc.server import serve
from tests.server.fakes import RecordingEngine

_log = logging.getLogger("tests.slow_engine")


class SlowEngine(RecordingEngine):
    async def recommend(self, scope: d.Scope, request: d.RecommendRequest) -> d.RecommendResponse:
        _log.warning("recommend in flight")
        await asyncio.sleep(float(os.environ["SLOW_SECONDS"]))
        return await super().recommend(scope, request)


def _slow_engine(config: Config) -> SlowEngine:
    return SlowEngine()


if __name__ == "__main__":
    settings = load_config()
    configure_logging(settings.log_level)
    asyncio.run(serve(settings, engine_factory=_slow_engine))
