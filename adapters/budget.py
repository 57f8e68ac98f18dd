"""How many messages a bot may send: sliding windows, each counting per bucket (a chat, or the whole bot).

A platform describes its limits as Windows (Telegram: about 30 a second per bot and 20 a minute per group;
Discord: about 5 per 5 seconds per channel); edits count like messages. `wait()` is for messages that must
go out (the first and the final one), `try_take()` for optional intermediate edits, which are skipped
rather than queued when the budget is short; `block()` holds a chat back after a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

ALL = "all"  # the bucket of a window that counts every message of the bot


@dataclass(frozen=True)
class Window:
    """At most `limit` messages per `seconds` in each bucket; `bucket(chat)` names a chat's (None: uncounted)."""

    limit: int
    seconds: float
    bucket: Callable[[Hashable], Hashable | None]


class Budget:
    def __init__(self, *windows: Window, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.windows, self.clock, self.sleep = windows, clock, sleep
        self._spent: list[dict[Hashable, deque[float]]] = [{} for _ in windows]
        self._blocked_until: dict[Hashable, float] = {}
        self._longest = max((w.seconds for w in windows), default=0.0)
        self._swept_at = clock()

    def delay(self, chat: Hashable, reserve: int = 0) -> float:
        """Seconds until one more message to `chat` fits while keeping `reserve` slots free in each window."""
        now = self.clock()
        until = self._blocked_until.get(chat)
        wait = 0.0
        if until is not None:
            if until <= now:
                del self._blocked_until[chat]
            else:
                wait = until - now
        for window, spent in zip(self.windows, self._spent, strict=True):
            bucket = window.bucket(chat)
            times = spent.get(bucket) if bucket is not None else None
            if times is None:
                continue
            while times and now - times[0] >= window.seconds:
                times.popleft()
            if not times:
                del spent[bucket]
                continue
            if len(times) + reserve >= window.limit:
                oldest_to_expire = len(times) - window.limit + reserve
                frees_at = times[oldest_to_expire] + window.seconds if oldest_to_expire < len(times) else None
                wait = max(wait, frees_at - now if frees_at is not None else window.seconds)
        return wait

    def take(self, chat: Hashable) -> None:
        """Count one message to `chat`."""
        now = self.clock()
        for window, spent in zip(self.windows, self._spent, strict=True):
            bucket = window.bucket(chat)
            if bucket is not None:
                spent.setdefault(bucket, deque()).append(now)
        if now - self._swept_at >= self._longest:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Forget chats quiet for a whole window: memory stays flat however many chats the bot ever saw."""
        self._swept_at = now
        for window, spent in zip(self.windows, self._spent, strict=True):
            for bucket in [b for b, times in spent.items() if now - times[-1] >= window.seconds]:
                del spent[bucket]
        for chat in [c for c, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[chat]

    def try_take(self, chat: Hashable, reserve: int = 1) -> bool:
        """Count a message now if a slot is free beyond `reserve` (kept for the mandatory final edit)."""
        if self.delay(chat, reserve) > 0:
            return False
        self.take(chat)
        return True

    async def wait(self, chat: Hashable) -> None:
        """Wait until a message to `chat` fits, then count it."""
        while (delay := self.delay(chat)) > 0:
            await self.sleep(delay)
        self.take(chat)

    def block(self, chat: Hashable, seconds: float) -> None:
        """After a 429: hold back every message to `chat` for `seconds`."""
        self._blocked_until[chat] = max(self._blocked_until.get(chat, 0.0), self.clock() + seconds)
