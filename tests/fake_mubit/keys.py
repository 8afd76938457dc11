"""API keys the tests hand to the fake Mubit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakeKeys:
    """Two keys of org `acme`, one of org `globex`, and one Mubit does not know."""

    main: str = "mbt_acme_k1_secret1"
    same_org: str = "mbt_acme_k2_secret2"
    other_org: str = "mbt_globex_k1_secret3"
    unknown: str = "mbt_acme_k9_revoked"

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.main, self.same_org, self.other_org)
