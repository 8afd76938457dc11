"""A fake Mubit server for tests: the real mubit-sdk talks to it over loopback HTTP."""

from __future__ import annotations

from .keys import FakeKeys
from .server import FakeMubit, Fault, RecordedRequest
from .store import Entry, Instance

__all__ = ["Entry", "FakeKeys", "FakeMubit", "Fault", "Instance", "RecordedRequest"]
