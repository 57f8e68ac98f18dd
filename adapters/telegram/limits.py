"""Telegram's flood limits and retries: a send budget per bot and per group, and a retrying call wrapper."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
T = TypeVar("T")

NETWORK_BACKOFF_S = (0.5, 1, 2, 4, 8)  # then give up: the network is down, not flaky


def retry_after_seconds(e: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB 22 returns int or timedelta depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = e.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def call(
    fn: Callable[[], Awaitable[T]],
    *,
    what: str = "request",
    on_retry_after: Callable[[float], None] | None = None,
) -> T:
    """Run one Bot API call: wait out every 429 and retry (never drop), retry network errors with backoff."""
    failures = 0
    while True:
        try:
            return await fn()
        except RetryAfter as e:
            wait = retry_after_seconds(e)
            log.warning("%s: flood control, retrying in %.1fs", what, wait)
            if on_retry_after:
                on_retry_after(wait)
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden, InvalidToken):
            raise  # our request or our access is wrong: retrying cannot help
        except NetworkError as e:  # includes TimedOut
            if failures >= len(NETWORK_BACKOFF_S):
                raise
            log.warning("%s: %s; retrying in %ss", what, e, NETWORK_BACKOFF_S[failures])
            await asyncio.sleep(NETWORK_BACKOFF_S[failures])
            failures += 1


class Budget:
    """Sliding one-second and one-minute windows: about 30 messages/s per bot, 20 a minute per group.

    `wait()` is for messages that must go out (the first and the final one); `try_take()` is for
    optional intermediate edits, which are skipped rather than queued when the budget is short. Edits
    count like messages: Telegram counts them against the same limits.
    """

    def __init__(
        self, per_second: int = 30, group_per_minute: int = 20, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second, self.group_per_minute, self.clock = per_second, group_per_minute, clock
        self._all: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self._blocked_until: dict[int | None, float] = {}

    def _window(self, chat_id: int) -> deque[float] | None:
        return self._groups.setdefault(chat_id, deque()) if chat_id < 0 else None  # groups have ids < 0

    def delay(self, chat_id: int, reserve: int = 0) -> float:
        """Seconds until one more message to `chat_id` fits (keeping `reserve` group slots free)."""
        now = self.clock()
        while self._all and now - self._all[0] >= 1:
            self._all.popleft()
        wait = max(0.0, self._blocked_until.get(chat_id, 0) - now, self._blocked_until.get(None, 0) - now)
        if len(self._all) >= self.per_second:
            wait = max(wait, 1 - (now - self._all[0]))
        window = self._window(chat_id)
        if window is not None:
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) + reserve >= self.group_per_minute:
                wait = max(wait, 60 - (now - window[len(window) - self.group_per_minute + reserve]))
        return wait

    def take(self, chat_id: int) -> None:
        now = self.clock()
        self._all.append(now)
        window = self._window(chat_id)
        if window is not None:
            window.append(now)

    def try_take(self, chat_id: int, reserve: int = 1) -> bool:
        """Take a slot now if one is free beyond `reserve` (kept for the mandatory final edit)."""
        if self.delay(chat_id, reserve) > 0:
            return False
        self.take(chat_id)
        return True

    async def wait(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` fits, then count it."""
        while (delay := self.delay(chat_id)) > 0:
            await asyncio.sleep(delay)
        self.take(chat_id)

    def block(self, chat_id: int | None, seconds: float) -> None:
        """After a 429: hold back every send to that chat (None: to every chat) for `seconds`."""
        self._blocked_until[chat_id] = max(self._blocked_until.get(chat_id, 0), self.clock() + seconds)

    def forget_idle(self) -> None:
        """Drop windows of groups quiet for a minute (keeps memory flat over many groups)."""
        now = self.clock()
        for chat_id in [c for c, w in self._groups.items() if not w or now - w[-1] >= 60]:
            del self._groups[chat_id]
