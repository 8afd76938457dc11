"""The fake Mubit's data model and route semantics, free of HTTP.

One `Instance` per Mubit org (the key's `mbt_<org>_...` segment): data of one
instance is unreachable from another. Semantics follow the Mubit proto
comments and `mubit-wire-protocol.md` §5.2: ingest jobs finish at once,
`(run_id, user_id, upsert_key)` upserts in place keeping the record id,
repeated idempotency keys apply nothing twice, recall scores lexically
(cosine over word counts) instead of with embeddings.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Json = dict[str, Any]

_WORD = re.compile(r"\w+")
INITIAL_CONFIDENCE = 0.5
CONFIDENCE_STEP = 0.1


class BadRequestError(Exception):
    """A request the real server would refuse with HTTP 400."""


class NotFoundError(Exception):
    """A reference to something that does not exist (HTTP 404)."""


@lru_cache(maxsize=65_536)
def _vector(text: str) -> tuple[Counter[str], float]:
    counts = Counter(w.lower() for w in _WORD.findall(text))
    return counts, math.sqrt(sum(n * n for n in counts.values()))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of word-count vectors, in [0, 1]."""
    (left, left_norm), (right, right_norm) = _vector(a), _vector(b)
    if not left_norm or not right_norm:
        return 0.0
    if len(right) < len(left):
        left, right = right, left
    return sum(n * right[w] for w, n in left.items()) / (left_norm * right_norm)


@dataclass
class Entry:
    record_id: str
    node_id: int
    run_id: str
    user_id: str
    entry_type: str
    text: str
    metadata_json: str
    source: str
    lane: str
    occurrence_time: int
    created_at: float
    env_tags: list[str] = field(default_factory=list)
    lesson_type: str = ""
    knowledge_confidence: float = INITIAL_CONFIDENCE
    reinforcement_count: int = 0

    @property
    def metadata(self) -> Json:
        try:
            value = json.loads(self.metadata_json) if self.metadata_json else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def evidence(self, score: float) -> Json:
        """The entry as a `QueryEvidence`."""
        return {
            "id": self.record_id,
            "content": self.text,
            "source": self.source,
            "score": round(score, 6),
            "run_id": self.run_id,
            "entry_type": self.entry_type,
            "metadata_json": self.metadata_json,
            "retrieval_mode": "semantic",
            "reference_id": self.record_id,
            "referenceable": True,
            "origin_entry_type": self.entry_type,
            "is_stale": False,
            "superseded_by": "",
            "knowledge_confidence": round(self.knowledge_confidence, 6),
        }


def _text(body: Json, name: str, *, required: bool = False) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequestError(f"{name} must be a string")
    if required and not value.strip():
        raise BadRequestError(f"{name} is required")
    return value


def _int(body: Json, name: str, default: int) -> int:
    value = body.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{name} must be an integer") from None


