"""Show a stream of Replies on Discord: one message sent then edited in place (throttled per channel), split
at 2000 characters, buttons on the last piece, rate limits waited out and retried, never dropped.

Where the text goes is a Surface: a channel message replying to a mention, or an interaction's response
(slash command, context menu, button press). Delivery only streams; surfaces know how to send and edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import aiohttp
import discord

from adapters.delivery import split_text
from bot.app import BotApp
from bot.types import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CHARS = 2000  # Discord's limit for a message's content
WINDOW_S = 5.0  # the budget counts sends and edits per channel over this window
EDIT_EVERY_S = 1.0  # a streamed answer is edited into its message at most this often
NETWORK_BACKOFF_S = (0.5, 1, 2, 4)  # then give up: the network is down, not flaky


def retry_after(e: discord.HTTPException) -> float:
    """The wait a 429 asks for: the JSON body's retry_after, else the Retry-After header, else 1 s."""
    if isinstance(e, discord.RateLimited):
        return float(e.retry_after)
    with contextlib.suppress(AttributeError, TypeError, ValueError):
        return float(e.response.headers["Retry-After"])
    return 1.0


async def call(fn: Callable[[], Awaitable[T]], *, what: str) -> T:
    """One Discord call: wait out every 429 and retry (discord.py gives up after 5), retry network errors."""
    failures = 0
    while True:
        try:
            return await fn()
        except discord.HTTPException as e:
            if not (isinstance(e, discord.RateLimited) or e.status == 429):
                if not isinstance(e, discord.DiscordServerError) or failures >= len(NETWORK_BACKOFF_S):
                    raise
                wait = NETWORK_BACKOFF_S[failures]
                failures += 1
            else:
                wait = retry_after(e)
            log.warning("%s: %s; retrying in %.1fs", what, _short(e), wait)
            await asyncio.sleep(wait)
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as e:
            if failures >= len(NETWORK_BACKOFF_S):
                raise
            log.warning("%s: %r; retrying in %ss", what, e, NETWORK_BACKOFF_S[failures])
            await asyncio.sleep(NETWORK_BACKOFF_S[failures])
            failures += 1


def _short(e: discord.HTTPException) -> str:
    return "rate limited" if getattr(e, "status", 0) == 429 or isinstance(e, discord.RateLimited) else str(e)


class Budget:
    """Sends plus edits per channel in a sliding window (Discord allows about 5 per 5 s per channel)."""

    def __init__(self, per_window: int, window_s: float = WINDOW_S) -> None:
        self.per_window, self.window_s = per_window, window_s
        self._spent: dict[int, deque[float]] = defaultdict(deque)

    def _free(self, channel: int) -> int:
        spent, now = self._spent[channel], time.monotonic()
        while spent and now - spent[0] >= self.window_s:
            spent.popleft()
        return self.per_window - len(spent)

    def try_take(self, channel: int, reserve: int = 0) -> bool:
        """Take a slot now if more than `reserve` are free (optional edits leave room for the final one)."""
        if self._free(channel) > reserve:
            self._spent[channel].append(time.monotonic())
            return True
        return False

    async def wait(self, channel: int) -> None:
        """Take a slot, waiting for one to free up."""
        while not self.try_take(channel):
            await asyncio.sleep(max(0.05, self.window_s - (time.monotonic() - self._spent[channel][0])))


class Surface(Protocol):
    """Where one answer is shown: the first show() sends (or responds), later ones edit that message."""

    channel_id: int

    async def show(self, text: str, view: discord.ui.View | None) -> str:
        """Send or edit the answer's message; return its id."""

    async def extra(self, text: str, view: discord.ui.View | None) -> str:
        """Send one more message after it (the rest of a long answer); return its id."""


class Delivery:
    def __init__(
        self,
        app: BotApp,
        budget: Budget,
        make_view: Callable[[Reply], discord.ui.View | None],
        *,
        edit_every_s: float = EDIT_EVERY_S,
    ) -> None:
        self.app, self.budget, self.make_view, self.edit_every_s = app, budget, make_view, edit_every_s

    async def deliver(
        self,
        surface: Surface,
        replies: AsyncIterator[Reply],
        *,
        chat: str,
        on_shown: Callable[[], None] | None = None,
    ) -> Reply | None:
        """Show what `replies` streams on `surface`; return the final Reply (None when nothing came).

        A final Reply with empty text (a notice only) is returned without showing anything: the caller
        decides where a notice goes. `on_shown` runs once the first text is visible (stops typing).
        """
        shown = _Shown()
        final: Reply | None = None
        async with contextlib.aclosing(replies) as stream:
            async for reply in stream:
                if reply.done:
                    final = reply
                elif reply.text:
                    await self._progress(surface, shown, reply.text)
                    if on_shown:
                        on_shown()
                        on_shown = None
        if final is not None and final.text:
            await self._final(surface, shown, final, chat)
        return final

    async def _progress(self, surface: Surface, shown: _Shown, text: str) -> None:
        text = split_text(text, MAX_CHARS)[0]
        if shown.message_id is None:
            await self.budget.wait(surface.channel_id)
            shown.message_id = await surface.show(text, None)
            shown.text, shown.at = text, time.monotonic()
            return
        is_due = time.monotonic() - shown.at >= self.edit_every_s
        # Streamed edits are optional: skipped (never queued) when the channel's budget is short, keeping
        # one slot free for the final edit.
        if text != shown.text and is_due and self.budget.try_take(surface.channel_id, reserve=1):
            await surface.show(text, None)
            shown.text, shown.at = text, time.monotonic()

    async def _final(self, surface: Surface, shown: _Shown, reply: Reply, chat: str) -> None:
        pieces = split_text(reply.text, MAX_CHARS)
        view = self.make_view(reply)
        last_id = ""
        for n, piece in enumerate(pieces):
            piece_view = view if n == len(pieces) - 1 else None
            await self.budget.wait(surface.channel_id)
            if n == 0:
                last_id = shown.message_id = await surface.show(piece, piece_view)
            else:
                last_id = await surface.extra(piece, piece_view)
        if reply.record_id and last_id:
            await self.app.sent(reply.record_id, chat, last_id)


class _Shown:
    """The message a stream is being edited into."""

    def __init__(self) -> None:
        self.message_id: str | None = None
        self.text: str | None = None
        self.at = float("-inf")
