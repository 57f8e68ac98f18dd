"""Where an answer is shown on Telegram: a chat, replying to the question (or the pressed message, edited in
place). Telegram's part of the shared delivery (adapters.delivery): send, edit, keyboard, typing, limits."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction, MessageLimit
from telegram.error import BadRequest

from adapters.delivery import Buttons, Surface
from adapters.telegram.limits import classify as classify_error

log = logging.getLogger(__name__)

MAX_CHARS = MessageLimit.MAX_TEXT_LENGTH  # 4096
TYPING_AFTER_S = 1.0  # curated answers come in milliseconds; generated ones take seconds
TYPING_EVERY_S = 4.5  # Telegram shows the action for 5 s


def keyboard(rows: Buttons) -> InlineKeyboardMarkup | None:
    """Inline keyboard for the bot's buttons; the current style is marked with ✓."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(("✓ " if b.selected else "") + b.label, callback_data=b.data) for b in row]
            for row in rows
        ]
    )


class ChatSurface(Surface):
    """Messages in one chat (and forum topic); the first quotes `reply_to`. `typing`: show "typing…"."""

    limit = MAX_CHARS
    typing_every_s = TYPING_EVERY_S
    classify = staticmethod(classify_error)

    def __init__(self, bot: Bot, chat_id: int, *, reply_to: int | None = None, thread_id: int | None = None,
                 typing: bool = True) -> None:
        self.bot, self.chat, self.reply_to, self.thread_id = bot, chat_id, reply_to, thread_id
        self.typing_after_s = TYPING_AFTER_S if typing else None

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        quote = first and self.reply_to is not None
        message = await self.bot.send_message(
            self.chat,
            text,
            reply_markup=keyboard(buttons),
            reply_parameters=ReplyParameters(self.reply_to, allow_sending_without_reply=True) if quote else None,
            message_thread_id=self.thread_id,
        )
        return str(message.message_id)

    async def edit(self, message_id: str, text: str, buttons: Buttons) -> None:
        try:
            await self.bot.edit_message_text(
                text, chat_id=self.chat, message_id=int(message_id), reply_markup=keyboard(buttons)
            )
        except BadRequest as e:
            if "not modified" not in str(e).lower():  # same text and buttons again: nothing to do
                raise

    async def typing(self) -> None:
        await self.bot.send_chat_action(self.chat, ChatAction.TYPING, message_thread_id=self.thread_id)