def _str_list(body: Json, name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequestError(f"{name} must be a list of strings")
    return value


def _metadata_json(raw: object) -> str:
    if raw in (None, ""):
        return ""
    if not isinstance(raw, str):
        raise BadRequestError("metadata_json must be a JSON string")
    try:
        json.loads(raw)
    except ValueError:
        raise BadRequestError("metadata_json is not valid JSON") from None
    return raw


def _matches(metadata: Json, clause: Json) -> bool:
    for key, expected in clause.items():
        actual = metadata.get(key)
        if isinstance(expected, dict) and "$in" in expected:
            if actual not in expected["$in"]:
                return False
        elif actual != expected:
            return False
    return True


class Instance:
    """Everything one Mubit org stores."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._by_upsert: dict[tuple[str, str, str], str] = {}
        self._by_item: dict[tuple[str, str], str] = {}
        self._jobs: dict[str, Json] = {}
        self._ingest_keys: dict[tuple[str, str], str] = {}
        self._outcome_keys: dict[str, Json] = {}
        self._step_keys: dict[str, str] = {}
        self._strategies: dict[str, list[Json]] = {}
        self.step_outcomes: list[Json] = []
        self._next_node = 100

    # -- writes ---------------------------------------------------------------

    def _new_entry(self, run_id: str, item: Json, entry_type: str) -> Entry:
        self._next_node += 1
        return Entry(
            record_id=str(uuid.uuid4()),
            node_id=self._next_node,
            run_id=run_id,
            user_id=_text(item, "user_id"),
            entry_type=entry_type,
            text=_text(item, "text", required=True),
            metadata_json=_metadata_json(item.get("metadata_json")),
            source=_text(item, "source") or "agent",
            lane=_text(item, "lane"),
            occurrence_time=_int(item, "occurrence_time", 0),
            created_at=time.time(),
            env_tags=_str_list(item, "env_tags"),
            lesson_type=_text(item, "lesson_type"),
        )

    def _store_item(self, run_id: str, item: Json) -> Entry:
        """Insert one ingest item, or update the entry its upsert key names."""
        if not isinstance(item, dict):
            raise BadRequestError("items must be objects")
        fresh = self._new_entry(run_id, item, _text(item, "intent") or "fact")
        upsert_key = _text(item, "upsert_key")
        slot = (run_id, fresh.user_id, upsert_key)
        existing = self.entries.get(self._by_upsert.get(slot, "")) if upsert_key else None
        if existing is not None:
            # Upsert: new content, same identity and reinforcement history.
            fresh.record_id = existing.record_id
            fresh.node_id = existing.node_id
            fresh.knowledge_confidence = existing.knowledge_confidence
            fresh.reinforcement_count = existing.reinforcement_count
        self.entries[fresh.record_id] = fresh
        if upsert_key:
            self._by_upsert[slot] = fresh.record_id
        return fresh

    def ingest(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise BadRequestError("items must be a non-empty list")
        key = _text(body, "idempotency_key")
        if key and (run_id, key) in self._ingest_keys:
            job_id = self._ingest_keys[(run_id, key)]
            return {"accepted": True, "job_id": job_id, "deduplicated": True, "status": "completed"}
        stored = [self._store_item(run_id, item) for item in items]
        job_id = str(uuid.uuid4())
        self._jobs[job_id] = {
            "job_id": job_id,
            "run_id": run_id,
            "status": "completed",
            "done": True,
            "error": "",
            "traces": [
                {
                    "item_id": _text(item, "item_id"),
                    "content_type": _text(item, "content_type"),
                    "selected_types": [entry.entry_type],
                    "writes": [
                        {
                            "memory_type": entry.entry_type,
                            "record_id": entry.record_id,
                            "success": True,
                            "error": "",
                        }
                    ],
                }
                for item, entry in zip(items, stored, strict=True)
            ],
            "ordered": True,
            "deduplicated": False,
        }
        if key:
            self._ingest_keys[(run_id, key)] = job_id
        return {"accepted": True, "job_id": job_id, "deduplicated": False, "status": "queued"}

    def ingest_job(self, job_id: str, run_id: str) -> Json:
        job = self._jobs.get(job_id)
        if job is None or (run_id and job["run_id"] != run_id):
            raise NotFoundError(f"no ingest job {job_id}")
        return job

    def batch_insert(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        items = body.get("items")
        if not isinstance(items, list):
            raise BadRequestError("items must be a list")
        dedupe = body.get("deduplicate") is True
        results: list[Json] = []
        node_ids: list[int] = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequestError("items must be objects")
            item_id = _text(item, "item_id")
            known = self.entries.get(self._by_item.get((run_id, item_id), ""))
            if dedupe and item_id and known is not None:
                results.append(
                    {
                        "item_id": item_id,
                        "success": False,
                        "node_id": known.node_id,
                        "error": "duplicate",
                    }
                )
                continue
            entry = self._new_entry(run_id, item, "fact")
            self.entries[entry.record_id] = entry
            if item_id:
                self._by_item[(run_id, item_id)] = entry.record_id
            node_ids.append(entry.node_id)
            results.append(
                {"item_id": item_id, "success": True, "node_id": entry.node_id, "error": ""}
            )
        return {
            "success": True,
            "count": len(node_ids),
            "node_ids": node_ids,
            "item_results": results,
            "message": "",
        }

    # -- reads ----------------------------------------------------------------

    def _visible(self, entry: Entry, run_id: str, user_id: str) -> bool:
        # Entries stamped with another user are hidden; unstamped ones are shared.
        return entry.run_id == run_id and entry.user_id in ("", user_id)

    def query(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        text = _text(body, "query", required=True)
        user_id = _text(body, "user_id")
        types = set(_str_list(body, "entry_types"))
        lane = _text(body, "lane_filter")
        limit = max(0, _int(body, "limit", 5))
        low = _int(body, "min_timestamp", 0)
        high = _int(body, "max_timestamp", 0)
        hits: list[tuple[float, Entry]] = []
        for entry in self.entries.values():
            if not self._visible(entry, run_id, user_id):
                continue
            if (types and entry.entry_type not in types) or (lane and entry.lane != lane):
                continue
            when = entry.occurrence_time or int(entry.created_at)
            if (low and when < low) or (high and when > high):
                continue
            hits.append((similarity(text, entry.text), entry))
        hits.sort(key=lambda hit: (-hit[0], hit[1].node_id))
        evidence = [entry.evidence(score) for score, entry in hits[:limit]]
        return {
            "final_answer": "",
            "evidence": evidence,
            "confidence": evidence[0]["score"] if evidence else 0.0,
            "mode": str(body.get("mode") or "agent_routed").lower(),
            "degraded": False,
            "signals": {
                "repeated": False,
                "stagnant": False,
                "drift_score": -1.0,
                "novelty_score": -1.0,
            },
        }

    def lookup(self, body: Json) -> list[Json]:
        run_id = _text(body, "run_id", required=True)
        clauses = body.get("match") or []
        if not isinstance(clauses, list) or not all(isinstance(c, dict) for c in clauses):
            raise BadRequestError("match must be a list of objects")
        limit = max(0, _int(body, "limit", 256))
        found: list[Json] = []
        for entry in sorted(self.entries.values(), key=lambda e: e.node_id):
            if entry.run_id != run_id:
                continue
            metadata = entry.metadata
            if clauses and not any(_matches(metadata, c) for c in clauses):
                continue
            found.append({"id": entry.node_id, "metadata": {**metadata, "id": entry.record_id}})
        return found[:limit]

    def dereference(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        entry = self.entries.get(_text(body, "reference_id", required=True))
        if entry is None or entry.run_id != run_id:
            return {"found": False}
        return {"found": True, "evidence": entry.evidence(1.0)}

    # -- learning ---------------------------------------------------------------

    def record_outcome(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        reference = _text(body, "reference_id", required=True)
        outcome = _text(body, "outcome", required=True)
        if outcome not in ("success", "failure", "partial", "neutral"):
            raise BadRequestError(f"unknown outcome {outcome!r}")
        key = _text(body, "idempotency_key")
        if key and key in self._outcome_keys:
            return self._outcome_keys[key]
        try:
            signal = max(-1.0, min(1.0, float(body.get("signal", 0.0))))
        except (TypeError, ValueError):
            raise BadRequestError("signal must be a number") from None
        target = self.entries.get(reference)
        if target is None or target.run_id != run_id:
            raise NotFoundError(f"no entry {reference}")
        credited: list[str] = []
        for record_id in dict.fromkeys([reference, *_str_list(body, "entry_ids")]):
            entry = self.entries.get(record_id)
            if entry is None or entry.run_id != run_id:
                continue
            entry.knowledge_confidence = max(
                0.0, min(1.0, entry.knowledge_confidence + CONFIDENCE_STEP * signal)
            )
            entry.reinforcement_count += 1
            credited.append(record_id)
        answer = {
            "success": True,
            "reinforcement_count": target.reinforcement_count,
            "updated_confidence": round(target.knowledge_confidence, 6),
            "credited_unit_ids": credited,
            "outcome_id": f"out_{uuid.uuid4().hex}",
        }
        if key:
            self._outcome_keys[key] = answer
        return answer

    def record_step_outcome(self, body: Json) -> Json:
        _text(body, "run_id", required=True)
        _text(body, "step_id", required=True)
        key = _text(body, "idempotency_key")
        if key and key in self._step_keys:
            return {"step_outcome_id": self._step_keys[key], "accepted": True, "duplicate": True}
        step_outcome_id = f"so_{uuid.uuid4().hex[:12]}"
        self.step_outcomes.append(dict(body))
        if key:
            self._step_keys[key] = step_outcome_id
        return {"step_outcome_id": step_outcome_id, "accepted": True, "duplicate": False}

    def _lessons(self, run_id: str) -> Iterable[Entry]:
        return (e for e in self.entries.values() if e.run_id == run_id and e.entry_type == "lesson")

    def reflect(self, body: Json) -> Json:
        """Consolidate the run's lessons into strategies, one per (type, model, cluster)."""
        run_id = _text(body, "run_id", required=True)
        groups: dict[tuple[str, str, str], list[Entry]] = {}
        for lesson in self._lessons(run_id):
            meta = lesson.metadata
            slot = (
                lesson.lesson_type or "success",
                str(meta.get("model_id", "")),
                str(meta.get("task_cluster", "")),
            )
            groups.setdefault(slot, []).append(lesson)
        strategies = []
        for (lesson_type, model, cluster), lessons in sorted(groups.items()):
            name = uuid.uuid5(uuid.NAMESPACE_URL, "|".join((run_id, lesson_type, model, cluster)))
            strategies.append(
                {
                    "strategy_id": f"st_{name.hex[:12]}",
                    "description": f"{lesson_type}: prefer {model} for {cluster}",
                    "supporting_lesson_count": len(lessons),
                    "avg_confidence": round(
                        sum(e.knowledge_confidence for e in lessons) / len(lessons), 6
                    ),
                    "avg_reinforcement": sum(e.reinforcement_count for e in lessons) / len(lessons),
                    "dominant_lesson_type": lesson_type,
                    "dominant_scope": "session",
                    "lesson_ids": [e.record_id for e in lessons],
                }
            )
        self._strategies[run_id] = strategies
        return {
            "lessons": [],
            "summary": f"{len(strategies)} strategies",
            "confidence": 0.0,
            "degraded": False,
            "lessons_stored": 0,
            "decisions": [],
        }

    def surface_strategies(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        types = set(_str_list(body, "lesson_types"))
        limit = _int(body, "max_strategies", 5)
        ranked = sorted(
            (
                s
                for s in self._strategies.get(run_id, [])
                if not types or s["dominant_lesson_type"] in types
            ),
            key=lambda s: (-s["supporting_lesson_count"], -s["avg_confidence"]),
        )
        return {"strategies": ranked[:limit]}

    def diagnose(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        text = _text(body, "error_text", required=True)
        limit = _int(body, "limit", 10)
        failures = [e for e in self._lessons(run_id) if e.lesson_type == "failure"]
        ranked = sorted(failures, key=lambda e: -similarity(text, e.text))[:limit]
        return {
            "failure_lessons": [e.evidence(similarity(text, e.text)) for e in ranked],
            "summary": f"{len(ranked)} match",
            "total_failure_lessons": len(failures),
        }

    def memory_health(self, body: Json) -> Json:
        run_id = _text(body, "run_id", required=True)
        counts = Counter(e.entry_type for e in self.entries.values() if e.run_id == run_id)
        return {
            "entry_counts": dict(counts),
            "stale_entries": 0,
            "contradictions": [],
            "low_confidence_count": 0,
            "promotion_candidates": [],
            "section_health": [],
        }
