"""The Mubit side of autocapture: a thin layer over `mubit.learn` (mubit-sdk).

`mubit.learn` accepts a `lane=` argument but (as of mubit-sdk 1.0.4) never
sends it; every learn request does carry the run id. So the lane is pinned by
making the run id the lane itself, `minima:<namespace>`, the run Minima
recalls from and reflects on: captured traces, lesson look-ups and outcomes
all land there. `lane=` is passed as well, for SDKs that honour it.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

AGENT_ID = "minima-autocapture"
INSTALL_HINT = 'autocapture with Mubit needs mubit-sdk: pip install "minima-client[mubit]"'


def lane_for(namespace: str | None) -> str:
    """Minima's memory lane for a namespace."""
    return f"minima:{namespace or 'default'}"


def _learn() -> Any:
    try:
        return importlib.import_module("mubit.learn")
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc


class MubitLearn:
    """An initialised `mubit.learn` session pinned to one Minima lane."""

    def __init__(
        self,
        *,
        api_key: str | None,
        endpoint: str | None,
        namespace: str | None,
        user_id: str | None,
        patch: bool,
        inject_lessons: bool,
        options: dict[str, Any],
    ) -> None:
        self._learn = _learn()
        self.lane = lane_for(namespace)
        with warnings.catch_warnings():
            # learn.init is the documented entry point autocapture wraps; its
            # deprecation in favour of mubit.init is the SDK's concern, not the caller's.
            warnings.simplefilter("ignore", DeprecationWarning)
            self._learn.init(
                api_key=api_key,
                endpoint=endpoint,
                agent_id=AGENT_ID,
                user_id=user_id or "",
                run_id=self.lane,
                lane=self.lane,
                inject_lessons=inject_lessons,
                patch_globals=patch,
                **options,
            )

    def wrap(self, client: Any) -> Any:
        return self._learn.wrap(client)

    def capture(self, messages: list[dict[str, Any]], text: str, model: str) -> None:
        self._learn.capture(messages, text, model=model)

    def feedback(self, score: float | None, good: bool | None, verified: bool) -> None:
        self._learn.feedback(score, good=good, verified_in_production=verified)

    def close(self) -> None:
        self._learn.uninstrument()
