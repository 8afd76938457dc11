"""A thread-safe, size-bounded least-recently-used map."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """Holds at most `capacity` items; `on_evict` sees each value pushed out."""

    def __init__(self, capacity: int, on_evict: Callable[[V], None] | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._on_evict = on_evict
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        """The value for `key`, made by `create` (under the lock) when missing."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                return value
            value = create()
            evicted = self._insert(key, value)
        self._evict(evicted)
        return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            evicted = self._insert(key, value)
        self._evict(evicted)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)

    def drain(self) -> list[V]:
        """Remove and return every value."""
        with self._lock:
            values = list(self._items.values())
            self._items.clear()
        return values

    def remove_if(self, doomed: Callable[[V], bool]) -> int:
        """Drop every value `doomed` says so; return how many."""
        with self._lock:
            keys = [k for k, v in self._items.items() if doomed(v)]
            for k in keys:
                del self._items[k]
        return len(keys)

    def _insert(self, key: K, value: V) -> list[V]:
        self._items[key] = value
        self._items.move_to_end(key)
        evicted: list[V] = []
        while len(self._items) > self._capacity:
            evicted.append(self._items.popitem(last=False)[1])
        return evicted

    def _evict(self, values: list[V]) -> None:
        if self._on_evict is not None:
            for value in values:
                self._on_evict(value)
