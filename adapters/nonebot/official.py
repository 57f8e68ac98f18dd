"""QQ's official bot platform (nonebot-adapter-qq): @-mentions in groups and private messages.

What the platform allows, and so all this does: in a group the bot only receives messages that @ it; it may
answer each with passive replies for 5 minutes, at most 5 of them, and may not message anyone unprompted. So
there are no reactions, no answering again by replying to an answer (the platform does not say which of the
bot's messages was quoted), and no buttons (those need a markdown template the platform has approved). An
@-mention with a question, or with a style command (/tactful, /阴阳 …) before it, is answered; so is a private
message.

Replies go out through the shared delivery on a PassiveSurface. Each reply to a message carries a sequence
number (`msg_seq`, 1 to 5) and the platform accepts each (message, number) once: a second send with the same
pair is refused as a duplicate (code 40054005). So a send that failed on the network is sent again with the
SAME number: if the first one got through after all, the platform drops the copy and the surface counts the
reply as delivered. A 429 is waited out; a 5xx retried; both only while the window is open.

The inbox (bot.inbox): a message is written down (the neutral message and the platform's event, which the
replies need) before it is answered and marked answered after; when the bot connects again after a restart,
the ones still open are answered if the 5-minute window (and inbox.max_age_minutes) allows, else dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from nonebot.adapters import Bot as AnyBot
from nonebot.adapters.qq import (
    ActionFailed,
    Bot,
    C2CMessageCreateEvent,
    GroupAtMessageCreateEvent,
    Message,
    MessageSegment,
    NetworkError,
    RateLimitException,
    UnauthorizedException,
)
from nonebot.adapters.qq.exception import QQAdapterException

from adapters.delivery import TRANSIENT, Buttons, Surface, Verdict, Wait
from adapters.nonebot import runtime
from bot.inbox import Event
from bot.metrics import RATE_LIMITED
from bot.types import IncomingMessage, User

log = logging.getLogger(__name__)

PLATFORM = "qqbot"
REPLY_WINDOW_S = 300  # a passive reply must go out within 5 minutes of the message
MAX_REPLIES = 5  # ...and at most 5 of them per message
MAX_CHARS = 2000
DUPLICATE = 40054005  # "消息被去重，请检查请求msgseq": this (message, msg_seq) was already sent
RATE_LIMIT_WAIT_S = 1.0  # the platform's 429 says no wait


class WindowClosed(Exception):
    """The platform's reply window for this message has closed: nothing more may be sent."""


def classify(e: Exception) -> Verdict:
    if isinstance(e, RateLimitException):
        return Wait(RATE_LIMIT_WAIT_S)
    if isinstance(e, UnauthorizedException):
        return None
    if isinstance(e, ActionFailed):
        return TRANSIENT if e.status_code >= 500 else None
    if isinstance(e, NetworkError):  # sent again with the same msg_seq: never a duplicate (module docstring)
        return TRANSIENT
    return None  # WindowClosed, a message held for audit, ...


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


def received_at(event: GroupAtMessageCreateEvent | C2CMessageCreateEvent) -> float:
    """When the platform received the message (its reply window starts then)."""
    try:
        return datetime.fromisoformat(event.timestamp).timestamp()
    except ValueError:
        return time.time()


class PassiveSurface(Surface):
    """Passive replies to one message, within the platform's window, each with its own msg_seq."""

    can_edit = False
    limit = MAX_CHARS
    classify = staticmethod(classify)

    def __init__(self, bot: Bot, event: GroupAtMessageCreateEvent | C2CMessageCreateEvent, *,
                 clock=time.time) -> None:
        self.bot, self.event, self.clock = bot, event, clock
        self.group = getattr(event, "group_openid", None)
        self.chat = f"g{self.group}" if self.group else f"u{event.get_user_id()}"
        self.received, self.replies = received_at(event), 0

    def window_open(self) -> bool:
        return self.replies < MAX_REPLIES and self.clock() - self.received <= REPLY_WINDOW_S

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        if not self.window_open():
            raise WindowClosed(f"the reply window for message {self.event.id} has closed")
        seq = self.replies + 1  # the same number on every try of this reply
        message = Message(MessageSegment.text(text))
        try:
            if self.group:
                result = await self.bot.send_to_group(group_openid=self.group, message=message,
                                                      msg_id=self.event.id, msg_seq=seq)
            else:
                result = await self.bot.send_to_c2c(openid=self.event.author.id, message=message,
                                                    msg_id=self.event.id, msg_seq=seq)
        except RateLimitException:
            RATE_LIMITED.labels(PLATFORM).inc()
            raise
        except ActionFailed as e:
            if e.code != DUPLICATE:
                raise
            log.info("qqbot: reply %d to message %s had already gone out", seq, self.event.id)
            result = None
        self.replies = seq
        return str(getattr(result, "id", None) or f"{self.event.id}#{seq}")


async def on_message(bot: Bot, event: GroupAtMessageCreateEvent | C2CMessageCreateEvent) -> None:
    """An @-mention in a group or a private message on the official platform: answer it."""
    rt = runtime.current()
    if rt is None:
        log.warning("qqbot: a message came before SpringFestQA was ready; it is not answered")
        return
    incoming = to_incoming(event)
    surface = PassiveSurface(bot, event)
    if not surface.window_open():
        log.info("qqbot: message %s is older than the reply window; not answered", event.id)
        return
    payload = {"group": isinstance(event, GroupAtMessageCreateEvent), "event": event.model_dump(mode="json")}
    if not rt.app.inbox.claim(Event(PLATFORM, event.id, incoming.chat, "message", payload, received_at(event))):
        return  # the platform sent it again: answered once
    await _answer(rt, surface, incoming)


async def _answer(rt: runtime.Runtime, surface: PassiveSurface, incoming: IncomingMessage) -> None:
    with rt.app.inbox.answering(PLATFORM, incoming.message_id):
        try:
            delivered = await rt.official.deliver(surface, rt.app.on_message(incoming))
        except (QQAdapterException, WindowClosed) as e:  # refused, in audit, network, window closed
            log.warning("qqbot: could not answer message %s in %s: %r", incoming.message_id, incoming.chat, e)
            return
        if delivered.record_id and delivered.last_id:
            await rt.app.sent(delivered.record_id, delivered.last_id, event=(PLATFORM, incoming.message_id))


_replays: set[asyncio.Task] = set()


async def on_connect(bot: AnyBot) -> None:
    """Connected to the platform: answer what a restart left open, within the reply window, in the background
    (the replies need the connection this hook is still setting up)."""
    rt = runtime.current()
    if rt is None or not isinstance(bot, Bot):
        return
    events = rt.app.inbox.replay(PLATFORM, rt.app.inbox_max_age_s, {"message": REPLY_WINDOW_S})
    if events:
        task = asyncio.create_task(_answer_again(rt, bot, events), name="qqbot-inbox-replay")
        _replays.add(task)
        task.add_done_callback(_replays.discard)


async def _answer_again(rt: runtime.Runtime, bot: Bot, events: list[Event]) -> None:
    for stored in events:
        kind = GroupAtMessageCreateEvent if stored.payload["group"] else C2CMessageCreateEvent
        event = kind.model_validate(stored.payload["event"])
        await _answer(rt, PassiveSurface(bot, event), to_incoming(event))
