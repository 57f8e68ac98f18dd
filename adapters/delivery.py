"""One streaming delivery for every platform: a stream of Replies shown as chat messages.

A platform gives a Surface: where one answer is shown (a reply in a chat, an interaction's response, the
pressed message) with its few platform calls (send, edit, typing), its message limit, whether it can edit
at all, and how to read its errors (classify). Everything else happens here, the same everywhere:

1. Typing: while nothing is shown yet, "typing…" after `typing_after_s`, again every `typing_every_s`.
2. The first text goes out as soon as it comes: sent, or edited into `existing` (a press replaces the
   answer its buttons sit under).
3. Later texts are edits of that message, at most one per `edit_every_s`, and optional: one is skipped,
   never queued, when the chat's Budget has no slot left beyond the one kept for the final edit.
4. The final Reply waits out the interval and then must go out: its text split at the surface's limit
   (never truncated), the first piece into the message shown so far, the rest as new messages, the
   buttons on the last piece. A surface that cannot edit skips step 3 and sends the final text once.
5. Every send and edit goes through call(): a rate limit (429) is waited out as long as the platform asks
   and retried, never dropped, and holds back the chat's Budget meanwhile; a network error or 5xx is
   retried with backoff, a few times; anything else is raised to the handler.
6. deliver() returns what it showed (the final Reply, the ids of the messages showing it). The handler,
   not delivery, tells the bot which message now shows the answer (BotApp.sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeVar

from adapters.budget import Budget
from bot.types import Button, Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

Buttons = tuple[tuple[Button, ...], ...]
NETWORK_BACKOFF_S = (0.5, 1, 2, 4, 8)  # then give up: the network is down, not flaky
EDIT_EVERY_S = 1.0  # a streamed answer is edited into its message at most this often


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space near the end when there is one."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", limit * 3 // 4, limit), text.rfind(" ", limit * 3 // 4, limit))
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    return [*pieces, text] if text or not pieces else pieces


# -- retries -----------------------------------------------------------------------------------------
class Wait(NamedTuple):
    """classify()'s answer for a rate limit: wait this long, then retry (as often as it takes)."""

    seconds: float


TRANSIENT = "transient"  # classify()'s answer for a network error or a 5xx: retry with backoff
Verdict = Wait | Literal["transient"] | None  # None: not a failure retrying can fix; raise it
Classify = Callable[[Exception], Verdict]


