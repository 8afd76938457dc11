"""The embedded key store and `minima keys create|list|revoke`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from minima_grpc.auth.embedded import EmbeddedAuthenticator
from minima_grpc.auth.keys import KeyNotFoundError, KeyStore
from minima_grpc.cli import main
from minima_grpc.engine.errors import Unauthenticated


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KeyStore]:
    opened = KeyStore(tmp_path / "data" / "keys.db")
    yield opened
    opened.close()


def test_keys_verify_until_revoked(store: KeyStore) -> None:
    issued = store.create("acme")
    assert issued.token.startswith(f"mnm_{issued.info.key_id}_")
    assert store.verify(issued.token).tenant == "acme"
    assert store.revoke(issued.info.key_id).revoked
    with pytest.raises(Unauthenticated, match="invalid API key"):
        store.verify(issued.token)


def test_only_a_hash_is_stored(store: KeyStore) -> None:
    issued = store.create("acme")
    secret = issued.token.split("_", 2)[2]  # the secret itself may contain "_"
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())
    assert secret.encode() not in raw
    assert "token=<redacted>" in repr(issued)
    assert store.path.stat().st_mode & 0o077 == 0  # not readable by others


@pytest.mark.parametrize(
    "token", ["", "mnm", "mnm_", "mnm_zz_secret", "xyz_0123456789ab_secret", "mnm_0123456789ab_"]
)
def test_malformed_tokens(store: KeyStore, token: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed API key"):
        store.verify(token)


def test_bootstrap_issues_exactly_one_first_key(store: KeyStore) -> None:
    first = store.bootstrap("default")
    assert first is not None
    assert first.info.tenant == "default"
    assert store.bootstrap("default") is None
    store.revoke(first.info.key_id)
    assert store.bootstrap("default") is None  # revoking everything is not "first start"


def test_bad_tenant_names_are_refused(store: KeyStore) -> None:
    for tenant in ("", "has space", "-leading", "x" * 65):
        with pytest.raises(ValueError, match="invalid tenant name"):
            store.create(tenant)
    assert store.list_keys() == []


def test_embedded_authenticator_maps_keys_to_tenants(store: KeyStore) -> None:
    authenticator = EmbeddedAuthenticator(store)
    a, b = store.create("tenant-a"), store.create("tenant-b")
    assert asyncio.run(authenticator.authenticate(a.token)).tenant == "tenant-a"
    assert asyncio.run(authenticator.authenticate(b.token)).tenant == "tenant-b"


def test_cli_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "d")
    assert main(["keys", "create", "--tenant", "acme", "--data-dir", data]) == 0
    created = capsys.readouterr()
    token = created.out.strip()
    key_id = token.split("_")[1]
    assert "shown only once" in created.err

    assert main(["keys", "list", "--data-dir", data]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing
    assert "acme" in listing
    assert token.split("_", 2)[2] not in listing  # never the secret

    assert main(["keys", "revoke", key_id, "--data-dir", data]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "list", "--data-dir", data]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if key_id in line)
    assert not row.rstrip().endswith("-")  # the REVOKED column has a date

    store = KeyStore(Path(data) / "keys.db")
    with pytest.raises(Unauthenticated):
        store.verify(token)
    store.close()


def test_cli_errors_are_messages_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "d")
    assert main(["keys", "revoke", "0123456789ab", "--data-dir", data]) == 1
    assert capsys.readouterr().err.strip() == "minima keys: no key with id '0123456789ab'"
    assert main(["keys", "create", "--tenant", "bad name", "--data-dir", data]) == 2
    assert "invalid tenant name" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["keys", "list", "--data-dir", str(blocker)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_cli_entry_point_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "MINIMA_DATA_DIR": str(tmp_path)}
    created = subprocess.run(
        [sys.executable, "-m", "minima_grpc", "keys", "create"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = created.stdout.strip()
    store = KeyStore(tmp_path / "keys.db")
    assert store.verify(token).tenant == "default"
    store.close()


def test_revoking_an_unknown_id(store: KeyStore) -> None:
    with pytest.raises(KeyNotFoundError):
        store.revoke("0123456789ab")
