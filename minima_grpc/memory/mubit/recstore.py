"""RecommendationStore for the Mubit backend: pending recommendations live in Mubit.

Why Mubit and not a signed id or a shared database: with pass-through auth
the caller's key is the data boundary, and Mubit is already the one store
every replica shares. Keeping the pending record there lets any replica join
a feedback to its recommendation, keeps one tenant's task texts inside that
tenant's own Mubit instance, and needs no extra infrastructure or shared
secret. A self-contained signed id would carry the whole task text (ids of
kilobytes) and still need shared state for idempotency; a shared database
is another server to run and a second copy of every tenant's data.

Layout: one tenant-wide run (`RUN_ID`), apart from every `minima:<ns>` lane
so these records never show up in recall. The pending record is written
with `batch_insert` (synchronous, one round trip on the recommend path,
deduplicated by item id); feedback claims are local (see `claim_feedback`).
A bounded local copy of each pending record serves feedback that lands on
the replica that made the recommendation without a round trip, and keeps
that case working when Mubit was unreachable at recommend time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from minima_grpc.engine.types import Scope
from minima_grpc.memory.mubit.codec import decode_json_object
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.errors import bad_response
from minima_grpc.memory.mubit.keys import fingerprint
from minima_grpc.memory.mubit.lru import Lru
from minima_grpc.memory.pending_codec import decode_pending, encode_pending, parse_timestamp
from minima_grpc.memory.protocol import PendingRecommendation

_log = logging.getLogger(__name__)

RUN_ID = "minima-recstore"
PENDING_KIND = "minima_pending"
LOCAL_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class _Held:
    """A pending recommendation and when it stops being joinable."""

    pending: PendingRecommendation
    expires_at: datetime

    def live(self) -> bool:
        return self.expires_at > datetime.now(UTC)


def _claim_name(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


def _lookup_one(answer: object, operation: str) -> dict[str, Any] | None:
    """Metadata of the first hit of a keyed lookup (a bare JSON array)."""
    if not isinstance(answer, list):
        raise bad_response(operation, "lookup answer is not a list")
    for hit in answer:
        if isinstance(hit, dict):
            metadata = decode_json_object(hit.get("metadata"))
            if metadata is not None:
                return metadata
    return None


class MubitRecommendationStore:
    """`RecommendationStore` shared by every replica through Mubit."""

    def __init__(self, connector: MubitConnector) -> None:
        self._mubit = connector
        self._ttl = connector.settings.pending_ttl
        self._pending: Lru[tuple[str, str], _Held] = Lru(LOCAL_CAPACITY)
        self._claims: Lru[tuple[str, str], bool] = Lru(LOCAL_CAPACITY)

    @staticmethod
    def _slot(scope: Scope, name: str) -> tuple[str, str]:
        # Local copies are per key, not per tenant: a key Mubit would reject
        # must not read what another key of the same org left here.
        return (fingerprint(scope.api_key or ""), name)

    async def put(self, scope: Scope, pending: PendingRecommendation) -> None:
        """Keep locally, then write to Mubit; a Mubit failure only costs other
        replicas the ability to join this feedback (logged, never raised).
        The TTL runs from now, and travels with the record."""
        held = _Held(pending, datetime.now(UTC) + self._ttl)
        self._pending.put(self._slot(scope, pending.recommendation_id), held)
        payload = {
            "run_id": RUN_ID,
            "deduplicate": True,
            "items": [
                {
                    "item_id": f"rec-{pending.recommendation_id}",
                    "text": f"minima recommendation {pending.recommendation_id}",
                    "metadata_json": json.dumps(
                        {
                            "kind": PENDING_KIND,
                            "recommendation_id": pending.recommendation_id,
                            "expires_at": held.expires_at.isoformat(),
                            "pending": encode_pending(pending),
                        }
                    ),
                    "source": "system",
                    "embedding": [],
                    "env_tags": [],
                }
            ],
        }

        def insert(client: Any) -> Any:
            return client.raw.invoke("control.batch_insert", payload)

        try:
            answer = await self._mubit.call(scope, "put_recommendation", insert, inline=True)
        except Exception as exc:
            problem = str(exc)
        else:
            problem = "" if isinstance(answer, dict) and answer.get("success") else "not confirmed"
        if problem:
            _log.warning(
                "recommendation %s kept on this replica only: %s",
                pending.recommendation_id,
                problem,
            )

    async def get(self, scope: Scope, recommendation_id: str) -> PendingRecommendation | None:
        local = self._pending.get(self._slot(scope, recommendation_id))
        if local is not None:
            return local.pending if local.live() else None

        def find(client: Any) -> Any:
            return client.lookup(
                session_id=RUN_ID,
                match=[{"kind": PENDING_KIND, "recommendation_id": recommendation_id}],
                limit=1,
            )

        metadata = _lookup_one(
            await self._mubit.call(scope, "get_recommendation", find, inline=True),
            "get_recommendation",
        )
        if metadata is None:
            return None
        pending = decode_pending(metadata.get("pending"))
        expires_at = parse_timestamp(metadata.get("expires_at"))
        if pending is None or expires_at is None or pending.recommendation_id != recommendation_id:
            return None
        return pending if _Held(pending, expires_at).live() else None

    async def claim_feedback(self, scope: Scope, idempotency_key: str) -> bool:
        """Atomic within this replica (the event loop runs it without a suspension).

        Across replicas a duplicate is not detected here but made harmless in
        Mubit: the outcome entry is upserted on a key derived from the same
        idempotency key and the reinforcement carries it too, so a replay on
        another replica (or after a restart) updates in place and credits
        nothing twice. A claim marker kept in Mubit could not be trusted: if
        the write it guards failed while Mubit was down, its release would fail
        too and the caller's retry would be dropped as a duplicate.
        """
        slot = self._slot(scope, _claim_name(idempotency_key))
        if self._claims.get(slot):
            return False
        self._claims.put(slot, True)
        return True

    async def release_feedback(self, scope: Scope, idempotency_key: str) -> None:
        self._claims.pop(self._slot(scope, _claim_name(idempotency_key)))

    async def purge_expired(self) -> int:
        """Drop expired local copies. Records in Mubit are ignored once expired
        (checked on read); purging them needs each tenant's key, which is never
        stored, so their retention is the Mubit instance's."""
        return self._pending.remove_if(lambda held: not held.live())
