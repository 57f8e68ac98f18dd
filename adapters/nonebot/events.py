"""OneBot v11 events (NapCat, Lagrange) as the bot's neutral messages.

The adapter has already done two things by the time an event reaches us (PLATFORM-NOTES): a `reply` segment
became `event.reply` through `get_msg` (with `to_me` set when the quoted sender is the bot), and a leading or
trailing @bot was stripped from `event.message` (setting `to_me`). What is left to read is the text.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from nonebot.adapters.onebot.v11 import Message, MessageEvent, NoticeEvent
from nonebot.compat import PYDANTIC_V2, ConfigDict
from pydantic import BaseModel

from bot.types import IncomingMessage, User

log = logging.getLogger(__name__)

PLATFORM = "onebot"
READ = {"text", "at", "reply"}  # segment types the bot reads; the rest (images, faces, files) are skipped
_told: set[str] = set()  # segment types already logged as skipped


def chat_of(event: Any) -> str:
    """A group's or a private chat's key: QQ group and user numbers may coincide, so they are prefixed."""
    group = getattr(event, "group_id", None)
    return f"g{group}" if group is not None else f"u{event.user_id}"


def to_incoming(event: MessageEvent) -> IncomingMessage | None:
    """The neutral message for a group or private message event (None for other kinds, e.g. guild channels)."""
    if event.message_type not in ("group", "private"):
        return None
    self_id = str(event.self_id)
    text, at_me = read_text(event.message, self_id)
    reply, sender, private = event.reply, event.sender, event.message_type == "private"
    return IncomingMessage(
        PLATFORM,
        chat_of(event),
        str(event.message_id),
        User(str(event.user_id), sender.card or sender.nickname or ""),
        text,
        is_private=private,
        mentions_bot=(event.to_me or at_me) and not private,  # to_me: an @ (stripped), the nickname, a reply
        reply_to_text=read_text(reply.message, self_id)[0] if reply else None,
        reply_to_bot=reply is not None and str(reply.sender.user_id) == self_id,
        reply_to_message_id=replied_id(event),
        raw=event,
    )


def read_text(message: Message, self_id: str) -> tuple[str, bool]:
    """The message's text (mentions left out) and whether it mentions the bot anywhere in it."""
    parts, at_me = [], False
    for segment in message:
        if segment.type == "text":
            parts.append(segment.data.get("text", ""))
        elif segment.type == "at":
            at_me = at_me or str(segment.data.get("qq")) == self_id
        elif segment.type not in READ and segment.type not in _told:
            _told.add(segment.type)
            log.info("onebot: message segments of type %r are skipped (only text is read)", segment.type)
    return "".join(parts).strip(), at_me


def replied_id(event: MessageEvent) -> str | None:
    """The id of the message this one quotes, as its `reply` segment names it (the adapter drops the segment
    from event.message but keeps it in original_message)."""
    for segment in event.original_message:
        if segment.type == "reply" and segment.data.get("id") is not None:
            return str(segment.data["id"])
    return str(event.reply.message_id) if event.reply else None


class EmojiLike(BaseModel):
    emoji_id: str
    count: int = 1

    if PYDANTIC_V2:
        model_config = ConfigDict(extra="allow")


class GroupMsgEmojiLikeNoticeEvent(NoticeEvent):
    """NapCat's notice of an emoji reaction on a group message (not in OneBot v11 itself).

    `user_id` is who reacted (NapCat fills it for reactions on the bot's own messages), `message_id` the
    message reacted on; newer NapCat versions add `is_add` (False when a reaction is taken back)."""

    notice_type: Literal["group_msg_emoji_like"]
    group_id: int
    user_id: int = 0
    message_id: int
    likes: list[EmojiLike] = []
    is_add: bool | None = None

    def get_user_id(self) -> str:
        return str(self.user_id)

    def get_session_id(self) -> str:
        return f"group_{self.group_id}_{self.user_id}"
