"""Show a stream of Replies in a Telegram chat: typing, one message edited at most ~1/s, buttons on the final
edit, long texts split at 4096 characters, flood limits respected and every call retried."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction, MessageLimit
from telegram.error import BadRequest, TelegramError

from adapters.delivery import split_text
from adapters.telegram.limits import Budget, call
from bot.app import BotApp
from bot.types import Button, Reply

log = logging.getLogger(__name__)

MAX_CHARS = MessageLimit.MAX_TEXT_LENGTH  # 4096
TYPING_AFTER_S = 1.0  # curated answers come in milliseconds; generated ones take seconds
TYPING_EVERY_S = 4.5  # Telegram shows the action for 5 s


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline keyboard for the bot's buttons; the current style is marked with ✓."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(("✓ " if b.selected else "") + b.label, callback_data=b.data) for b in row]
            for row in rows
        ]
    )


@dataclass
class _Shown:
    """The message a stream is being edited into."""

    message_id: int | None = None
    text: str | None = None
    edited_at: float = float("-inf")


class Delivery:
    def __init__(self, bot: Bot, app: BotApp, budget: Budget, *, edit_interval_s: float = 1.0) -> None:
        self.bot, self.app, self.budget, self.edit_interval_s = bot, app, budget, edit_interval_s

    async def deliver(
        self,
        chat_id: int,
        replies: AsyncIterator[Reply],
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        edit_message_id: int | None = None,
        on_first: Callable[[Reply | None], Awaitable[None]] | None = None,
    ) -> None:
        """Send (or with edit_message_id edit in place) what `replies` streams; on_first gets the first."""
        shown = _Shown(message_id=edit_message_id)
        target = _Target(chat_id, reply_to, thread_id)
        typing = asyncio.create_task(self._typing(chat_id, thread_id)) if edit_message_id is None else None
        final: Reply | None = None
        try:
            async with contextlib.aclosing(replies) as stream:
                async for reply in stream:
                    if on_first:
                        await on_first(reply)
                        on_first = None
                    if reply.done:
                        final = reply
                    elif reply.text:
                        await self._progress(target, shown, reply.text)
            if on_first:  # nothing came at all: still stop the client's spinner
                await on_first(None)
            if final is not None and final.text:
                await self._final(target, shown, final)
        finally:
            if typing:
                typing.cancel()

    async def _progress(self, target: _Target, shown: _Shown, text: str) -> None:
        text = split_text(text, MAX_CHARS)[0]
        if shown.message_id is None:
            shown.message_id = await self._send(target, text, None, first=True)
            shown.text, shown.edited_at = text, time.monotonic()
            return
        is_due = time.monotonic() - shown.edited_at >= self.edit_interval_s
        # Intermediate edits are optional: skipped (never queued) when the group budget is short, keeping
        # one slot free for the final edit.
        if text != shown.text and is_due and self.budget.try_take(target.chat_id, reserve=1):
            await self._edit(target.chat_id, shown, text, None)

    async def _final(self, target: _Target, shown: _Shown, reply: Reply) -> None:
        pieces = split_text(reply.text, MAX_CHARS)
        markup = keyboard(reply.buttons)
        last_id: int | None = None
        for n, piece in enumerate(pieces):
            piece_markup = markup if n == len(pieces) - 1 else None
            if n == 0 and shown.message_id is not None:
                wait = self.edit_interval_s - (time.monotonic() - shown.edited_at)
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.budget.wait(target.chat_id)
                await self._edit(target.chat_id, shown, piece, piece_markup)
                last_id = shown.message_id
            else:
                last_id = await self._send(target, piece, piece_markup, first=n == 0)
        if reply.record_id and last_id is not None:
            await self.app.sent(reply.record_id, str(target.chat_id), str(last_id))

    async def _send(
        self, target: _Target, text: str, markup: InlineKeyboardMarkup | None, *, first: bool
    ) -> int:
        await self.budget.wait(target.chat_id)
        reply_parameters = (
            ReplyParameters(target.reply_to, allow_sending_without_reply=True)
            if first and target.reply_to
            else None
        )
        message = await call(
            lambda: self.bot.send_message(
                target.chat_id,
                text,
                reply_markup=markup,
                reply_parameters=reply_parameters,
                message_thread_id=target.thread_id,
            ),
            what="sendMessage",
            on_retry_after=lambda s: self.budget.block(target.chat_id, s),
        )
        return message.message_id

    async def _edit(
        self, chat_id: int, shown: _Shown, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await call(
                lambda: self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=shown.message_id, reply_markup=markup
                ),
                what="editMessageText",
                on_retry_after=lambda s: self.budget.block(chat_id, s),
            )
        except BadRequest as e:
            if "not modified" not in str(e).lower():  # same text and buttons again: nothing to do
                raise
        shown.text, shown.edited_at = text, time.monotonic()

    async def _typing(self, chat_id: int, thread_id: int | None) -> None:
        """Keep "typing…" showing while an answer is slow to come."""
        await asyncio.sleep(TYPING_AFTER_S)
        while True:
            try:
                await self.bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
            except TelegramError as e:  # cosmetic: never worth failing or retrying an answer for
                log.debug("typing action failed: %s", e)
            await asyncio.sleep(TYPING_EVERY_S)


@dataclass(frozen=True)
class _Target:
    chat_id: int
    reply_to: int | None
    thread_id: int | None
