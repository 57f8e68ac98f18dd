"""Where an answer is shown on QQ through OneBot v11: a group or private chat, quoting the question.

QQ's part of the shared delivery (adapters.delivery): messages cannot be edited and carry no buttons, so an
answer goes out once, split at `onebot.max_chars`; the first piece quotes the asker's message (a `reply`
segment), and the piece that would carry the buttons ends with the bot's hint of how to switch style by
replying, when the bot says it is due. Which failures are retried, and the account's send budget the
delivery counts by `chat`, are in limits.py.

Every message is a `Message` of `MessageSegment`s. A plain str would be parsed for CQ codes by the adapter, so
a question or answer containing `[CQ:at,qq=all]` would become a real @everyone; a text segment never is.
"""

from __future__ import annotations

from collections.abc import Callable

from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment

from adapters.delivery import Buttons, Surface
from adapters.nonebot.limits import classify

HINT_RESERVE = 40  # characters kept free in the last piece for the hint line


class ChatSurface(Surface):
    """Messages in one QQ chat (group or private) through OneBot v11; the first quotes `reply_to`."""

    can_edit = False
    typing_after_s = None  # OneBot v11 has no typing indicator
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
        self._hint_line: str | None = None
        self._hint_asked = False

    def hint_line(self) -> str | None:
        """The hint for this answer, asked for once (asking claims the chat's hint of the day, so a send
        retried after a dropped connection carries the same line)."""
        if not self._hint_asked and self.hint is not None:
            self._hint_line, self._hint_asked = self.hint(), True
        return self._hint_line

    def message(self, text: str, buttons: Buttons, *, first: bool) -> Message:
        message = Message()
        if first and self.reply_to is not None:
            message += MessageSegment.reply(self.reply_to)
        message += MessageSegment.text(text)
        if buttons and (line := self.hint_line()):
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
