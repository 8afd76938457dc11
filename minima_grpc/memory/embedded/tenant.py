"""Everything one tenant stores, in one SQLite file: blocking operations.

The async facades (memory.py, recstore.py) run these in a bounded thread
pool. Writes are serialised by one lock and one connection; reads use a
small pool of read-only connections (WAL lets them run beside a write).
SQLite is the source of truth: the vector indexes, the columns recall
reports (labels.py) and document frequencies in memory are rebuilt from it at
start-up, and an in-memory change is made only after the transaction that
stores it has committed.
"""

from __future__ import annotations

import json
import math
import queue
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from minima_grpc.engine.types import Strategy
from minima_grpc.memory.embedded import codec
from minima_grpc.memory.embedded.embedder import (
    DIM,
    DocFrequencies,
    Features,
    embed,
    quantize,
)
from minima_grpc.memory.embedded.errors import (
    InvalidRecordError,
    MemoryUnavailableError,
    open_error,
    unavailable,
)
from minima_grpc.memory.embedded.indexer import Indexer
from minima_grpc.memory.embedded.lane import VOCAB_SAVE_EVERY, Lane
from minima_grpc.memory.embedded.reflection import StoredLesson, consolidate, rank
from minima_grpc.memory.embedded.schema import connect, open_tenant_file
from minima_grpc.memory.embedded.settings import EmbeddedSettings
from minima_grpc.memory.embedded.sweep import DotSweep
from minima_grpc.memory.embedded.vectors import ADVANCE_STEP, Hits, Want
from minima_grpc.memory.pending_codec import decode_pending, encode_pending
from minima_grpc.memory.protocol import (
    Lesson,
    Neighbours,
    OutcomeRecord,
    PendingRecommendation,
    RecallQuery,
    Reinforcement,
    ReinforcementResult,
)

FILE_NAME = "memory.sqlite3"
# Confidence moves this fraction of the way to 1 (signal +1) or 0 (signal -1).
REINFORCE_RATE = 0.2
MAX_K = 1_024
MAX_PER_MODEL_K = 256
# Below this much free space the probe reports the store degraded.
MIN_FREE_BYTES = 16 * 1024 * 1024
_SHARED_USER = 0
_TextKey = tuple[int, bytes]  # (lane id, text digest)


@dataclass(frozen=True, slots=True)
class Remember:
    """One outcome to store, with the lane and user it belongs to."""

    lane: str
    user_id: str | None
    record: OutcomeRecord


@dataclass(slots=True)
class _Staged:
    """Rows of one lane read at start-up or written in the current transaction
    (index them after commit)."""

    lane: Lane
    keys: list[int]
    models: list[int]
    users: list[int]
    # int8 vectors back to back (one bytes object per row would double start-up memory)
    codes: bytearray
    # codec.LABEL_COLUMNS of the last rows, not yet handed to the lane's labels
    stored: list[Sequence[Any]]

    @classmethod
    def empty(cls, lane: Lane) -> _Staged:
        return cls(lane, [], [], [], bytearray(), [])

    def add_labels(self) -> None:
        """Hand the rows' labels not handed yet to the lane."""
        if not self.stored:
            return
        start = len(self.keys) - len(self.stored)
        self.lane.labels.append(
            self.keys[start:], self.models[start:], self.users[start:], self.stored
        )
        self.stored.clear()


