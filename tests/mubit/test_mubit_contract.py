"""The shared memory contract (tests/memory/test_contract.py), run against the Mubit backend.

The tests are imported, not copied: collected here, they get this directory's
`memory_backend` fixture (tests/mubit/conftest.py), so every contract test
written for the embedded backend also holds for the Mubit one.
"""

from __future__ import annotations

from tests.memory.test_contract import *  # noqa: F403