async def call(fn: Callable[[], Awaitable[T]], *, what: str, classify: Classify,
               on_wait: Callable[[float], None] | None = None,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run one platform call until it succeeds or fails for good (see the module docstring, step 5)."""
    failures = 0
    while True:
        try:
            return await fn()
        except Exception as e:
            verdict = classify(e)
            if verdict is None:
                raise
            if isinstance(verdict, Wait):
                log.warning("%s: rate limited, retrying in %.1fs", what, verdict.seconds)
                if on_wait:
                    on_wait(verdict.seconds)
                await sleep(verdict.seconds)
                continue
            if failures >= len(NETWORK_BACKOFF_S):
                raise
            log.warning("%s: %s; retrying in %ss", what, str(e) or type(e).__name__, NETWORK_BACKOFF_S[failures])
            await sleep(NETWORK_BACKOFF_S[failures])
            failures += 1


# -- where an answer is shown --------------------------------------------------------------------------
class Surface:
    """Where one answer is shown: a platform's thin part of delivery. Subclasses override what they can do.

    `send` and `edit` make one platform call each (call() retries them); ids are strings everywhere.
    """

    limit: int = 2000  # characters per message
    can_edit: bool = True
    typing_after_s: float | None = None  # None: no typing indicator here
    typing_every_s: float = 5.0
    chat: Hashable = None  # what the Budget counts this chat's messages by

    @staticmethod
    def classify(e: Exception) -> Verdict:
        """This platform's reading of an error (see Verdict); by default nothing is retried."""
        return None

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        """A new message (the `first` one answers the question); return its id."""
        raise NotImplementedError

    async def edit(self, message_id: str, text: str, buttons: Buttons) -> None:
        """Replace the text and buttons of a message shown earlier (only when can_edit)."""
        raise NotImplementedError

    async def typing(self) -> None:
        """Show "typing…" once (only when typing_after_s is set)."""


@dataclass
class Delivered:
    """What deliver() showed."""

    final: Reply | None = None  # the stream's last Reply (None: nothing came)
    message_ids: list[str] = field(default_factory=list)  # the messages showing the final text, in order

    @property
    def record_id(self) -> str | None:
        """The answer record the final buttons refer to (None for notes, help, refusals)."""
        return self.final.record_id if self.final and self.message_ids else None

    @property
    def last_id(self) -> str | None:
        """The message carrying the buttons: the one a press on them names."""
        return self.message_ids[-1] if self.message_ids else None


@dataclass
class _Shown:
    """The message a stream is being shown in."""

    message_id: str | None
    text: str | None = None
    at: float = float("-inf")
    started: bool = False  # something of this stream is visible


class Delivery:
    """The streaming algorithm (module docstring); one per platform, shared by its chats."""

    def __init__(self, budget: Budget, *, edit_every_s: float = EDIT_EVERY_S,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.budget, self.edit_every_s, self.clock, self.sleep = budget, edit_every_s, clock, sleep

    async def deliver(self, surface: Surface, replies: AsyncIterator[Reply], *, existing: str | None = None,
                      on_first: Callable[[Reply | None], Awaitable[None]] | None = None) -> Delivered:
        """Show what `replies` streams on `surface`; `on_first` gets the first Reply (None if none came).

        A final Reply without text (a notice only) shows nothing: the handler decides where a notice goes.
        """
        shown, final = _Shown(existing), None
        typing = asyncio.create_task(self._typing(surface)) if surface.typing_after_s is not None else None
        try:
            async with contextlib.aclosing(replies) as stream:
                async for reply in stream:
                    if on_first:
                        await on_first(reply)
                        on_first = None
                    if reply.done:
                        final = reply
                    elif reply.text and surface.can_edit:
                        await self._progress(surface, shown, reply.text)
                        if typing and shown.started:
                            typing.cancel()  # the message itself now shows that the answer is coming
            if on_first:  # nothing came at all: still acknowledge (a press's spinner)
                await on_first(None)
            ids = await self._final(surface, shown, final) if final is not None and final.text else []
            return Delivered(final, ids)
        finally:
            if typing:
                typing.cancel()

    async def _progress(self, surface: Surface, shown: _Shown, text: str) -> None:
        text = split_text(text, surface.limit)[0]
        if not shown.started:
            await self.budget.wait(surface.chat)
            await self._show(surface, shown, text, ())
            return
        is_due = self.clock() - shown.at >= self.edit_every_s
        if text != shown.text and is_due and self.budget.try_take(surface.chat, reserve=1):
            await self._show(surface, shown, text, ())

    async def _final(self, surface: Surface, shown: _Shown, reply: Reply) -> list[str]:
        pieces = split_text(reply.text, surface.limit)
        ids: list[str] = []
        for n, piece in enumerate(pieces):
            buttons = reply.buttons if n == len(pieces) - 1 else ()
            if n == 0 and surface.can_edit and shown.message_id is not None:
                if shown.started and piece == shown.text and not buttons:
                    ids.append(shown.message_id)  # already showing exactly this
                    continue
                wait = self.edit_every_s - (self.clock() - shown.at)
                if wait > 0:
                    await self.sleep(wait)
                await self.budget.wait(surface.chat)
                await self._show(surface, shown, piece, buttons)
                ids.append(shown.message_id)
            else:
                await self.budget.wait(surface.chat)
                ids.append(await self._call(surface, "send", lambda p=piece, b=buttons, f=n == 0:
                                            surface.send(p, b, first=f)))
        return ids

    async def _show(self, surface: Surface, shown: _Shown, text: str, buttons: Buttons) -> None:
        """Send the stream's message, or edit it once it exists."""
        if shown.message_id is None:
            shown.message_id = await self._call(surface, "send", lambda: surface.send(text, buttons, first=True))
        else:
            message_id = shown.message_id
            await self._call(surface, "edit", lambda: surface.edit(message_id, text, buttons))
        shown.text, shown.at, shown.started = text, self.clock(), True

    def _call(self, surface: Surface, what: str, fn: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        return call(fn, what=f"{type(surface).__name__}.{what}", classify=surface.classify,
                    on_wait=lambda seconds: self.budget.block(surface.chat, seconds), sleep=self.sleep)

    async def _typing(self, surface: Surface) -> None:
        """Keep "typing…" showing while an answer is slow to come (real time: it is only cosmetic)."""
        await asyncio.sleep(surface.typing_after_s or 0)
        while True:
            try:
                await surface.typing()
            except Exception as e:  # cosmetic: never worth failing or retrying an answer for
                log.debug("typing indicator failed: %r", e)
            await asyncio.sleep(surface.typing_every_s)