class TenantStore:
    def __init__(
        self,
        directory: Path,
        conn: sqlite3.Connection,
        file_id: str,
        settings: EmbeddedSettings,
        indexer: Indexer,
        sweep: DotSweep,
    ) -> None:
        self.path = directory / FILE_NAME
        self._directory = directory
        self._conn = conn
        self._file_id = file_id
        self._settings = settings
        self._indexer = indexer
        self._sweep = sweep
        self._write_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._connections = [conn]
        self._connections_lock = threading.Lock()
        self._lanes: dict[str, Lane] = {}
        self._model_codes: dict[str, int] = {}
        self._model_names: list[str] = []  # by code
        self._user_codes: dict[str, int] = {}
        self._degraded: str | None = None
        self._closed = False

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path,
        tenant_digest: str,
        settings: EmbeddedSettings,
        indexer: Indexer,
        sweep: DotSweep,
    ) -> TenantStore:
        """Open (creating if new) and load; raises MemoryOpenError naming the file."""
        path = directory / FILE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise open_error(path, exc) from exc
        conn, file_id = open_tenant_file(path, tenant_digest, settings)
        store = cls(directory, conn, file_id, settings, indexer, sweep)
        try:
            store._load()
        except (sqlite3.Error, OSError, ValueError, KeyError, zlib.error) as exc:
            conn.close()
            raise open_error(path, exc) from exc
        return store

    def _load(self) -> None:
        lanes = self._conn.execute("SELECT lane_id, name FROM lanes ORDER BY lane_id").fetchall()
        by_id: dict[int, Lane] = {}
        for lane_id, name in lanes:
            lane = self._new_lane(int(lane_id), str(name))
            self._load_vocab(lane)
            by_id[lane.lane_id] = lane
            self._lanes[lane.name] = lane
        self._load_vectors(by_id)

    def _new_lane(self, lane_id: int, name: str) -> Lane:
        return Lane(
            lane_id,
            name,
            self._file_id,
            self._directory / "index",
            self._settings.index_threads,
            self._sweep,
        )

    def _load_vocab(self, lane: Lane) -> None:
        row = self._conn.execute(
            "SELECT docs, upto_text_id, df FROM vocab WHERE lane_id = ?", (lane.lane_id,)
        ).fetchone()
        upto = 0
        if row is not None:
            lane.vocab = DocFrequencies.from_bytes(row[2], int(row[0]))
            upto = int(row[1])
        newer = self._conn.execute(
            # `+lane_id`: walk the primary key from `upto`, not the whole lane's index.
            "SELECT body, tags FROM texts WHERE text_id > ? AND +lane_id = ?",
            (upto, lane.lane_id),
        )
        while rows := newer.fetchmany(4096):
            features = [
                Features(codec.unpack_text(body), json.loads(tags) if tags else ())
                for body, tags in rows
            ]
            lane.vocab.add(features)
            lane.texts_since_vocab_save += len(features)

    def _load_vectors(self, lanes: dict[int, Lane]) -> None:
        staged = {lane.lane_id: _Staged.empty(lane) for lane in lanes.values()}
        rows = self._conn.execute(
            f"SELECT o.seq, o.lane_id, o.model_id, o.user_id, t.vec, {codec.LABEL_COLUMNS} "
            "FROM outcomes o JOIN texts t ON t.text_id = o.text_id ORDER BY o.seq"
        )
        # In chunks: labels as Python values for every row would double start-up memory.
        while chunk := rows.fetchmany(4096):
            for seq, lane_id, model_id, user_id, vec, *stored in chunk:
                batch = staged[lane_id]
                batch.keys.append(seq)
                batch.models.append(self._model_code(model_id))
                batch.users.append(self._user_code(user_id))
                batch.codes += vec
                batch.stored.append(stored)
            for batch in staged.values():
                batch.add_labels()
        for batch in staged.values():
            codes = _codes(batch.codes)
            batch.lane.index.load(batch.keys, batch.models, batch.users, codes)
            if batch.lane.index.backlog():
                self._indexer.submit(batch.lane)

    def _model_code(self, model_id: str) -> int:
        code = self._model_codes.get(model_id)
        if code is None:
            code = self._model_codes[model_id] = len(self._model_names)
            self._model_names.append(model_id)
        return code

    def _user_code(self, user_id: str | None) -> int:
        if user_id is None:
            return _SHARED_USER
        return self._user_codes.setdefault(user_id, len(self._user_codes) + 1)

    # -- plumbing ----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise MemoryUnavailableError(f"memory file {self.path} is closed")

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            try:
                conn = connect(self.path, self._settings, create=False)
                conn.execute("PRAGMA query_only=ON")
            except sqlite3.Error as exc:
                raise unavailable("read", self.path, exc) from exc
            with self._connections_lock:
                self._connections.append(conn)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise unavailable("read", self.path, exc) from exc
        finally:
            self._readers.put(conn)

    @contextmanager
    def _transaction(self, operation: str) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT under the write lock (the caller holds it)."""
        self._check_open()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                with suppress(sqlite3.Error):  # the original error says more
                    self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error | OSError):
                self._degraded = f"{operation}: {exc}"
                raise unavailable(operation, self.path, exc) from exc
            raise
        self._degraded = None

    def _lane_for_write(
        self, conn: sqlite3.Connection, name: str, created: dict[str, Lane]
    ) -> Lane:
        """The lane, or a new one; new lanes join self._lanes only after commit."""
        lane = self._lanes.get(name) or created.get(name)
        if lane is None:
            lane_id = conn.execute(
                "INSERT INTO lanes (name) VALUES (?) RETURNING lane_id", (name,)
            ).fetchone()[0]
            lane = created[name] = self._new_lane(int(lane_id), name)
        return lane

    def _lane_id(self, name: str) -> int | None:
        lane = self._lanes.get(name)
        return lane.lane_id if lane else None

    # -- outcomes ------------------------------------------------------------------

    def remember(self, items: Sequence[Remember]) -> list[tuple[str, bool]]:
        """Store outcomes in one transaction; (entry id, newly stored) per item."""
        for item in items:
            codec.check_record(item.record)
        with self._write_lock:
            created: dict[str, Lane] = {}
            counted: list[tuple[Lane, list[Features]]] = []
            staged: dict[int, _Staged] = {}
            try:
                with self._transaction("remember") as conn:
                    results = self._write_outcomes(conn, items, created, counted, staged)
                    self._snapshot_vocab(conn, {s.lane.lane_id: s.lane for s in staged.values()})
            except BaseException:
                for lane, features in counted:
                    lane.vocab.remove(features)
                raise
            self._lanes.update(created)
            for batch in staged.values():
                # Labels first: a row the index finds always has them.
                batch.add_labels()
                batch.lane.index.append(batch.keys, batch.models, batch.users, _codes(batch.codes))
                if batch.lane.index.backlog() >= ADVANCE_STEP:
                    self._indexer.submit(batch.lane)
        return results

    def _write_outcomes(
        self,
        conn: sqlite3.Connection,
        items: Sequence[Remember],
        created: dict[str, Lane],
        counted: list[tuple[Lane, list[Features]]],
        staged: dict[int, _Staged],
    ) -> list[tuple[str, bool]]:
        lanes = [self._lane_for_write(conn, item.lane, created) for item in items]
        digests = [codec.text_digest(i.record.task_text, i.record.tags) for i in items]
        texts = self._known_texts(conn, lanes, digests)
        new_texts: dict[_TextKey, int] = {}  # -> the first item with that text
        for index, (lane, digest) in enumerate(zip(lanes, digests, strict=True)):
            key = (lane.lane_id, digest)
            if key not in texts:
                new_texts.setdefault(key, index)
        texts.update(self._insert_texts(conn, items, lanes, new_texts, counted))
        results: list[tuple[str, bool]] = []
        for item, lane, digest in zip(items, lanes, digests, strict=True):
            text_id, vec = texts[(lane.lane_id, digest)]
            row = conn.execute(
                codec.INSERT_OUTCOME,
                codec.outcome_row(item.record, lane.lane_id, text_id, item.user_id),
            ).fetchone()
            if row is None:  # stored before (or earlier in this batch): idempotent
                seq = conn.execute(
                    "SELECT seq FROM outcomes WHERE lane_id = ? AND dedup = ?",
                    (lane.lane_id, codec.record_digest(item.record)),
                ).fetchone()[0]
                results.append((codec.entry_id(self._file_id, seq), False))
                continue
            seq = int(row[0])
            results.append((codec.entry_id(self._file_id, seq), True))
            batch = staged.setdefault(lane.lane_id, _Staged.empty(lane))
            batch.keys.append(seq)
            batch.models.append(self._model_code(item.record.model_id))
            batch.users.append(self._user_code(item.user_id))
            batch.codes += vec
            batch.stored.append(row[1:])
        return results

    @staticmethod
    def _known_texts(
        conn: sqlite3.Connection, lanes: Sequence[Lane], digests: Sequence[bytes]
    ) -> dict[_TextKey, tuple[int, bytes]]:
        """Stored texts among the batch's: (lane id, digest) -> (text id, vector)."""
        wanted: dict[int, set[bytes]] = {}
        for lane, digest in zip(lanes, digests, strict=True):
            wanted.setdefault(lane.lane_id, set()).add(digest)
        found: dict[_TextKey, tuple[int, bytes]] = {}
        for lane_id, group in wanted.items():
            listed = list(group)
            for start in range(0, len(listed), 500):
                chunk = listed[start : start + 500]
                rows = conn.execute(
                    "SELECT digest, text_id, vec FROM texts WHERE lane_id = ? "
                    f"AND digest IN ({','.join('?' * len(chunk))})",
                    (lane_id, *chunk),
                )
                for digest, text_id, vec in rows:
                    found[(lane_id, digest)] = (text_id, vec)
        return found

    def _insert_texts(
        self,
        conn: sqlite3.Connection,
        items: Sequence[Remember],
        lanes: Sequence[Lane],
        new_texts: dict[_TextKey, int],
        counted: list[tuple[Lane, list[Features]]],
    ) -> dict[_TextKey, tuple[int, bytes]]:
        """Count new texts into their lanes' frequencies, then embed and store them."""
        by_lane: dict[int, list[tuple[bytes, int]]] = {}
        for (lane_id, digest), index in new_texts.items():
            by_lane.setdefault(lane_id, []).append((digest, index))
        stored: dict[_TextKey, tuple[int, bytes]] = {}
        for lane_id, texts in by_lane.items():
            lane = lanes[texts[0][1]]
            records = [items[index].record for _, index in texts]
            features = [Features(r.task_text, r.tags) for r in records]
            lane.vocab.add(features)
            counted.append((lane, features))
            codes = quantize(embed(features, lane.vocab))
            for (digest, _), record, code in zip(texts, records, codes, strict=True):
                vec = code.tobytes()
                text_id = conn.execute(
                    "INSERT INTO texts (lane_id, digest, body, tags, vec) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING text_id",
                    (
                        lane_id,
                        digest,
                        codec.pack_text(record.task_text),
                        json.dumps(sorted(set(record.tags))) if record.tags else None,
                        vec,
                    ),
                ).fetchone()[0]
                stored[(lane_id, digest)] = (text_id, vec)
            lane.texts_since_vocab_save += len(texts)
        return stored

    def _snapshot_vocab(self, conn: sqlite3.Connection, lanes: dict[int, Lane]) -> None:
        for lane in lanes.values():
            if lane.texts_since_vocab_save >= VOCAB_SAVE_EVERY:
                self._save_vocab(conn, lane)

    def _save_vocab(self, conn: sqlite3.Connection, lane: Lane) -> None:
        # Every committed text of this lane up to the newest text id is counted.
        upto = conn.execute("SELECT coalesce(max(text_id), 0) FROM texts").fetchone()[0]
        conn.execute(
            "INSERT OR REPLACE INTO vocab (lane_id, docs, upto_text_id, df) VALUES (?, ?, ?, ?)",
            (lane.lane_id, lane.vocab.docs, upto, lane.vocab.to_bytes()),
        )
        lane.texts_since_vocab_save = 0

    def recall(self, lane_name: str, user_id: str | None, query: RecallQuery) -> Neighbours:
        self._check_open()
        lane = self._lanes.get(lane_name)
        want = self._want(user_id, query)
        if lane is None or want is None or not query.text.strip():
            return Neighbours.empty()
        vector = embed([Features(query.text, query.tags)], lane.vocab)[0]
        hits = lane.index.search(vector, want)
        if not len(hits.keys):
            return Neighbours.empty()
        return self._neighbours(lane, want.users, hits)

    def _want(self, user_id: str | None, query: RecallQuery) -> Want | None:
        """The index request, or None when nothing can match."""
        users: tuple[int, ...] = (_SHARED_USER,)
        if user_id is not None and user_id in self._user_codes:
            users = (_SHARED_USER, self._user_codes[user_id])
        models: tuple[int, ...] | None = None
        if query.models:
            models = tuple(
                dict.fromkeys(self._model_codes[m] for m in query.models if m in self._model_codes)
            )
            if not models:
                return None
        per_model_k = min(max(query.per_model_k, 0), MAX_PER_MODEL_K)
        k = min(max(query.k, 0), MAX_K)
        if per_model_k == 0 and k == 0:
            return None
        return Want(users=users, models=models, per_model_k=per_model_k, k=k)

    def _neighbours(self, lane: Lane, users: Sequence[int], hits: Hits) -> Neighbours:
        """The hits' columns in hit order, from the lane's labels; hits of other
        users (a safeguard: the index has filtered them) are left out."""
        found = lane.labels.find(hits.positions, hits.keys, users)
        if not len(found.at):
            return Neighbours.empty()
        # The model ids present, numbered in code order (a bincount, not a sort).
        codes = np.flatnonzero(np.bincount(found.model))
        number = np.zeros(codes[-1] + 1, np.intp)
        number[codes] = np.arange(len(codes))
        stale_before = codec.to_micros(self._settings.clock() - self._settings.stale_after)
        entry_ids = found.entry_ids
        return Neighbours(
            model_ids=tuple([self._model_names[code] for code in codes.tolist()]),
            model=number[found.model],
            entry_ids=entry_ids,
            reference_ids=entry_ids,
            similarity=hits.similarity[found.at],
            knowledge_confidence=found.confidence,
            recorded_at=found.recorded_us / 1e6,
            is_stale=found.recorded_us < stale_before,
            seeded=found.seeded,
            quality=found.quality,
            cost_usd=found.cost_usd,
            output_tokens=found.output_tokens,
        )

    # -- learning ------------------------------------------------------------------

    def reinforce(
        self, lane_name: str, user_id: str | None, reinforcement: Reinforcement
    ) -> ReinforcementResult:
        if not reinforcement.idempotency_key:
            raise InvalidRecordError("invalid reinforcement: idempotency_key is empty")
        if not math.isfinite(reinforcement.signal):
            raise InvalidRecordError("invalid reinforcement: signal must be a finite number")
        signal = min(1.0, max(-1.0, reinforcement.signal))
        nothing = ReinforcementResult(reinforced_entry_ids=(), updated_confidence=None)
        with self._write_lock:
            lane = self._lanes.get(lane_name)
            if lane is None:
                return nothing
            lane_id = lane.lane_id
            with self._transaction("reinforce") as conn:
                done = conn.execute(
                    "SELECT result FROM reinforcements WHERE lane_id = ? AND idempotency_key = ?",
                    (lane_id, reinforcement.idempotency_key),
                ).fetchone()
                if done is not None:
                    return _decode_reinforcement(done[0])
                result, changed = self._credit(
                    conn, lane_id, user_id, reinforcement.entry_ids, signal
                )
                conn.execute(
                    "INSERT INTO reinforcements (lane_id, idempotency_key, reference_id, signal, "
                    "result, applied_us) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        lane_id,
                        reinforcement.idempotency_key,
                        reinforcement.reference_id,
                        signal,
                        json.dumps(asdict(result)),
                        codec.to_micros(self._settings.clock()),
                    ),
                )
            lane.labels.set_confidence(list(changed), list(changed.values()))
        return result

    def _credit(
        self,
        conn: sqlite3.Connection,
        lane_id: int,
        user_id: str | None,
        entry_ids: Sequence[str],
        signal: float,
    ) -> tuple[ReinforcementResult, dict[int, float]]:
        """The result, and the new confidence of each credited outcome by seq."""
        wanted: dict[int, str] = {}
        for ident in entry_ids:
            seq = codec.parse_entry_id(self._file_id, ident)
            if seq is not None:
                wanted.setdefault(seq, ident)
        credited: list[str] = []
        changed: dict[int, float] = {}
        for seq, ident in wanted.items():
            row = conn.execute(
                "SELECT confidence FROM outcomes WHERE seq = ? AND lane_id = ? "
                "AND (user_id IS NULL OR user_id = ?)",
                (seq, lane_id, user_id),
            ).fetchone()
            if row is None:
                continue
            old = float(row[0])
            new = old + REINFORCE_RATE * signal * ((1.0 - old) if signal > 0 else old)
            conn.execute(
                "UPDATE outcomes SET confidence = ?, reinforcements = reinforcements + 1 "
                "WHERE seq = ?",
                (new, seq),
            )
            credited.append(ident)
            changed[seq] = new
        confidences = list(changed.values())
        result = ReinforcementResult(
            reinforced_entry_ids=tuple(credited),
            updated_confidence=sum(confidences) / len(confidences) if confidences else None,
        )
        return result, changed

    def record_lesson(self, lane_name: str, lesson: Lesson) -> str:
        codec.check_lesson(lesson)
        with self._write_lock:
            created: dict[str, Lane] = {}
            with self._transaction("record_lesson") as conn:
                lane = self._lane_for_write(conn, lane_name, created)
                row = conn.execute(
                    "INSERT INTO lessons (lane_id, idempotency_key, content, lesson_type, "
                    "task_type, difficulty, model_id, confidence, source_entry_ids, created_us) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (lane_id, idempotency_key) DO NOTHING RETURNING lesson_seq",
                    (
                        lane.lane_id,
                        lesson.idempotency_key,
                        lesson.content,
                        lesson.lesson_type,
                        lesson.task_type.value,
                        lesson.difficulty.value,
                        lesson.model_id,
                        float(lesson.confidence),
                        json.dumps(list(lesson.source_entry_ids)),
                        codec.to_micros(self._settings.clock()),
                    ),
                ).fetchone()
                if row is None:
                    row = conn.execute(
                        "SELECT lesson_seq FROM lessons WHERE lane_id = ? AND idempotency_key = ?",
                        (lane.lane_id, lesson.idempotency_key),
                    ).fetchone()
            self._lanes.update(created)
        return codec.lesson_id(self._file_id, int(row[0]))

    def reflect(self, lane_name: str) -> None:
        with self._write_lock:
            lane_id = self._lane_id(lane_name)
            if lane_id is None:
                return
            with self._transaction("reflect") as conn:
                lessons = [
                    self._stored_lesson(conn, lane_id, row)
                    for row in conn.execute(
                        "SELECT lesson_seq, lesson_type, task_type, difficulty, model_id, "
                        "confidence, source_entry_ids FROM lessons WHERE lane_id = ?",
                        (lane_id,),
                    ).fetchall()
                ]
                conn.execute("DELETE FROM strategies WHERE lane_id = ?", (lane_id,))
                conn.executemany(
                    "INSERT INTO strategies (lane_id, strategy_id, body) VALUES (?, ?, ?)",
                    [
                        (lane_id, s.strategy_id, json.dumps(asdict(s)))
                        for s in consolidate(lane_name, lessons)
                    ],
                )

    def _stored_lesson(
        self, conn: sqlite3.Connection, lane_id: int, row: tuple[Any, ...]
    ) -> StoredLesson:
        seq, lesson_type, task_type, difficulty, model_id, confidence, sources = row
        seqs = [
            s
            for s in (codec.parse_entry_id(self._file_id, i) for i in json.loads(sources))
            if s is not None
        ]
        reinforced = 0
        if seqs:
            reinforced = conn.execute(
                "SELECT coalesce(sum(reinforcements), 0) FROM outcomes "
                f"WHERE +lane_id = ? AND seq IN ({','.join('?' * len(seqs))})",
                (lane_id, *seqs),
            ).fetchone()[0]
        return StoredLesson(
            lesson_id=codec.lesson_id(self._file_id, int(seq)),
            lesson_type=str(lesson_type),
            task_type=str(task_type),
            difficulty=str(difficulty),
            model_id=str(model_id),
            confidence=float(confidence),
            reinforcements=int(reinforced),
        )

    def strategies(self, lane_name: str, lesson_types: Sequence[str], limit: int) -> list[Strategy]:
        lane_id = self._lane_id(lane_name)
        if lane_id is None or limit <= 0:
            return []
        with self._reader() as conn:
            bodies = conn.execute(
                "SELECT body FROM strategies WHERE lane_id = ?", (lane_id,)
            ).fetchall()
        found = [_decode_strategy(body) for (body,) in bodies]
        wanted = set(lesson_types)
        return rank(s for s in found if not wanted or s.dominant_lesson_type in wanted)[:limit]

    def probe(self) -> str | None:
        """None when healthy, else what is wrong."""
        with self._reader() as conn:
            conn.execute("SELECT 1 FROM meta LIMIT 1").fetchone()
        if self._degraded:
            return self._degraded
        if shutil.disk_usage(self._directory).free < MIN_FREE_BYTES:
            return f"less than {MIN_FREE_BYTES // (1024 * 1024)} MiB free for {self.path}"
        return None

    # -- pending recommendations -----------------------------------------------------

    def put_pending(self, pending: PendingRecommendation, now: datetime) -> None:
        expires = codec.to_micros(now + self._settings.recommendation_ttl)
        # Level 1: a third of level 6's time on every recommendation, and the
        # row lives for days, not forever (12 KB -> 2.9 KB instead of 2.5 KB).
        body = zlib.compress(orjson.dumps(encode_pending(pending)), 1)
        with self._write_lock, self._transaction("put recommendation") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending (recommendation_id, expires_us, body) "
                "VALUES (?, ?, ?)",
                (pending.recommendation_id, expires, body),
            )

    def get_pending(self, recommendation_id: str, now: datetime) -> PendingRecommendation | None:
        with self._reader() as conn:
            row = conn.execute(
                "SELECT body FROM pending WHERE recommendation_id = ? AND expires_us > ?",
                (recommendation_id, codec.to_micros(now)),
            ).fetchone()
        if row is None:
            return None
        return decode_pending(orjson.loads(zlib.decompress(row[0])))

    def claim(self, key: str, now: datetime) -> bool:
        """Insert the claim, or take over an expired one; False if a live claim exists."""
        expires = codec.to_micros(now + self._settings.recommendation_ttl)
        with self._write_lock, self._transaction("claim feedback") as conn:
            changed = conn.execute(
                "INSERT INTO claims (idempotency_key, expires_us) VALUES (?, ?) "
                "ON CONFLICT (idempotency_key) DO UPDATE SET expires_us = excluded.expires_us "
                "WHERE claims.expires_us <= ?",
                (key, expires, codec.to_micros(now)),
            ).rowcount
        return bool(changed)

    def release(self, key: str) -> None:
        with self._write_lock, self._transaction("release feedback") as conn:
            conn.execute("DELETE FROM claims WHERE idempotency_key = ?", (key,))

    def purge(self, now: datetime) -> int:
        cutoff = codec.to_micros(now)
        with self._write_lock, self._transaction("purge") as conn:
            pending = conn.execute("DELETE FROM pending WHERE expires_us <= ?", (cutoff,)).rowcount
            claims = conn.execute("DELETE FROM claims WHERE expires_us <= ?", (cutoff,)).rowcount
        return int(pending) + int(claims)

    # -- shutdown --------------------------------------------------------------------

    def close(self) -> None:
        """Save what start-up would otherwise redo, then close every connection.

        Call after the indexer stopped (graphs are saved here).
        """
        with self._write_lock:
            if self._closed:
                return
            try:
                for lane in self._lanes.values():
                    lane.index.save_graphs(force=True)
                dirty = [lane for lane in self._lanes.values() if lane.texts_since_vocab_save]
                if dirty:
                    with self._transaction("save vocabulary") as conn:
                        for lane in dirty:
                            self._save_vocab(conn, lane)
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._closed = True
                with self._connections_lock:
                    for conn in self._connections:
                        conn.close()


def _codes(packed: bytearray) -> np.ndarray:
    return np.frombuffer(bytes(packed), np.int8).reshape(-1, DIM)


def _decode_reinforcement(raw: str) -> ReinforcementResult:
    data = json.loads(raw)
    return ReinforcementResult(
        reinforced_entry_ids=tuple(data["reinforced_entry_ids"]),
        updated_confidence=data["updated_confidence"],
    )


def _decode_strategy(raw: str) -> Strategy:
    data = json.loads(raw)
    data["lesson_ids"] = tuple(data["lesson_ids"])
    return Strategy(**data)
