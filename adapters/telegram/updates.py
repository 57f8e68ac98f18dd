"""Telegram updates in, neutral types out; and an update processor that keeps each chat in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from telegram import Bot, CallbackQuery, Message, MessageEntity, Update
from telegram.ext import BaseUpdateProcessor

from bot.texts import lang_of
from bot.types import ButtonPress, IncomingMessage, User

if TYPE_CHECKING:
    from adapters.telegram.inbox import UpdateInbox

PLATFORM = "telegram"


class PerChatProcessor(BaseUpdateProcessor):
    """Process updates concurrently across chats, one at a time within a chat (in arrival order).

    asyncio.Lock wakes waiters first-come first-served, so a chat's updates run in the order they arrived.
    With an `inbox`, each update is marked answered there when its processing ends, and a copy of one
    already answered (or being answered) is not processed (adapters.telegram.inbox).
    """

    def __init__(self, max_concurrent_updates: int = 1024, inbox: UpdateInbox | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self._locks: dict[Any, asyncio.Lock] = {}
        self._waiting: dict[Any, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.inbox is None:
            await self._in_order(update, coroutine)
            return
        with self.inbox.processing(update) as wanted:
            if not wanted:
                coroutine.close()  # type: ignore[attr-defined] - never started: no "never awaited" warning
                return
            await self._in_order(update, coroutine)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued for this chat: forget its lock
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def chat_key(update: object) -> Any:
    """What orders an update: its chat, or for inline queries the user; None for anything else."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return ("user", update.effective_user.id) if update.effective_user else None


def to_user(tg_user) -> User:
    return User(str(tg_user.id), tg_user.full_name, lang_of(tg_user.language_code), tg_user.is_bot)


def _utf16_cut(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the given (offset, length) spans, counted in UTF-16 code units as Telegram does."""
    raw = text.encode("utf-16-le")
    for offset, length in sorted(spans, reverse=True):
        raw = raw[: 2 * offset] + raw[2 * (offset + length) :]
    return raw.decode("utf-16-le")


def _entity_text(text: str, entity: MessageEntity) -> str:
    """The entity's part of `text`; offsets that split a character lose it (PTB's parse_entity raises)."""
    raw = text.encode("utf-16-le")
    return raw[2 * max(entity.offset, 0) : 2 * max(entity.offset + entity.length, 0)].decode("utf-16-le", "ignore")


def to_incoming(message: Message, bot: Bot) -> IncomingMessage | None:
    """The neutral form of a message, or None when it is addressed to another bot or has no sender."""
    if message.from_user is None:  # channel posts and anonymous admins: no one to answer
        return None
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    username = (bot.username or "").lower()
    mentions_bot, ours = False, []
    for entity in entities:
        part = _entity_text(text, entity)
        if entity.type == MessageEntity.MENTION and part[1:].lower() == username:
            mentions_bot = True
            ours.append((entity.offset, entity.length))
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            mentions_bot = True
            ours.append((entity.offset, entity.length))
        elif entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0 and "@" in part:
            if part.split("@", 1)[1].lower() != username:
                return None  # "/help@OtherBot": not for us
            mentions_bot = True
    if ours:
        text = _utf16_cut(text, ours).strip()
    replied = message.reply_to_message
    return IncomingMessage(
        platform=PLATFORM,
        chat=str(message.chat.id),
        message_id=str(message.message_id),
        user=to_user(message.from_user),
        text=text,
        is_private=message.chat.type == "private",
        mentions_bot=mentions_bot,
        reply_to_text=(replied.text or replied.caption) if replied else None,
        reply_to_bot=bool(replied and replied.from_user and replied.from_user.id == bot.id),
        reply_to_message_id=str(replied.message_id) if replied else None,
        raw=message,
    )


def to_press(query: CallbackQuery) -> ButtonPress | None:
    """The neutral form of a button press, or None for presses on inline-mode messages (no chat)."""
    if query.message is None:
        return None
    return ButtonPress(
        platform=PLATFORM,
        chat=str(query.message.chat.id),
        user=to_user(query.from_user),
        message_id=str(query.message.message_id),
        data=query.data or "",
        raw=query,
    )
