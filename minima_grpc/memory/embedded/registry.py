"""Tenants' stores: one directory, one SQLite file and one set of indexes per tenant.

Layout: `<data_dir>/tenants/<sha256(tenant)>/memory.sqlite3` (+ `index/`).
A tenant's data lives in its own file, so no query can reach another
tenant's rows, whatever it filters on. The directory name is a digest: tenant
names never appear on disk, and the file records the digest it belongs to.

One process owns a data directory (an exclusive lock on `tenants/.lock`):
the in-memory indexes assume every write goes through this process. Every
existing tenant file is opened and loaded at start-up, so a corrupt,
unreadable or locked file is reported then, as a MemoryOpenError.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import threading
from pathlib import Path
from typing import IO

from minima_grpc.memory.embedded.errors import (
    InvalidRecordError,
    MemoryOpenError,
    MemoryUnavailableError,
    open_error,
)
from minima_grpc.memory.embedded.indexer import Indexer
from minima_grpc.memory.embedded.settings import EmbeddedSettings
from minima_grpc.memory.embedded.sweep import DotSweep
from minima_grpc.memory.embedded.tenant import FILE_NAME, MIN_FREE_BYTES, TenantStore

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def tenant_digest(tenant: str) -> str:
    if not tenant:
        raise InvalidRecordError("the scope has no tenant")
    return hashlib.sha256(tenant.encode("utf-8")).hexdigest()


class TenantRegistry:
    def __init__(self, root: Path, lock: IO[bytes], settings: EmbeddedSettings) -> None:
        self.root = root
        self.settings = settings
        self.indexer = Indexer()
        self.sweep = DotSweep(settings.scan_threads)
        self._lock_file = lock
        self._stores: dict[str, TenantStore] = {}
        self._opening = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, data_dir: Path, settings: EmbeddedSettings) -> TenantRegistry:
        """Lock the data directory and open every tenant in it."""
        root = data_dir / "tenants"
        lock_path = root / ".lock"
        try:
            root.mkdir(parents=True, exist_ok=True)
            lock = lock_path.open("a+b")
        except OSError as exc:
            raise open_error(lock_path, exc) from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise MemoryOpenError(
                f"cannot open memory directory {root}: it is in use by another Minima "
                "process (stop it, or give this one another data directory)"
            ) from None
        registry = cls(root, lock, settings)
        try:
            for directory in sorted(root.iterdir()):
                if _DIGEST.match(directory.name) and (directory / FILE_NAME).exists():
                    registry._stores[directory.name] = TenantStore.open(
                        directory, directory.name, settings, registry.indexer, registry.sweep
                    )
        except BaseException:
            registry.close()
            raise
        return registry

    @property
    def closed(self) -> bool:
        return self._closed

    def cached(self, tenant: str) -> TenantStore | None:
        """The tenant's store if already open (no I/O)."""
        return self._stores.get(tenant_digest(tenant))

    def store(self, tenant: str) -> TenantStore:
        """The tenant's store, created on first use."""
        digest = tenant_digest(tenant)
        found = self._stores.get(digest)
        if found is not None:
            return found
        with self._opening:
            if self._closed:
                raise MemoryUnavailableError(f"memory directory {self.root} is closed")
            found = self._stores.get(digest)
            if found is None:
                try:
                    found = TenantStore.open(
                        self.root / digest, digest, self.settings, self.indexer, self.sweep
                    )
                except MemoryOpenError as exc:
                    raise MemoryUnavailableError(str(exc)) from exc
                self._stores[digest] = found
            return found

    def stores(self) -> list[TenantStore]:
        return list(self._stores.values())

    def probe(self, tenant: str) -> str | None:
        """None when the tenant's store (or, before its first write, the directory) is fine."""
        store = self.cached(tenant)
        if store is not None:
            return store.probe()
        if not os.access(self.root, os.W_OK):
            return f"memory directory {self.root} is not writable"
        if shutil.disk_usage(self.root).free < MIN_FREE_BYTES:
            return f"less than {MIN_FREE_BYTES // (1024 * 1024)} MiB free for {self.root}"
        return None

    def close(self) -> None:
        """Stop background work, save indexes, close files, release the directory."""
        with self._opening:
            if self._closed:
                return
            self._closed = True
        try:
            self.indexer.stop()
            for store in self._stores.values():
                store.close()
            self.sweep.close()
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
