"""Answers generated ahead for the styles nobody asked for yet, kept for a few minutes.

A prefetched answer is handed out at most once. Unused ones are cancelled (if still generating) and
dropped when they expire or when the store is full.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from engine.generation.run import LLMRun


class PrefetchStore:
    def __init__(self, ttl_s: float, max_entries: int = 512, clock: Callable[[], float] = time.monotonic):
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[LLMRun, float]] = OrderedDict()

    def __len__(self) -> int:
        self.sweep()
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        self.sweep()
        return key in self._entries

    def put(self, key: Hashable, run: LLMRun) -> None:
        self.sweep()
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (run, self.clock() + self.ttl_s)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def take(self, key: Hashable) -> LLMRun | None:
        """The run stored under key (removed from the store), unless it expired or failed."""
        self.sweep()
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        run = entry[0]
        return None if run.done and run.failure else run

    def sweep(self) -> None:
        now = self.clock()
        for key in [k for k, (_, expires) in self._entries.items() if expires <= now]:
            self._drop(key)

    def clear(self) -> None:
        for key in list(self._entries):
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        run, _ = self._entries.pop(key)
        if not run.done:
            run.cancel()
