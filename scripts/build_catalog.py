"""Rebuild the packaged catalog snapshot (`make catalog`).

Joins the hand-curated model list and capability evidence
(minima_grpc/catalog/sources.toml) with prices, context windows and caching
support from LiteLLM's model_prices_and_context_window JSON (MIT), read from
the `litellm` wheel that `pip download litellm --no-deps` fetches from PyPI.

    python scripts/build_catalog.py                      # fetch the latest wheel
    python scripts/build_catalog.py --wheel litellm.whl  # use a wheel on disk
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minima_grpc.catalog.loader import content_hash, parse_catalog
from minima_grpc.catalog.priors import by_difficulty, sigmoid
from minima_grpc.engine.types import TaskType

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = ROOT / "minima_grpc" / "catalog" / "sources.toml"
DEFAULT_OUTPUT = ROOT / "minima_grpc" / "catalog" / "data" / "catalog.json"
PRICES_MEMBER = "litellm/model_prices_and_context_window_backup.json"
# LiteLLM provider names that differ from the ones callers use.
PROVIDER_NAMES = {"gemini": "google", "dashscope": "alibaba"}


class BuildError(RuntimeError):
    """The inputs cannot produce a valid catalog; the message says why."""


def download_litellm_wheel(dest: Path) -> Path:
    """Fetch the newest litellm wheel with pip; return its path."""
    cmd = [sys.executable, "-m", "pip", "download", "litellm", "--no-deps", "--dest", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"pip download litellm failed:\n{done.stderr.strip()}")
    wheels = sorted(dest.glob("litellm-*.whl"))
    if not wheels:
        raise BuildError(f"pip download produced no litellm wheel in {dest}")
    return wheels[-1]


def read_prices(wheel: Path) -> tuple[dict[str, Any], str]:
    """The price table inside the wheel and the wheel's litellm version."""
    match = re.match(r"litellm-([^-]+)-", wheel.name)
    if match is None:
        raise BuildError(f"{wheel.name} is not named like a litellm wheel")
    try:
        with zipfile.ZipFile(wheel) as archive:
            table = json.loads(archive.read(PRICES_MEMBER))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise BuildError(f"cannot read {PRICES_MEMBER} from {wheel}: {exc}") from exc
    if not isinstance(table, dict):
        raise BuildError(f"{PRICES_MEMBER} in {wheel} is not a JSON object")
    return table, match.group(1)


def build_snapshot(
    sources: Mapping[str, Any], prices: Mapping[str, Any], litellm_version: str, now: datetime
) -> dict[str, Any]:
    """The catalog JSON document (format: minima_grpc/catalog/loader.py)."""
    priors_cfg = sources["priors"]
    fetched_at = now.astimezone(UTC).replace(microsecond=0).isoformat()
    models = [
        _model(m, prices, priors_cfg, f"litellm-{litellm_version}", fetched_at)
        for m in sources["models"]
    ]
    # Timestamps stay out of the hash: the version moves when content does.
    content = [{k: v for k, v in m.items() if k != "cost_fetched_at"} for m in models]
    version = f"{now.date().isoformat()}.{content_hash(content)[:10]}"
    return {
        "catalog_version": version,
        "refreshed_at": fetched_at,
        "stale_after_days": sources["snapshot"]["stale_after_days"],
        "models": models,
    }


def _model(
    spec: Mapping[str, Any],
    prices: Mapping[str, Any],
    priors_cfg: Mapping[str, Any],
    cost_source: str,
    fetched_at: str,
) -> dict[str, Any]:
    model_id = spec["model_id"]
    row = prices.get(spec["litellm_key"])
    if not isinstance(row, dict):
        raise BuildError(f"{model_id}: LiteLLM has no entry {spec['litellm_key']!r}")
    input_price = _per_mtok(row.get("input_cost_per_token"), f"{model_id} input price")
    output_price = _per_mtok(row.get("output_cost_per_token"), f"{model_id} output price")
    cache_raw = row.get("cache_read_input_token_cost")
    cache_price = None if cache_raw is None else _per_mtok(cache_raw, f"{model_id} cache price")
    context = row.get("max_input_tokens") or row.get("max_tokens")
    if not isinstance(context, int) or context <= 0:
        raise BuildError(f"{model_id}: LiteLLM gives no context window")
    index = float(spec["intelligence_index"])
    by_type = _priors_by_type(index, spec.get("adjust", {}), priors_cfg, model_id)
    estimated = spec["index_source"].startswith("estimate")
    return {
        "model_id": model_id,
        "provider": spec["provider"],
        "display_name": spec["display_name"],
        "input_cost_per_mtok": input_price,
        "output_cost_per_mtok": output_price,
        "cache_read_cost_per_mtok": cache_price,
        "supports_prompt_caching": bool(row.get("supports_prompt_caching"))
        or cache_price is not None,
        "context_window": context,
        "max_output_tokens": row.get("max_output_tokens"),
        "capability_priors": {"intelligence_index": round(index / 100.0, 4)},
        "capability_by_task_type": {t: p for t, p in by_type.items()},
        "capability_by_task_difficulty": {
            t: {d.value: q for d, q in by_difficulty(p).items()} for t, p in by_type.items()
        },
        "output_token_multiplier": float(spec.get("output_token_multiplier", 1.0)),
        "cost_source": cost_source,
        "cost_fetched_at": fetched_at,
        "capability_source": (
            "estimated-index+minima-priors-v1" if estimated else "aa-index-v4+minima-priors-v1"
        ),
        "capability_evidence": [spec["index_source"], *spec.get("evidence", [])],
    }


def _priors_by_type(
    index: float, adjust: Mapping[str, float], cfg: Mapping[str, Any], model_id: str
) -> dict[str, float]:
    z = (index - cfg["index_center"]) / cfg["index_scale"]
    types: Mapping[str, Mapping[str, float]] = cfg["task_types"]
    missing = sorted({t.value for t in TaskType} - set(types))
    unknown = sorted(set(adjust) - set(types))
    if missing or unknown:
        raise BuildError(f"{model_id}: task types missing {missing} or unknown {unknown}")
    return {
        t: round(sigmoid(p["base"] + p["slope"] * z + adjust.get(t, 0.0)), 4)
        for t, p in sorted(types.items())
    }


def _per_mtok(per_token: Any, what: str) -> float:
    if isinstance(per_token, bool) or not isinstance(per_token, int | float):
        raise BuildError(f"{what}: LiteLLM gives no price")
    if not math.isfinite(per_token) or per_token < 0:
        raise BuildError(f"{what}: LiteLLM gives an invalid price {per_token!r}")
    return round(per_token * 1e6, 6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a litellm wheel on disk (default: download)")
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        sources = tomllib.loads(args.sources.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            wheel = args.wheel or download_litellm_wheel(Path(tmp))
            prices, version = read_prices(wheel)
        snapshot = build_snapshot(sources, prices, version, datetime.now(UTC))
        parse_catalog(snapshot, source=str(args.output))  # refuse to write what cannot load
    except (BuildError, OSError, KeyError, tomllib.TOMLDecodeError, ValueError) as exc:
        print(f"build_catalog: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(snapshot, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {args.output} ({len(snapshot['models'])} models, "
        f"version {snapshot['catalog_version']}, prices from litellm {version})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
