"""Load a routing dataset in RouterBench's wide layout.

One row per prompt; one score column per model (in [0, 1]) and one
`<model>|total_cost` column with the USD cost of that model's call. The CSV
subset under ../shared/data/routerbench and RouterBench's own pandas pickle share
this layout. Rows without a score and a cost for every selected model are
skipped (and counted), so every baseline is measured on the same prompts.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import importlib.util
import math
import pickle
import random
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Split = Literal["train", "test"]
COST_SUFFIX = "|total_cost"
_META_COLUMNS = ("sample_id", "eval_name", "split", "prompt")
_PICKLE_SUFFIXES = (".pkl", ".pickle")


class DatasetError(ValueError):
    """The dataset file cannot be used; the message says why and where."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One prompt with every model's score and cost, aligned with RoutingDataset.models."""

    sample_id: str
    eval_name: str
    split: Split
    prompt: str
    scores: tuple[float, ...]
    costs: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RoutingDataset:
    source: str
    models: tuple[str, ...]
    samples: tuple[Sample, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)

    def split(self, which: Split) -> tuple[Sample, ...]:
        return tuple(s for s in self.samples if s.split == which)

    def subset(self, *, train: int | None, test: int | None, seed: int = 0) -> RoutingDataset:
        """A seeded sample of each split (file order kept), for quick runs and tests."""
        picked: list[Sample] = []
        for which, limit in (("train", train), ("test", test)):
            rows = [s for s in self.samples if s.split == which]
            if limit is not None and limit < len(rows):
                keep = set(random.Random(f"{seed}:{which}").sample(range(len(rows)), limit))
                rows = [s for i, s in enumerate(rows) if i in keep]
            picked.extend(rows)
        return RoutingDataset(self.source, self.models, tuple(picked), self.skipped)


def scores_matrix(samples: Sequence[Sample]) -> npt.NDArray[np.float64]:
    """Shape (prompts, models)."""
    return np.array([s.scores for s in samples], dtype=np.float64).reshape(len(samples), -1)


def costs_matrix(samples: Sequence[Sample]) -> npt.NDArray[np.float64]:
    """Shape (prompts, models), USD per call."""
    return np.array([s.costs for s in samples], dtype=np.float64).reshape(len(samples), -1)


def load_routing_dataset(
    path: Path, *, models: Sequence[str] = (), test_fraction: float = 0.3
) -> RoutingDataset:
    """Read a CSV or a pandas pickle in the wide layout.

    `models` restricts the run to those columns (default: every model with a
    cost column). Without a `split` column, a stable hash of the sample id puts
    `test_fraction` of the prompts in the test split.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"test fraction must be between 0 and 1, got {test_fraction}")
    columns, rows = _read_pickle(path) if path.suffix in _PICKLE_SUFFIXES else _read_csv(path)
    chosen = _select_models(path, columns, models)
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    for index, row in enumerate(rows):
        sample, reason = _parse_row(path, index, row, chosen, test_fraction)
        if sample is None:
            skipped[reason] += 1
        else:
            samples.append(sample)
    if not samples:
        raise DatasetError(f"{path}: no row has a score and a cost for every selected model")
    return RoutingDataset(path.name, chosen, tuple(samples), dict(skipped))


def _read_csv(path: Path) -> tuple[list[str], list[Mapping[str, Any]]]:
    # Few-shot prompts exceed the csv module's default 128 KiB field limit.
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _read_pickle(path: Path) -> tuple[list[str], list[Mapping[str, Any]]]:
    if importlib.util.find_spec("pandas") is None:  # unpickling a DataFrame imports it
        raise DatasetError(
            f"{path}: reading RouterBench's pickle needs pandas, which is not installed; "
            "install it (pip install pandas) or convert the file to CSV"
        )
    with path.open("rb") as handle:
        # The user names the file; unpickling runs code, so only load files you trust.
        frame = pickle.load(handle)
    if not hasattr(frame, "to_dict") or not hasattr(frame, "columns"):
        raise DatasetError(f"{path}: the pickle does not hold a pandas DataFrame")
    records: list[Mapping[str, Any]] = frame.to_dict("records")
    return [str(c) for c in frame.columns], records


def _select_models(path: Path, columns: Sequence[str], wanted: Sequence[str]) -> tuple[str, ...]:
    available = [c for c in columns if c not in _META_COLUMNS and f"{c}{COST_SUFFIX}" in columns]
    if not available:
        raise DatasetError(
            f"{path}: no model columns (a score column '<model>' with a '<model>{COST_SUFFIX}' "
            "column is expected)"
        )
    unknown = [m for m in wanted if m not in available]
    if unknown:
        raise DatasetError(
            f"{path}: unknown model(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return tuple(wanted) if wanted else tuple(available)


def _parse_row(
    path: Path,
    index: int,
    row: Mapping[str, Any],
    models: Sequence[str],
    test_fraction: float,
) -> tuple[Sample | None, str]:
    where = f"{path}: row {index + 2}"  # +1 for the header, +1 for 1-based lines
    scores = [_number(row.get(m)) for m in models]
    costs = [_number(row.get(f"{m}{COST_SUFFIX}")) for m in models]
    if all(s is None for s in scores):
        return None, "no scores"
    if any(s is None for s in scores) or any(c is None for c in costs):
        return None, "missing a score or cost for some model"
    sample_id = str(row.get("sample_id") or f"row-{index}")
    split = _split_of(row.get("split"), sample_id, test_fraction)
    if split is None:
        return None, f"split {row.get('split')!r}"
    prompt = _prompt_text(row.get("prompt"))
    if not prompt.strip():
        return None, "empty prompt"
    checked_scores = tuple(
        _in_range(where, m, s, 0.0, 1.0) for m, s in zip(models, scores, strict=True)
    )
    checked_costs = tuple(
        _in_range(where, m, c, 0.0, math.inf) for m, c in zip(models, costs, strict=True)
    )
    sample = Sample(
        sample_id=sample_id,
        eval_name=str(row.get("eval_name") or "unknown"),
        split=split,
        prompt=prompt,
        scores=checked_scores,
        costs=checked_costs,
    )
    return sample, ""


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _in_range(where: str, model: str, value: float | None, low: float, high: float) -> float:
    if value is None or not low <= value <= high:
        raise DatasetError(f"{where}: value {value!r} for {model} is outside [{low}, {high}]")
    return value


def _split_of(value: Any, sample_id: str, test_fraction: float) -> Split | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        digest = hashlib.sha256(sample_id.encode()).digest()
        return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"
    text = str(value).strip().lower()
    if text == "train":
        return "train"
    if text == "test":
        return "test"
    return None


def _prompt_text(value: Any) -> str:
    """RouterBench stores prompts as a Python list literal of strings."""
    parts: Iterable[Any]
    if isinstance(value, str):
        try:
            literal = ast.literal_eval(value) if value.lstrip().startswith("[") else value
        except (ValueError, SyntaxError):
            literal = value
        parts = literal if isinstance(literal, list) else [literal]
    elif isinstance(value, list | tuple):
        parts = value
    else:
        parts = [] if value is None else [value]
    return "\n\n".join(str(p) for p in parts)
