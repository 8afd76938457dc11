"""Domain values <-> SQLite columns: records, texts, times, ids, digests."""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

from minima_grpc.engine.types import Difficulty, Outcome, TaskType
from minima_grpc.memory.embedded.errors import InvalidRecordError
from minima_grpc.memory.protocol import Lesson, OutcomeRecord

MAX_TEXT_CHARS = 65_536
_COMPRESS_FROM = 256
_RAW, _ZLIB = b"\x00", b"\x01"
LESSON_TYPES = ("success", "failure")

# Values of `outcomes` recall reports besides the model, kept in memory
# (labels.STORED, in this order): what the engine weighs a neighbour by
# (not the record: no text, no enums).
LABEL_COLUMNS = (
    "quality, recorded_us, cost_usd, output_tokens, substr(source, 1, 4) = 'seed', confidence"
)


# -- time ---------------------------------------------------------------------


def to_micros(moment: datetime) -> int:
    """Unix microseconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# -- ids ----------------------------------------------------------------------


def entry_id(file_id: str, seq: int) -> str:
    """Outcome ids carry the file's random id, so an id from another file never matches."""
    return f"{file_id}-{seq}"


def lesson_id(file_id: str, seq: int) -> str:
    return f"{file_id}-l{seq}"


def parse_entry_id(file_id: str, text: str) -> int | None:
    prefix, _, seq = text.partition("-")
    if prefix != file_id or not seq.isdigit():
        return None
    return int(seq)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:16]


def text_digest(text: str, tags: Sequence[str]) -> bytes:
    """Identity of an embedded text: tags are part of its vector."""
    return _digest("text", text, *sorted(set(tags)))


def record_digest(record: OutcomeRecord) -> bytes:
    """Identity of an outcome: its idempotency key, else its content."""
    if record.idempotency_key:
        return _digest("key", record.idempotency_key)
    return _digest(
        "content",
        record.model_id,
        record.task_text,
        record.outcome.value,
        str(to_micros(record.recorded_at)),
    )


# -- text bodies ----------------------------------------------------------------


def pack_text(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) >= _COMPRESS_FROM:
        packed = zlib.compress(raw, 6)
        if len(packed) < 0.9 * len(raw):
            return _ZLIB + packed
    return _RAW + raw


def unpack_text(body: bytes) -> str:
    data = body[1:]
    if body[:1] == _ZLIB:
        data = zlib.decompress(data)
    return data.decode("utf-8")


# -- validation -----------------------------------------------------------------


def _finite(value: float, low: float, high: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


def check_record(record: OutcomeRecord) -> None:
    """Raise InvalidRecordError naming the first broken field."""
    problem = _record_problem(record)
    if problem:
        raise InvalidRecordError(f"invalid outcome record: {problem}")


def _record_problem(r: OutcomeRecord) -> str | None:
    if not isinstance(r.task_text, str) or not r.task_text.strip():
        return "task_text is empty"
    if len(r.task_text) > MAX_TEXT_CHARS:
        return f"task_text is longer than {MAX_TEXT_CHARS} characters"
    if not isinstance(r.model_id, str) or not r.model_id.strip():
        return "model_id is empty"
    enums = ((r.task_type, TaskType), (r.difficulty, Difficulty), (r.outcome, Outcome))
    for value, kind in enums:
        if not isinstance(value, kind):
            return f"{kind.__name__} expected, got {value!r}"
    if not _finite(r.quality, 0.0, 1.0):
        return f"quality must be in [0, 1], got {r.quality!r}"
    if not isinstance(r.recorded_at, datetime):
        return "recorded_at must be a datetime"
    for name in ("input_tokens", "output_tokens", "latency_ms"):
        value = getattr(r, name)
        if value is not None and (not isinstance(value, int) or value < 0):
            return f"{name} must be a non-negative integer, got {value!r}"
    if r.cost_usd is not None and not _finite(r.cost_usd, 0.0, math.inf):
        return f"cost_usd must be a finite number >= 0, got {r.cost_usd!r}"
    if not all(isinstance(t, str) for t in r.tags):
        return "tags must be strings"
    return None


def check_lesson(lesson: Lesson) -> None:
    if not lesson.content.strip():
        raise InvalidRecordError("invalid lesson: content is empty")
    if lesson.lesson_type not in LESSON_TYPES:
        raise InvalidRecordError(f"invalid lesson: lesson_type must be one of {LESSON_TYPES}")
    if not lesson.idempotency_key:
        raise InvalidRecordError("invalid lesson: idempotency_key is empty")
    if not lesson.model_id.strip():
        raise InvalidRecordError("invalid lesson: model_id is empty")
    if not _finite(lesson.confidence, 0.0, 1.0):
        raise InvalidRecordError("invalid lesson: confidence must be in [0, 1]")


# -- rows -----------------------------------------------------------------------


def outcome_row(
    record: OutcomeRecord, lane_id: int, text_id: int, user_id: str | None
) -> tuple[object, ...]:
    """Values for INSERT_OUTCOME, in its column order."""
    return (
        lane_id,
        text_id,
        record_digest(record),
        user_id,
        record.model_id,
        record.task_type.value,
        record.difficulty.value,
        record.outcome.value,
        float(record.quality),
        to_micros(record.recorded_at),
        record.input_tokens,
        record.output_tokens,
        record.cost_usd,
        record.latency_ms,
        int(record.verified_in_production),
        record.source,
        record.recommendation_id,
        json.dumps(list(record.tags)) if record.tags else None,
        record.idempotency_key,
    )


INSERT_OUTCOME = (
    "INSERT INTO outcomes (lane_id, text_id, dedup, user_id, model_id, task_type, difficulty, "
    "outcome, quality, recorded_us, input_tokens, output_tokens, cost_usd, latency_ms, "
    "verified, source, recommendation_id, tags, idempotency_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    f"ON CONFLICT (lane_id, dedup) DO NOTHING RETURNING seq, {LABEL_COLUMNS}"
)
