"""OneBot v11 events for the NoneBug tests, as the adapter hands them to matchers: a leading @bot stripped
and `to_me` set, a `reply` segment turned into `event.reply` (what `get_msg` returned) and kept only in
`original_message`. (NoneBug calls the matchers directly, so the adapter's own preprocessing does not run;
the end-to-end tests cover it, over a real WebSocket.)"""

from __future__ import annotations

import itertools
import time
from typing import Any

from nonebot.adapters.onebot.v11 import (
    GroupMessageEvent,
    Message,
    MessageSegment,
    PrivateMessageEvent,
)
from nonebot.adapters.onebot.v11.event import Reply

SELF_ID = 10000
GROUP = 42
AUNT, NEPHEW = 2002, 3003
_ids = itertools.count(100)


def next_id() -> int:
    return next(_ids)


def quoted(message_id: int, sender: int, text: str) -> Reply:
    """What get_msg returns for a message: who sent it and its segments."""
    return Reply(time=int(time.time()), message_type="group", message_id=message_id, real_id=message_id,
                 sender={"user_id": sender, "nickname": "二姨"}, message=Message(MessageSegment.text(text)))


def group(text: str, *, user: int = NEPHEW, to_me: bool = False, reply: Reply | None = None,
          extra: list[MessageSegment] | None = None, message_id: int | None = None,
          group_id: int = GROUP) -> GroupMessageEvent:
    """A group message as it reaches the matchers."""
    message = Message([*(extra or []), MessageSegment.text(text)])
    original = Message()
    if reply is not None:
        original += MessageSegment.reply(reply.message_id)
    if to_me:
        original += MessageSegment.at(SELF_ID)
    original += message
    data: dict[str, Any] = {
        "time": int(time.time()), "self_id": SELF_ID, "post_type": "message", "message_type": "group",
        "sub_type": "normal", "message_id": message_id or next_id(), "group_id": group_id, "user_id": user,
        "message": message, "raw_message": str(original), "font": 14,
        "sender": {"user_id": user, "nickname": "小王", "card": ""}, "to_me": to_me, "reply": reply,
    }
    event = GroupMessageEvent.model_validate(data)
    event.original_message = original
    return event


def private(text: str, *, user: int = NEPHEW) -> PrivateMessageEvent:
    return PrivateMessageEvent.model_validate({
        "time": int(time.time()), "self_id": SELF_ID, "post_type": "message", "message_type": "private",
        "sub_type": "friend", "message_id": next_id(), "user_id": user, "message": Message(MessageSegment.text(text)),
        "raw_message": text, "font": 14, "sender": {"user_id": user, "nickname": "小王"}, "to_me": True,
    })
