"""A small slice of the full replay, end to end: `minima eval` starts its own
`minima serve` (a real subprocess on loopback, embedded memory), learns 40 train
prompts with feedback and measures 20 test prompts at two slider settings, along
two learning paths."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from minima_grpc.catalog import load_catalog
from minima_grpc.cli import main as run_command
from minima_grpc.evaluation.catalog_file import build_catalog, write_catalog
from minima_grpc.evaluation.dataset import load_routing_dataset
from minima_grpc.evaluation.local_server import local_server
from tests.evaluation.conftest import WriteCsv, wide_row


def test_replay_slice(
    routerbench_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = run_command(
        ["eval", "--dataset", str(routerbench_csv), "--train", "40", "--test", "20",
         "--sliders", "0,10", "--paths", "2", "--out", str(out), "--quiet"]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err

    report = json.loads((out / "routerbench_0shot_subset.json").read_text(encoding="utf-8"))
    assert (report["dataset"]["train_prompts"], report["dataset"]["test_prompts"]) == (40, 20)
    # Each learning path learned all 40 train prompts in its own namespace.
    assert [path["mode"] for path in report["learning"]] == ["bandit", "bandit"]
    for path in report["learning"]:
        assert path["engine"]["feedback_accepted"] == 40
        assert path["engine"]["feedback_rejected"] == 0
    assert len(report["curve"]["aiq_router_per_path"]) == 2

    cheap, premium = report["router"]
    assert (cheap["slider"], premium["slider"]) == (0, 10)
    for point in (cheap, premium):
        assert sum(point["model_shares"].values()) == pytest.approx(1.0)
        assert set(point["model_shares"]) <= set(report["dataset"]["models"])
    # What a user notices first: asking for quality never makes routing cheaper.
    assert cheap["cost_per_1k"] <= premium["cost_per_1k"]
    assert 0.0 <= report["curve"]["aiq_router"] <= 1.0

    assert "minima slider 0" in printed.out
    assert (out / "routerbench_0shot_subset.png").read_bytes()[:4] == b"\x89PNG"
    catalog = load_catalog(out / "routerbench_0shot_subset.catalog.json")
    assert len(catalog.entries) == len(report["dataset"]["models"])


def test_missing_dataset_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_command(["eval", "--dataset", str(tmp_path / "absent.csv"), "--out", str(tmp_path)])
    assert code == 2
    assert "absent.csv: no such file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


async def test_a_server_without_the_datasets_models_is_refused(
    routerbench_csv: Path, write_csv: WriteCsv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = load_routing_dataset(
        write_csv([wide_row("t", "train", "q", {"a-model": "1"}, {"a-model": "0.001"})])
    )
    catalog = write_catalog(
        build_catalog(other, other.split("train"), "neutral"), tmp_path / "c.json"
    )
    async with local_server(catalog, tmp_path / "data") as server:
        argv = ["eval", "--dataset", str(routerbench_csv), "--target", server.target,
                "--api-key", server.api_key, "--train", "5", "--test", "5", "--quiet",
                "--out", str(tmp_path / "out")]  # fmt: skip
        code = await asyncio.to_thread(run_command, argv)
    assert code == 1
    err = capsys.readouterr().err
    assert "the server's catalog lacks " in err
    assert "gpt-4-1106-preview" in err
    assert not (tmp_path / "out" / "routerbench_0shot_subset.json").exists()
