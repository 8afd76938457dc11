from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest

from minima_grpc.evaluation.dataset import DatasetError, load_routing_dataset
from tests.evaluation.conftest import WriteCsv, wide_row

COSTS = {"big": "0.01", "small": "0.001"}


def test_reads_scores_costs_and_list_prompts(write_csv: WriteCsv) -> None:
    path = write_csv(
        [
            wide_row("a.1", "train", "['What is 2+2?']", {"big": "1.0", "small": "0.0"}, COSTS),
            wide_row("a.2", "test", "plain text", {"big": "0.0", "small": "1.0"}, COSTS),
        ]
    )
    data = load_routing_dataset(path)
    assert data.models == ("big", "small")
    first, second = data.samples
    assert (first.prompt, first.split, first.scores, first.costs) == (
        "What is 2+2?",
        "train",
        (1.0, 0.0),
        (0.01, 0.001),
    )
    assert (second.prompt, second.split) == ("plain text", "test")


def test_rows_without_every_score_are_skipped_and_counted(write_csv: WriteCsv) -> None:
    path = write_csv(
        [
            wide_row("a.1", "train", "kept", {"big": "1", "small": "0"}, COSTS),
            wide_row("a.2", "train", "no scores", {"big": "", "small": ""}, COSTS),
            wide_row("a.3", "test", "one missing", {"big": "1", "small": ""}, COSTS),
        ]
    )
    data = load_routing_dataset(path)
    assert [s.sample_id for s in data.samples] == ["a.1"]
    assert data.skipped == {"no scores": 1, "missing a score or cost for some model": 1}


def test_model_selection_keeps_rows_complete_for_those_models(write_csv: WriteCsv) -> None:
    path = write_csv([wide_row("a.1", "train", "p", {"big": "1", "small": ""}, COSTS)])
    data = load_routing_dataset(path, models=["big"])
    assert data.models == ("big",)
    assert data.samples[0].scores == (1.0,)
    with pytest.raises(DatasetError, match=r"unknown model\(s\) huge; available: big, small"):
        load_routing_dataset(path, models=["huge"])


def test_out_of_range_score_names_the_row(write_csv: WriteCsv) -> None:
    path = write_csv(
        [
            wide_row("a.1", "train", "p", {"big": "1", "small": "0"}, COSTS),
            wide_row("a.2", "train", "p", {"big": "2", "small": "0"}, COSTS),
        ]
    )
    with pytest.raises(DatasetError, match=r"row 3: value 2.0 for big is outside \[0.0, 1.0\]"):
        load_routing_dataset(path)


def test_without_split_column_the_split_is_a_stable_hash(write_csv: WriteCsv) -> None:
    rows = [wide_row(f"id{i}", "", f"p{i}", {"big": "1", "small": "0"}, COSTS) for i in range(400)]
    path = write_csv([{k: v for k, v in row.items() if k != "split"} for row in rows])
    first = load_routing_dataset(path, test_fraction=0.25)
    again = load_routing_dataset(path, test_fraction=0.25)
    assert [s.split for s in first.samples] == [s.split for s in again.samples]
    assert 60 < len(first.split("test")) < 140


def test_subset_is_seeded_and_per_split(write_csv: WriteCsv) -> None:
    rows = [
        wide_row(f"id{i}", "train" if i % 3 else "test", f"p{i}", {"big": "1", "small": "0"}, COSTS)
        for i in range(60)
    ]
    data = load_routing_dataset(write_csv(rows))
    small = data.subset(train=5, test=3)
    assert (len(small.split("train")), len(small.split("test"))) == (5, 3)
    assert small.samples == data.subset(train=5, test=3).samples


def test_missing_file_and_headerless_layout_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_routing_dataset(tmp_path / "absent.csv")
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no model columns"):
        load_routing_dataset(odd)


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed")
def test_pickle_without_pandas_says_so(tmp_path: Path) -> None:
    path = tmp_path / "routerbench_0shot.pkl"
    path.write_bytes(pickle.dumps({"not": "read"}))
    with pytest.raises(DatasetError, match=r"needs pandas.*convert the file to CSV"):
        load_routing_dataset(path)


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")
def test_pickle_dataframe_reads_like_the_csv(write_csv: WriteCsv, tmp_path: Path) -> None:
    import pandas  # type: ignore[import-untyped, unused-ignore]

    rows = [wide_row("a.1", "train", "['q']", {"big": "1", "small": "0"}, COSTS)]
    frame = pandas.read_csv(write_csv(rows))
    path = tmp_path / "routerbench.pkl"
    frame.to_pickle(path)
    assert load_routing_dataset(path).samples == load_routing_dataset(write_csv(rows)).samples


def test_routerbench_subset_counts(routerbench_csv: Path) -> None:
    data = load_routing_dataset(routerbench_csv)
    assert len(data.models) == 11
    assert (len(data.split("train")), len(data.split("test"))) == (2205, 945)
    assert sum(data.skipped.values()) == 28
    assert all("[" not in s.prompt[:1] for s in data.samples)
