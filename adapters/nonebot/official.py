"""QQ's official bot platform (nonebot-adapter-qq): @-mentions in groups and private messages.

What the platform allows, and so all this does: in a group the bot only receives messages that @ it; it may
answer each with passive replies for 5 minutes, at most 5 of them (`msg_seq` tells them apart; the adapter's
`bot.send(event, …)` counts it), and may not message anyone unprompted. So there are no reactions, no
answering again by replying to an answer (the platform does not say which of the bot's messages was quoted),
and no buttons (those need a markdown template the platform has approved). An @-mention with a question, or
with a style command (/tactful, /阴阳 …) before it, is answered; so is a private message.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from nonebot.adapters.qq import Bot, C2CMessageCreateEvent, GroupAtMessageCreateEvent, Message, MessageSegment
from nonebot.adapters.qq.exception import QQAdapterException

from adapters.nonebot import runtime
from adapters.nonebot.deliver import deliver
from bot.types import Button, IncomingMessage, User

log = logging.getLogger(__name__)

PLATFORM = "qqbot"
REPLY_WINDOW_S = 300  # a passive reply must go out within 5 minutes of the message
MAX_REPLIES = 5  # ...and at most 5 of them per message
MAX_CHARS = 2000


class WindowClosed(Exception):
    """The platform's reply window for this message has closed: nothing more may be sent."""


def to_incoming(event: GroupAtMessageCreateEvent | C2CMessageCreateEvent) -> IncomingMessage:
    group = isinstance(event, GroupAtMessageCreateEvent)
    user = event.author.member_openid if group else event.author.user_openid
    reply = event.get_reply_message()
    return IncomingMessage(
        PLATFORM,
        f"g{event.group_openid}" if group else f"u{user}",
        event.id,
        User(user),
        event.get_plaintext().strip(),
        is_private=not group,
        mentions_bot=group,  # the platform only delivers group messages that @ the bot
        reply_to_text=reply.extract_plain_text().strip() if reply else None,
        raw=event,
    )


def _received(event: GroupAtMessageCreateEvent | C2CMessageCreateEvent) -> float:
    try:
        return datetime.fromisoformat(event.timestamp).timestamp()
    except ValueError:
        return time.time()


class PassiveSurface:
    """Passive replies to one message, within the platform's window."""

    can_edit = False
    typing_after_s = None
    typing_every_s = 0.0
    limit = MAX_CHARS

    def __init__(self, bot: Bot, event: GroupAtMessageCreateEvent | C2CMessageCreateEvent, *,
                 clock=time.time) -> None:
        self.bot, self.event, self.clock = bot, event, clock
        self.chat = getattr(event, "group_openid", None) or event.get_user_id()
        self.received, self.replies = _received(event), 0

    @staticmethod
    def classify(e: Exception) -> None:
        return None  # a passive reply is not retried: a second try could land outside the window

    async def send(self, text: str, buttons: tuple[tuple[Button, ...], ...], *, first: bool) -> str:
        if self.replies >= MAX_REPLIES or self.clock() - self.received > REPLY_WINDOW_S:
            raise WindowClosed(f"the reply window for message {self.event.id} has closed")
        result = await self.bot.send(self.event, Message(MessageSegment.text(text)))
        self.replies += 1
        return str(getattr(result, "id", None) or f"{self.event.id}#{self.replies}")


async def on_message(bot: Bot, event: GroupAtMessageCreateEvent | C2CMessageCreateEvent) -> None:
    """An @-mention in a group or a private message on the official platform: answer it."""
    rt = runtime.current()
    if rt is None:
        log.warning("qqbot: a message came before SpringFestQA was ready; it is not answered")
        return
    incoming = to_incoming(event)
    surface = PassiveSurface(bot, event)
    if surface.clock() - surface.received > REPLY_WINDOW_S:
        log.info("qqbot: message %s is older than the reply window; not answered", event.id)
        return
    # The inbox hooks in here as in handlers.answer(): persist before, mark answered after.
    try:
        delivered = await deliver(surface, rt.app.on_message(incoming))
    except (QQAdapterException, WindowClosed) as e:  # refused, in audit, network, window closed
        log.warning("qqbot: could not answer message %s in %s: %r", event.id, incoming.chat, e)
        return
    if delivered.record_id and delivered.last_id:
        await rt.app.sent(delivered.record_id, delivered.last_id)
