"""Fixtures for the evaluation tests: small datasets in RouterBench's wide layout."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

SHARED_DATASET = (
    Path(__file__).resolve().parents[3] / "shared/data/routerbench/routerbench_0shot_subset.csv"
)

Row = dict[str, str]
WriteCsv = Callable[[Sequence[Row]], Path]


@pytest.fixture
def routerbench_csv() -> Path:
    if not SHARED_DATASET.is_file():
        pytest.skip(f"RouterBench subset not found at {SHARED_DATASET} (evaluation data absent)")
    return SHARED_DATASET


def wide_row(
    sample_id: str,
    split: str,
    prompt: str,
    scores: dict[str, str],
    costs: dict[str, str],
    eval_name: str = "arc-challenge",
) -> Row:
    row: Row = {"sample_id": sample_id, "eval_name": eval_name, "split": split, "prompt": prompt}
    row.update(scores)
    row.update({f"{m}|total_cost": c for m, c in costs.items()})
    return row


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    def write(rows: Sequence[Row]) -> Path:
        path = tmp_path / f"data{len(list(tmp_path.glob('*.csv')))}.csv"
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write
