"""Errors of the embedded memory, with messages an operator can act on."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class MemoryOpenError(Exception):
    """A memory file cannot be opened at start-up; the message names it and the cause."""


class MemoryUnavailableError(Exception):
    """A store operation failed (disk full, I/O error, closed store); nothing was written."""


class InvalidRecordError(ValueError):
    """A record or lesson breaks a documented rule; nothing was written."""


_CAUSES = (
    ("file is not a database", "it is not a SQLite database (corrupt, or not a Minima file)"),
    ("malformed", "it is corrupt (database disk image is malformed)"),
    ("database is locked", "it is locked by another process"),
    ("unable to open", "it cannot be opened (missing directory or permission denied)"),
    ("readonly", "it is read-only (permission denied)"),
    ("disk is full", "the disk is full"),
    ("disk i/o error", "the disk reported an I/O error"),
)


def explain(exc: BaseException) -> str:
    """A short, human cause for an sqlite3/OS error."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    text = str(exc).lower()
    for needle, cause in _CAUSES:
        if needle in text:
            return cause
    return str(exc) or type(exc).__name__


def open_error(path: Path, exc: BaseException) -> MemoryOpenError:
    cause = explain(exc)
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        cause = "permission denied (this user cannot read and write it)"
    return MemoryOpenError(f"cannot open memory file {path}: {cause}")


def unavailable(operation: str, path: Path, exc: sqlite3.Error | OSError) -> MemoryUnavailableError:
    return MemoryUnavailableError(f"{operation} failed on {path}: {explain(exc)}")
