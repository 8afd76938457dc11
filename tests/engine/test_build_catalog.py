"""scripts/build_catalog.py, run as a real subprocess on a locally built wheel
(the network download path is exercised by `make catalog`)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from minima_grpc.catalog import load_catalog
from minima_grpc.engine.types import Difficulty, TaskType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_catalog.py"

SOURCES = """
[snapshot]
stale_after_days = 30

[priors]
index_center = 40.0
index_scale = 10.0

[priors.task_types]
classification = { base = 2.2, slope = 0.45 }
extraction = { base = 1.9, slope = 0.5 }
summarization = { base = 2.0, slope = 0.4 }
translation = { base = 2.0, slope = 0.4 }
qa = { base = 1.6, slope = 0.55 }
rag = { base = 1.75, slope = 0.5 }
creative = { base = 1.75, slope = 0.35 }
tool_use = { base = 1.25, slope = 0.65 }
code = { base = 1.1, slope = 0.75 }
reasoning = { base = 0.75, slope = 0.8 }
other = { base = 1.4, slope = 0.5 }

[[models]]
model_id = "small"
provider = "acme"
display_name = "Small"
litellm_key = "acme/small"
intelligence_index = 20.0
index_source = "Example Index 20 (example.org, 2026-01-01)"

[[models]]
model_id = "big"
provider = "acme"
display_name = "Big"
litellm_key = "big"
intelligence_index = 60.0
index_source = "estimate: for the test"
adjust = { code = 0.5 }
output_token_multiplier = 2.0
"""


def _wheel(tmp_path: Path, prices: dict[str, Any], version: str = "9.9.9") -> Path:
    wheel = tmp_path / f"litellm-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("litellm/model_prices_and_context_window_backup.json", json.dumps(prices))
    return wheel


PRICES = {
    "acme/small": {
        "input_cost_per_token": 1e-7,
        "output_cost_per_token": 4e-7,
        "max_input_tokens": 128000,
        "max_output_tokens": 8192,
    },
    "big": {
        "input_cost_per_token": 3e-6,
        "output_cost_per_token": 1.5e-5,
        "cache_read_input_token_cost": 3e-7,
        "max_input_tokens": 1000000,
        "supports_prompt_caching": True,
    },
}


def _build(tmp_path: Path, prices: dict[str, Any], sources: str = SOURCES) -> tuple[int, str, Path]:
    src = tmp_path / "sources.toml"
    src.write_text(sources)
    out = tmp_path / "catalog.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--wheel", str(_wheel(tmp_path, prices)),
         "--sources", str(src), "--output", str(out)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, out


def test_build_joins_prices_with_curated_priors(tmp_path: Path) -> None:
    code, output, out = _build(tmp_path, PRICES)
    assert code == 0, output
    assert "2 models" in output
    assert "litellm 9.9.9" in output
    catalog = load_catalog(out)
    small, big = catalog.get("small"), catalog.get("big")
    assert small is not None
    assert big is not None
    assert small.card.input_cost_per_mtok == 0.1
    assert small.card.output_cost_per_mtok == 0.4
    assert not small.card.supports_prompt_caching
    assert small.card.max_output_tokens == 8192
    assert big.card.cache_read_cost_per_mtok == 0.3
    assert big.card.supports_prompt_caching
    assert big.card.cost_source == "litellm-9.9.9"
    assert big.card.capability_source.startswith("estimated")
    assert small.card.capability_source.startswith("aa-index")
    assert big.output_token_multiplier == 2.0
    # index 20 -> z = -2: code = sigmoid(1.1 - 1.5) = 0.4013
    assert small.prior(TaskType.CODE, Difficulty.MEDIUM) == 0.4013
    # index 60 -> z = 2, adjust +0.5: sigmoid(1.1 + 1.5 + 0.5) = 0.9569
    assert big.prior(TaskType.CODE, Difficulty.MEDIUM) == 0.9569
    assert big.prior(TaskType.CODE, Difficulty.EXPERT) < big.prior(TaskType.CODE, Difficulty.HARD)
    doc = json.loads(out.read_text())
    assert doc["models"][0]["capability_evidence"] == ["Example Index 20 (example.org, 2026-01-01)"]


def test_version_changes_with_content_only(tmp_path: Path) -> None:
    def version(name: str, prices: dict[str, Any]) -> str:
        (tmp_path / name).mkdir()
        code, output, out = _build(tmp_path / name, prices)
        assert code == 0, output
        return str(json.loads(out.read_text())["catalog_version"])

    first = version("a", PRICES)
    assert version("b", PRICES) == first
    cheaper = json.loads(json.dumps(PRICES))
    cheaper["big"]["input_cost_per_token"] = 2e-6
    assert version("c", cheaper) != first


def test_a_model_missing_from_litellm_fails_loudly_and_writes_nothing(tmp_path: Path) -> None:
    code, output, out = _build(tmp_path, {"acme/small": PRICES["acme/small"]})
    assert code == 1
    assert "big: LiteLLM has no entry 'big'" in output
    assert not out.exists()
