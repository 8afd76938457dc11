"""`minima seed` against a real `minima serve` subprocess: idempotent re-runs, and
a bad file changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from minima_grpc.cli import main as run_command
from minima_grpc.evaluation.catalog_file import build_catalog, write_catalog
from minima_grpc.evaluation.client import Hints, MinimaApi
from minima_grpc.evaluation.dataset import load_routing_dataset
from minima_grpc.evaluation.local_server import LocalServer, local_server
from tests.evaluation.conftest import WriteCsv, wide_row


def _history(path: Path, models: tuple[str, ...]) -> Path:
    lines = [
        {"task": f"Write a Python function that reverses list number {i}.", "model": model,
         "outcome": "success" if (i + j) % 2 else "failure", "cost_usd": 0.001 * (j + 1)}
        for i in range(3)
        for j, model in enumerate(models)
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


async def _seed(server: LocalServer, *extra: str) -> int:
    argv = ["seed", "--target", server.target, "--api-key", server.api_key, "--quiet", *extra]
    # The command runs its own event loop, so it runs in a thread here.
    return await asyncio.to_thread(run_command, argv)


async def test_seed_twice_writes_once_and_bad_input_writes_nothing(
    write_csv: WriteCsv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    costs = {"small": "0.0001", "large": "0.001"}
    data = load_routing_dataset(
        write_csv([wide_row("t", "train", "q", {"small": "1", "large": "1"}, costs)])
    )
    catalog = write_catalog(
        build_catalog(data, data.split("train"), "neutral"), tmp_path / "c.json"
    )
    history = _history(tmp_path / "history.jsonl", data.models)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        history.read_text(encoding="utf-8")
        + json.dumps({"task": "x", "model": "no-such-model", "outcome": "success"})
        + "\n",
        encoding="utf-8",
    )
    async with local_server(catalog, tmp_path / "data") as server:
        assert await _seed(server, "--jsonl", str(bad), "--namespace", "team") == 1
        assert "no-such-model" in capsys.readouterr().err

        assert await _seed(server, "--jsonl", str(history), "--namespace", "team") == 0
        assert "6 outcomes (6 new, 0 already there, 0 rejected)" in capsys.readouterr().out

        assert await _seed(server, "--jsonl", str(history), "--namespace", "team") == 0
        assert "6 outcomes (0 new, 6 already there, 0 rejected)" in capsys.readouterr().out

        # Another namespace is another scope: the same history is new there.
        assert await _seed(server, "--jsonl", str(history), "--namespace", "other") == 0
        assert "(6 new," in capsys.readouterr().out

        # What seeding is for: the seeded namespace routes from memory, others stay cold.
        task = json.loads(history.read_text(encoding="utf-8").splitlines()[0])["task"]
        async with MinimaApi(server.target, server.api_key) as api:
            assert await _routes_from_memory(api, task, "team")
            elsewhere = await api.recommend(task, 5.0, "elsewhere", Hints(), max_candidates=2)
            assert "cold_start" in elsewhere.warnings


async def _routes_from_memory(api: MinimaApi, task: str, namespace: str) -> bool:
    """Seeded outcomes become searchable once indexed (asynchronously): allow 10 s."""
    for _ in range(50):
        pick = await api.recommend(task, 5.0, namespace, Hints(), max_candidates=2)
        if pick.decision_basis == "memory":
            return True
        await asyncio.sleep(0.2)
    return False
