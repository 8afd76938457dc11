"""One tenant's SQLite file: connection settings, tables, and the identity check.

Every table is keyed by lane where it holds lane data, and the file holds
one tenant only (registry.py), so a query cannot reach another tenant's rows.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

from minima_grpc.memory.embedded.embedder import EMBEDDER_ID
from minima_grpc.memory.embedded.errors import MemoryOpenError, open_error
from minima_grpc.memory.embedded.settings import EmbeddedSettings

FORMAT = "minima-embedded-memory"
SCHEMA_VERSION = "1"
MMAP_BYTES = 1 << 34
CACHE_KIB = 32 * 1024

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE lanes (lane_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
-- One row per distinct (lane, text, tags): seeds of many models share it.
CREATE TABLE texts (
    text_id INTEGER PRIMARY KEY,
    lane_id INTEGER NOT NULL,
    digest BLOB NOT NULL,
    body BLOB NOT NULL,
    tags TEXT,
    vec BLOB NOT NULL,
    UNIQUE (lane_id, digest)
);
CREATE TABLE outcomes (
    seq INTEGER PRIMARY KEY,
    lane_id INTEGER NOT NULL,
    text_id INTEGER NOT NULL,
    dedup BLOB NOT NULL,
    user_id TEXT,
    model_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    outcome TEXT NOT NULL,
    quality REAL NOT NULL,
    recorded_us INTEGER NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    latency_ms INTEGER,
    verified INTEGER NOT NULL,
    source TEXT NOT NULL,
    recommendation_id TEXT,
    tags TEXT,
    idempotency_key TEXT,
    confidence REAL NOT NULL DEFAULT 0.5,
    reinforcements INTEGER NOT NULL DEFAULT 0,
    UNIQUE (lane_id, dedup)
);
CREATE TABLE reinforcements (
    lane_id INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    reference_id TEXT,
    signal REAL NOT NULL,
    result TEXT NOT NULL,
    applied_us INTEGER NOT NULL,
    PRIMARY KEY (lane_id, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE lessons (
    lesson_seq INTEGER PRIMARY KEY,
    lane_id INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    content TEXT NOT NULL,
    lesson_type TEXT NOT NULL,
    task_type TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    model_id TEXT NOT NULL,
    confidence REAL NOT NULL,
    source_entry_ids TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    UNIQUE (lane_id, idempotency_key)
);
CREATE TABLE strategies (
    lane_id INTEGER NOT NULL,
    strategy_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (lane_id, strategy_id)
) WITHOUT ROWID;
-- Snapshot of a lane's document frequencies, covering texts up to upto_text_id.
CREATE TABLE vocab (
    lane_id INTEGER PRIMARY KEY,
    docs INTEGER NOT NULL,
    upto_text_id INTEGER NOT NULL,
    df BLOB NOT NULL
);
CREATE TABLE pending (
    recommendation_id TEXT PRIMARY KEY,
    expires_us INTEGER NOT NULL,
    body BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_expiry ON pending (expires_us);
CREATE TABLE claims (
    idempotency_key TEXT PRIMARY KEY,
    expires_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX claims_expiry ON claims (expires_us);
"""


def connect(path: Path, settings: EmbeddedSettings, *, create: bool) -> sqlite3.Connection:
    """A connection with the durability settings; `create` allows a new file."""
    mode = "rwc" if create else "rw"
    conn = sqlite3.connect(
        f"file:{path}?mode={mode}",
        uri=True,
        timeout=settings.busy_timeout_s,
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        conn.execute(f"PRAGMA synchronous={settings.synchronous}")
        conn.execute("PRAGMA temp_store=MEMORY")
        # Reads through a memory map: random lookups by id skip a syscall per page
        # (address space only; the OS page cache holds the data either way).
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        # Inserts touch random pages of the dedup indexes; a larger cache keeps
        # bulk loads fast once the file outgrows the 2 MiB default.
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def open_tenant_file(
    path: Path, tenant_digest: str, settings: EmbeddedSettings
) -> tuple[sqlite3.Connection, str]:
    """Open (or create) the file and check it is this tenant's; return it and its file id.

    Raises MemoryOpenError naming the file and the cause.
    """
    existed = path.exists()
    try:
        conn = connect(path, settings, create=not existed)
    except sqlite3.Error as exc:
        raise open_error(path, exc) from exc
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise MemoryOpenError(f"cannot open memory file {path}: WAL mode unavailable ({mode})")
        if not existed or not _has_meta(conn):
            if existed and _has_tables(conn):
                raise MemoryOpenError(
                    f"cannot open memory file {path}: it is a SQLite database but not a "
                    "Minima memory file"
                )
            _create(conn, tenant_digest)
        file_id = _check_meta(conn, path, tenant_digest)
        # Fail now, not on the first feedback, if another process holds the write lock.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        conn.close()
        raise open_error(path, exc) from exc
    except MemoryOpenError:
        conn.close()
        raise
    return conn, file_id


def _has_meta(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_schema WHERE type='table' AND name='meta'").fetchone()
    return row is not None


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_schema LIMIT 1").fetchone() is not None


def _create(conn: sqlite3.Connection, tenant_digest: str) -> None:
    meta = {
        "format": FORMAT,
        "schema": SCHEMA_VERSION,
        "file_id": secrets.token_hex(4),
        "tenant": tenant_digest,
        "embedder": EMBEDDER_ID,
    }
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _check_meta(conn: sqlite3.Connection, path: Path, tenant_digest: str) -> str:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    expected = {
        "format": FORMAT,
        "schema": SCHEMA_VERSION,
        "tenant": tenant_digest,
        "embedder": EMBEDDER_ID,
    }
    for key, value in expected.items():
        if meta.get(key) != value:
            raise MemoryOpenError(
                f"cannot open memory file {path}: its {key} is {meta.get(key)!r}, "
                f"expected {value!r}"
            )
    file_id = meta.get("file_id", "")
    if not file_id:
        raise MemoryOpenError(f"cannot open memory file {path}: it has no file id")
    return str(file_id)
