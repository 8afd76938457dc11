"""Mubit API keys: shape check, tenant derivation and a loggable fingerprint.

The raw key is a bearer secret: it is forwarded to Mubit and nothing else.
Everything that needs to name a key (caches, logs) uses `fingerprint`.
"""

from __future__ import annotations

import hashlib
import re

# `mbt_` followed by at least one more character; Mubit decides the rest.
_KEY_SHAPE = re.compile(r"^mbt_[A-Za-z0-9._~+/=-]+$")


def is_mubit_key(key: str) -> bool:
    """True when `key` looks like a Mubit key (`mbt_<...>`, no whitespace)."""
    return bool(_KEY_SHAPE.fullmatch(key))


def fingerprint(key: str) -> str:
    """A stable, non-reversible name for a key (sha256 hex)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def tenant_for_key(key: str) -> str:
    """The Mubit instance (org) a key belongs to.

    Keys shaped `mbt_<org>_<keyid>_<secret>` name their org in the second
    segment, so every key of one instance maps to the same tenant; any other
    shape gets a hash, which is unique to that key.
    """
    parts = key.split("_", 3)
    if len(parts) == 4 and all(parts):
        return parts[1]
    return "key-" + fingerprint(key)[:16]
