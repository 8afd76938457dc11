from __future__ import annotations

import json
from pathlib import Path

import pytest

from minima_grpc.evaluation.history import HistoryError, load_jsonl, unknown_models


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_outcomes_are_grouped_by_task_in_file_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            json.dumps(
                {"task": "sort a list", "model": "a", "outcome": "success", "cost_usd": 0.1}
            ),
            json.dumps({"task": "write a poem", "model": "b", "quality": 0.2}),
            "",
            json.dumps(
                {"task": "sort a list", "model": "b", "outcome": "failure", "input_tokens": 9}
            ),
        ],
    )
    tasks = load_jsonl(path)
    assert [t.text for t in tasks] == ["sort a list", "write a poem"]
    assert [(o.model_id, o.outcome, o.cost_usd) for o in tasks[0].outcomes] == [
        ("a", "success", 0.1),
        ("b", "failure", None),
    ]
    assert tasks[0].outcomes[1].input_tokens == 9
    assert (tasks[1].outcomes[0].outcome, tasks[1].outcomes[0].quality) == ("failure", 0.2)
    assert tasks[0].key == load_jsonl(path)[0].key  # stable across runs
    assert unknown_models(tasks, ["a"]) == ["b"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        ('["a list"]', "line 2: expected a JSON object"),
        ('{"model": "a", "outcome": "success"}', "line 2: 'task' must be a non-empty string"),
        ('{"task": "t", "outcome": "success"}', "line 2: 'model' must be a non-empty string"),
        ('{"task": "t", "model": "a"}', "line 2: give 'outcome'"),
        ('{"task": "t", "model": "a", "outcome": "meh"}', "line 2: 'outcome' must be success"),
        ('{"task": "t", "model": "a", "quality": 1.5}', r"line 2: 'quality' must be a number"),
        ('{"task": "t", "model": "a", "quality": 1, "output_tokens": -1}', "'output_tokens'"),
    ],
)  # fmt: skip
def test_bad_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"task": "t", "model": "a", "outcome": "success"})
    with pytest.raises(HistoryError, match=message):
        load_jsonl(_write(tmp_path, [good, line]))


def test_empty_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no outcomes"):
        load_jsonl(_write(tmp_path, [""]))
    with pytest.raises(HistoryError, match="no such file"):
        load_jsonl(tmp_path / "absent.jsonl")
