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

Timeouts, and why a send is never repeated blindly. A call that failed before the request was fully
written (connect, pool, write: classify says TRANSIENT) cannot have taken effect and is retried. A call
whose request went out whole but whose answer never came (a read timeout: classify says UNCONFIRMED) most
likely did take effect, and a second copy of an answer in the family chat is worse than not knowing its
message id. So:
- edits are idempotent (the same text again changes nothing; Telegram's "message is not modified" is
  success): an unconfirmed edit is retried like any transient failure;
- a send is retried after an unconfirmed attempt only where the platform itself drops the repeat
  (`Surface.repeatable_sends`: Discord, with a nonce per question and piece). Elsewhere (Telegram) the
  message counts as shown with an unknown id (None): streamed edits of it stop, the final text goes out as
  a new message (it cannot be edited in), and when the message carrying the buttons is the unknown one the
  handler tells the bot so (BotApp.sent with None), which then accepts presses on that record's buttons
  wherever they sit in that chat (the payload names the record; only the "is this the message showing it"
  check is lost). A reply to that message is not recognised as a follow-up: it is answered as a new question.
The price: a send whose request went out but which Telegram did drop is lost rather than repeated. A
dropped connection (no timeout) is resent: aiohttp reports it the same way for a stale keep-alive
connection, where nothing was delivered, and that is the common case.
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
# classify()'s answer for a request that went out whole and got no answer (a read timeout): it most likely
# took effect. Retried like TRANSIENT when repeating it is harmless, else raised as Unconfirmed.
UNCONFIRMED = "unconfirmed"
Verdict = Wait | Literal["transient", "unconfirmed"] | None  # None: not a failure retrying can fix; raise it
Classify = Callable[[Exception], Verdict]


class Unconfirmed(Exception):
    """A call that must not be repeated went out but got no answer: it most likely took effect."""


async def call(fn: Callable[[], Awaitable[T]], *, what: str, classify: Classify,
               on_wait: Callable[[float], None] | None = None,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, repeatable: bool = True) -> T:
    """Run one platform call until it succeeds or fails for good (see the module docstring, step 5).

    `repeatable`: doing the call twice is harmless (an edit, or a send the platform deduplicates). When it
    is not, an UNCONFIRMED failure raises Unconfirmed instead of trying again (module docstring, Timeouts).
    """
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
            if verdict == UNCONFIRMED and not repeatable:
                raise Unconfirmed(f"{what}: no answer after the request went out ({type(e).__name__})") from e
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
    # The platform drops a repeated send itself (Discord's nonce), so an unconfirmed send may be tried again.
    repeatable_sends: bool = False

    @staticmethod
    def classify(e: Exception) -> Verdict:
        """This platform's reading of an error (see Verdict); by default nothing is retried."""
        return None

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        """A new message (the `first` one answers the question); return its id.

        Every try of one send is a call of this method: a surface that makes repeats harmless (a nonce)
        keeps the same key until one succeeds."""
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
    # The messages showing the final text, in order; None for one sent whose id never came back (Timeouts).
    message_ids: list[str | None] = field(default_factory=list)

    @property
    def record_id(self) -> str | None:
        """The answer record the final buttons refer to (None for notes, help, refusals)."""
        return self.final.record_id if self.final and self.message_ids else None

    @property
    def last_id(self) -> str | None:
        """The message carrying the buttons: the one a press on them names (None: shown, id unknown)."""
        return self.message_ids[-1] if self.message_ids else None


@dataclass
class _Shown:
    """The message a stream is being shown in."""

    message_id: str | None  # None: nothing sent yet, or sent with an unknown id (then `started`)
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
        if shown.message_id is None:  # sent, but its id never came back: nothing to edit until the final
            return
        is_due = self.clock() - shown.at >= self.edit_every_s
        if text != shown.text and is_due and self.budget.try_take(surface.chat, reserve=1):
            await self._show(surface, shown, text, ())

    async def _final(self, surface: Surface, shown: _Shown, reply: Reply) -> list[str]:
        pieces = split_text(reply.text, surface.limit)
        ids: list[str | None] = []
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
                # The first piece answers the question even after an unconfirmed streamed message: the
                # final text stands in for it (a new message, as the unknown one cannot be edited).
                await self.budget.wait(surface.chat)
                ids.append(await self._send(surface, piece, buttons, first=n == 0))
        return ids

    async def _show(self, surface: Surface, shown: _Shown, text: str, buttons: Buttons) -> None:
        """Send the stream's message, or edit it once it exists."""
        if shown.message_id is None:
            shown.message_id = await self._send(surface, text, buttons, first=True)
        else:
            message_id = shown.message_id
            await self._call(surface, "edit", lambda: surface.edit(message_id, text, buttons))
        shown.text, shown.at, shown.started = text, self.clock(), True

    async def _send(self, surface: Surface, text: str, buttons: Buttons, *, first: bool) -> str | None:
        """A new message; None when it went out but its id never came back (module docstring, Timeouts)."""
        try:
            return await self._call(surface, "send", lambda: surface.send(text, buttons, first=first),
                                    repeatable=surface.repeatable_sends)
        except Unconfirmed as e:
            log.warning("%s; counted as sent (its message id is unknown), not sent again", e)
            return None

    def _call(self, surface: Surface, what: str, fn: Callable[[], Awaitable[T]], *,
              repeatable: bool = True) -> Awaitable[T]:
        return call(fn, what=f"{type(surface).__name__}.{what}", classify=surface.classify,
                    on_wait=lambda seconds: self.budget.block(surface.chat, seconds), sleep=self.sleep,
                    repeatable=repeatable)

    async def _typing(self, surface: Surface) -> None:
        """Keep "typing…" showing while an answer is slow to come (real time: it is only cosmetic)."""
        await asyncio.sleep(surface.typing_after_s or 0)
        while True:
            try:
                await surface.typing()
            except Exception as e:  # cosmetic: never worth failing or retrying an answer for
                log.debug("typing indicator failed: %r", e)
            await asyncio.sleep(surface.typing_every_s)
