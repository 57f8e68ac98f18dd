"""Showing a stream of Replies on a surface that cannot edit: the final text once, split at its limit.

A stand-in with the interface of the shared delivery layer (adapters.delivery: `deliver(surface, replies)`
returning `Delivered`), for surfaces with `can_edit = False`, until that layer is on main; then the handlers
use it instead and this file goes. Intermediate Replies (a streamed answer growing) are not shown: only the
final one is, each piece through `call()`, which retries what the surface classifies as transient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.delivery import split_text
from bot.types import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_S = (0.5, 1, 2, 4, 8)  # then give up (about 15 s: a client normally reconnects within 5)


@dataclass
class Delivered:
    """What deliver() showed."""

    final: Reply | None = None  # the stream's last Reply (None: nothing came)
    message_ids: list[str] = field(default_factory=list)  # the messages showing the final text, in order

    @property
    def record_id(self) -> str | None:
        return self.final.record_id if self.final and self.message_ids else None

    @property
    def last_id(self) -> str | None:
        """The message the buttons belong to."""
        return self.message_ids[-1] if self.message_ids else None


async def call(fn: Callable[[], Awaitable[T]], *, what: str, classify: Callable[[Exception], Any],
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run one platform call, retrying with backoff while `classify` calls its failure transient."""
    for delay in (*BACKOFF_S, None):
        try:
            return await fn()
        except Exception as e:
            if delay is None or classify(e) is None:
                raise
            log.warning("%s: %s; retrying in %ss", what, str(e) or type(e).__name__, delay)
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def deliver(surface: Any, replies: AsyncIterator[Reply]) -> Delivered:
    """Show the final Reply of `replies` on `surface`; a Reply without text (a notice only) shows nothing."""
    final = None
    async with contextlib.aclosing(replies) as stream:
        async for reply in stream:
            if reply.done:
                final = reply
    if final is None or not final.text:
        return Delivered(final)
    pieces = split_text(final.text, surface.limit)
    ids = []
    for n, piece in enumerate(pieces):
        buttons = final.buttons if n == len(pieces) - 1 else ()
        ids.append(await call(lambda p=piece, b=buttons, f=n == 0: surface.send(p, b, first=f),
                              what=f"{type(surface).__name__}.send", classify=surface.classify))
    return Delivered(final, ids)
