"""Pass-through auth for the Mubit backend: the caller's Mubit key is the credential.

There is no Minima key: the bearer is forwarded to Mubit on every memory
call, so Mubit is the judge. The first time a key is seen it is checked
with one cheap authenticated call (a keyed lookup that matches nothing),
so a key Mubit rejects gets 401 on every RPC, including the ones that never
touch memory (ListModels). Verdicts are cached by the key's fingerprint:
accepted keys for `ACCEPT_TTL_S`, rejected ones for `REJECT_TTL_S` (which
keeps a stream of bad keys from hammering Mubit). When Mubit cannot answer,
the key is let through uncached: the memory calls that follow reach the same
Mubit and degrade (prior-only) or reject as they must, and the service stays
up while Mubit is down.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from minima_grpc.auth.protocol import Principal
from minima_grpc.config import Config
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.types import Scope
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.keys import fingerprint, is_mubit_key, tenant_for_key
from minima_grpc.memory.mubit.lru import Lru
from minima_grpc.memory.mubit.recstore import RUN_ID
from minima_grpc.memory.mubit.settings import MubitSettings

_log = logging.getLogger(__name__)

ACCEPT_TTL_S = 300.0
REJECT_TTL_S = 30.0
VERDICT_CAPACITY = 4096


@dataclass(frozen=True, slots=True)
class _Verdict:
    accepted: bool
    until: float


class MubitPassthroughAuthenticator:
    """`Authenticator` whose keys are Mubit's: shape check, then Mubit's verdict."""

    def __init__(self, connector: MubitConnector) -> None:
        self._mubit = connector
        self._verdicts: Lru[str, _Verdict] = Lru(VERDICT_CAPACITY)

    async def authenticate(self, token: str) -> Principal:
        if not is_mubit_key(token):
            raise Unauthenticated("expected a Mubit API key (mbt_...) as the bearer token")
        principal = Principal(tenant=tenant_for_key(token), api_key=token)
        name = fingerprint(token)
        verdict = self._verdicts.get(name)
        now = time.monotonic()
        if verdict is None or verdict.until <= now:
            verdict = await self._ask_mubit(principal, now)
            if verdict is None:
                return principal
            self._verdicts.put(name, verdict)
        if not verdict.accepted:
            raise Unauthenticated("the Mubit API key was rejected")
        return principal

    async def _ask_mubit(self, principal: Principal, now: float) -> _Verdict | None:
        """Mubit's verdict on the key, or None when Mubit could not give one."""
        scope = Scope(tenant=principal.tenant, api_key=principal.api_key)

        def check(client: Any) -> Any:
            return client.lookup(session_id=RUN_ID, match=[{"kind": "minima_key_check"}], limit=1)

        try:
            await self._mubit.call(scope, "key_check", check, inline=True)
        except Unauthenticated:
            return _Verdict(accepted=False, until=now + REJECT_TTL_S)
        except Exception as exc:
            _log.warning("could not verify a Mubit key, letting it through: %s", exc)
            return None
        return _Verdict(accepted=True, until=now + ACCEPT_TTL_S)

    async def close(self) -> None:
        await self._mubit.close()


def build_passthrough_authenticator(config: Config) -> MubitPassthroughAuthenticator:
    """The authenticator for `MINIMA_MEMORY=mubit`, with its own small worker pool."""
    settings = replace(MubitSettings.from_config(config), max_workers=4)
    return MubitPassthroughAuthenticator(MubitConnector(settings))
