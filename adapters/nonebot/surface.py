"""Where an answer is shown on QQ through OneBot v11: a group or private chat, quoting the question.

QQ's part of delivery: messages cannot be edited and carry no buttons, so an answer goes out once, split at
`onebot.max_chars`; the first piece quotes the asker's message (a `reply` segment), and the piece that would
carry the buttons ends with the bot's hint of how to switch style by replying, when the bot says it is due.

Every message is a `Message` of `MessageSegment`s. A plain str would be parsed for CQ codes by the adapter, so
a question or answer containing `[CQ:at,qq=all]` would become a real @everyone; a text segment never is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nonebot.adapters.onebot.v11 import ActionFailed, ApiNotAvailable, Bot, Message, MessageSegment

from bot.types import Button

log = logging.getLogger(__name__)

Buttons = tuple[tuple[Button, ...], ...]
HINT_RESERVE = 40  # characters kept free in the last piece for the hint line
TRANSIENT = "transient"  # classify()'s answer for a failure worth retrying (adapters.delivery's word)


def classify(e: Exception) -> str | None:
    """How delivery should treat a failed call. No connection (the client is reconnecting): retry. A call
    that timed out was written to the client, which may have sent the message: not resent (no duplicates).
    A `retcode` other than 0 is the client refusing (muted, not in the group): raised, logged by the caller."""
    return TRANSIENT if isinstance(e, ApiNotAvailable) else None


def describe(e: Exception) -> str:
    """A log line's worth about a failed OneBot call."""
    if isinstance(e, ApiNotAvailable):
        return "no QQ client is connected"
    if isinstance(e, ActionFailed):
        info = e.info
        return f"retcode {info.get('retcode')} ({info.get('wording') or info.get('message') or info.get('msg') or ''})"
    return repr(e)


class ChatSurface:
    """Messages in one QQ chat (group or private) through OneBot v11; the first quotes `reply_to`."""

    can_edit = False
    typing_after_s = None  # OneBot v11 has no typing indicator
    typing_every_s = 0.0
    classify = staticmethod(classify)

    def __init__(self, bot: Bot, chat: str, *, reply_to: str | None = None, limit: int = 3000,
                 hint: Callable[[], str | None] | None = None) -> None:
        """`chat` is events.chat_of()'s key: "g<group number>" or "u<user number>"."""
        kind, number = chat[0], int(chat[1:])
        if kind not in "gu":
            raise ValueError(f"not a chat key: {chat!r}")
        self.bot, self.chat, self.reply_to, self.hint = bot, chat, reply_to, hint
        self.group_id, self.user_id = (number, None) if kind == "g" else (None, number)
        self.limit = limit - HINT_RESERVE if hint else limit

    def message(self, text: str, buttons: Buttons, *, first: bool) -> Message:
        message = Message()
        if first and self.reply_to is not None:
            message += MessageSegment.reply(self.reply_to)
        message += MessageSegment.text(text)
        if buttons and self.hint and (line := self.hint()):
            message += MessageSegment.text("\n" + line)
        return message

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        """Send one message; its message id."""
        message = self.message(text, buttons, first=first)
        if self.group_id is not None:
            result = await self.bot.call_api("send_group_msg", group_id=self.group_id, message=message)
        else:
            result = await self.bot.call_api("send_private_msg", user_id=self.user_id, message=message)
        return str(result["message_id"])

    async def edit(self, message_id: str, text: str, buttons: Buttons) -> None:  # pragma: no cover
        raise NotImplementedError("QQ messages cannot be edited")

    async def typing(self) -> None:  # pragma: no cover - typing_after_s is None
        return None
