"""Pass-through auth: the caller's Mubit key is the credential and Mubit is the judge."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from minima_grpc.auth import build_authenticator
from minima_grpc.auth.mubit_passthrough import MubitPassthroughAuthenticator
from minima_grpc.config import Config
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.settings import MubitSettings
from tests.fake_mubit import FakeKeys, FakeMubit

SettingsFactory = Callable[..., MubitSettings]


@pytest.fixture
async def authenticator(
    make_settings: SettingsFactory,
) -> AsyncIterator[MubitPassthroughAuthenticator]:
    auth = MubitPassthroughAuthenticator(MubitConnector(make_settings()))
    yield auth
    await auth.close()


async def test_a_key_mubit_accepts_yields_its_org_and_forwards_the_key(
    authenticator: MubitPassthroughAuthenticator, keys: FakeKeys, fake_mubit: FakeMubit
) -> None:
    principal = await authenticator.authenticate(keys.main)
    assert (principal.tenant, principal.api_key) == ("acme", keys.main)
    assert keys.main not in repr(principal)
    other = await authenticator.authenticate(keys.other_org)
    assert other.tenant == "globex"
    assert {r.headers["authorization"] for r in fake_mubit.requests()} == {
        f"Bearer {keys.main}",
        f"Bearer {keys.other_org}",
    }


@pytest.mark.parametrize(
    "token", ["", "mnm_abc_def", "Bearer mbt_acme_k1_s", "mbt_", "mbt_acme k1", "sk-123"]
)
async def test_malformed_tokens_are_rejected_without_asking_mubit(
    authenticator: MubitPassthroughAuthenticator, fake_mubit: FakeMubit, token: str
) -> None:
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(token)
    assert fake_mubit.requests() == []


async def test_a_key_mubit_rejects_is_unauthenticated_and_remembered(
    authenticator: MubitPassthroughAuthenticator, keys: FakeKeys, fake_mubit: FakeMubit
) -> None:
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate(keys.unknown)
    # One check, then the cached verdict: bad keys do not hammer Mubit.
    assert len(fake_mubit.requests()) == 1


async def test_accepted_keys_are_checked_once(
    authenticator: MubitPassthroughAuthenticator, keys: FakeKeys, fake_mubit: FakeMubit
) -> None:
    for _ in range(5):
        await authenticator.authenticate(keys.main)
    assert len(fake_mubit.requests()) == 1


async def test_when_mubit_cannot_judge_the_key_is_let_through_uncached(
    authenticator: MubitPassthroughAuthenticator, keys: FakeKeys, fake_mubit: FakeMubit
) -> None:
    fake_mubit.inject("/v2/core/lookup", status=503, times=1)
    principal = await authenticator.authenticate(keys.unknown)
    assert principal.tenant == "acme"
    # Mubit is back: the next call gets the real verdict.
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(keys.unknown)


async def test_mubit_down_does_not_lock_callers_out(
    make_settings: SettingsFactory, keys: FakeKeys
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = MubitPassthroughAuthenticator(
        MubitConnector(make_settings(endpoint=f"http://127.0.0.1:{port}"))
    )
    try:
        assert (await auth.authenticate(keys.main)).api_key == keys.main
    finally:
        await auth.close()


async def test_the_factory_picks_pass_through_for_the_mubit_backend(
    fake_mubit: FakeMubit, keys: FakeKeys, tmp_path: Path
) -> None:
    config = Config(
        data_dir=tmp_path,
        memory="mubit",
        mubit_endpoint=fake_mubit.url,
        mubit_transport="http",
    )
    auth = build_authenticator(config)
    try:
        assert isinstance(auth, MubitPassthroughAuthenticator)
        assert (await auth.authenticate(keys.main)).tenant == "acme"
        with pytest.raises(Unauthenticated):
            await auth.authenticate(keys.unknown)
    finally:
        await auth.close()
