"""QQ through OneBot v11: an event in, the bot's answer out. All policy is BotApp's; this file only moves.

Every event takes the same path:

    accept   on_message / on_reaction: the event becomes a neutral message or request, or is not for the bot
    persist  answer(): a message for the bot is written to the inbox (bot.inbox) with where to reply...
    answer   answer(): BotApp's Replies shown on a ChatSurface (surface.py) by the shared delivery
             (adapters.delivery, the account's budget in limits.py)
    record   after(): which message shows the answer (BotApp.sent), reactions on it, the recall it asks for
    mark     ...and marked answered with it (whatever the outcome; a cancelled answer stays open).

When a OneBot client connects (on_connect), the messages still open from before a restart are answered,
if at most inbox.max_age_minutes old. Reactions are not kept: a lost one is just pressed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from nonebot.adapters import Bot as AnyBot
from nonebot.adapters.onebot.v11 import ActionFailed, ApiNotAvailable, Bot, MessageEvent, NetworkError
from nonebot.exception import WebSocketClosed

from adapters.delivery import Delivered
from adapters.nonebot import runtime
from adapters.nonebot.events import PLATFORM, GroupMsgEmojiLikeNoticeEvent, chat_of, to_incoming
from adapters.nonebot.limits import describe
from adapters.nonebot.surface import ChatSurface
from bot.inbox import Event, message_from, message_payload
from bot.types import IncomingMessage, Regenerate, Reply, User

log = logging.getLogger(__name__)
# A OneBot call that did not work out (after delivery's retries): refused, timed out, no client, socket gone.
FAILED = (ActionFailed, NetworkError, ApiNotAvailable, WebSocketClosed, OSError)
ANOTHER = "another"  # the reaction_emoji key for 换一个


async def on_message(bot: Bot, event: MessageEvent) -> None:
    """A group or private message: answer it when the bot layer wants to."""
    rt = _runtime()
    incoming = to_incoming(event) if rt else None
    if rt is None or incoming is None:
        return
    surface = _surface(bot, incoming.chat, incoming.message_id, incoming.user.lang)
    await answer(bot, surface, incoming, where=f"message {incoming.message_id} in {incoming.chat}")


async def on_reaction(bot: Bot, event: GroupMsgEmojiLikeNoticeEvent) -> None:
    """NapCat: someone reacted on a message. One of our emojis on one of our answers: answer it again."""
    rt = _runtime()
    if rt is None or not rt.cfg.onebot.reactions or event.is_add is False:
        return
    if not event.user_id or str(event.user_id) == str(event.self_id):  # our own reactions come back too
        return
    actions = {str(emoji): action for action, emoji in rt.cfg.onebot.reaction_emoji.items()}
    action = next((actions[like.emoji_id] for like in event.likes if like.emoji_id in actions), None)
    if action is None:
        return
    chat = chat_of(event)
    request = Regenerate(PLATFORM, chat, User(str(event.user_id)), str(event.message_id),
                         None if action == ANOTHER else action)
    surface = _surface(bot, chat, str(event.message_id), "zh")
    # A refused or rate-limited reaction is a notice only, which shows nothing: QQ has no toasts.
    await answer(bot, surface, request, where=f"a reaction on {event.message_id} in {chat}")


async def answer(bot: Bot, surface: ChatSurface, request: IncomingMessage | Regenerate, *,
                 where: str, claimed: bool = False) -> Delivered | None:
    """Ask the bot about `request`, show its Replies on `surface`, then do what follows (after()).
    `claimed`: the inbox already handed the message over (a replay)."""
    rt = _runtime()
    if rt is None:
        return None
    kept = isinstance(request, IncomingMessage) and (claimed or rt.app.addressed(request))
    if kept and not claimed:
        payload = {"message": message_payload(request), "reply_to": surface.reply_to}
        if not rt.app.inbox.claim(Event(PLATFORM, request.message_id, request.chat, "message", payload)):
            return None  # posted again by the client: answered once
    marking = rt.app.inbox.answering(PLATFORM, request.message_id) if kept else contextlib.nullcontext()
    with marking:
        asked = rt.app.on_message(request) if isinstance(request, IncomingMessage) else rt.app.on_regenerate(request)
        replies = _quoting_replaced(surface, asked, recalling=rt.cfg.onebot.recall_replaced)
        try:
            delivered = await rt.delivery.deliver(surface, replies)
        except FAILED as e:
            log.warning("onebot: could not answer %s: %s", where, describe(e))
            return None
        await after(bot, surface, delivered, (PLATFORM, request.message_id) if kept else None)
    return delivered


async def after(bot: Bot, surface: ChatSurface, delivered: Delivered, event: tuple[str, str] | None = None) -> None:
    """Record which message shows the answer (and, in the same commit, that the inbox `event` is answered);
    put the reaction buttons on it; recall the answer it replaces."""
    rt = _runtime()
    if rt is None or not delivered.record_id or not delivered.last_id:
        return
    await rt.app.sent(delivered.record_id, delivered.last_id, event=event)
    onebot = rt.cfg.onebot
    if onebot.reactions and surface.group_id is not None:
        emojis = [onebot.reaction_emoji[k] for k in (*rt.app.styles, ANOTHER) if k in onebot.reaction_emoji]
        try:
            for emoji in emojis:
                await bot.call_api("set_msg_emoji_like", message_id=int(delivered.last_id), emoji_id=emoji)
        except FAILED as e:  # Lagrange and older clients lack it: the answer is out, the hint says the rest
            log.warning("onebot: could not put reactions on message %s: %s", delivered.last_id, describe(e))
    replaced = delivered.final.replaces if delivered.final else None
    if onebot.recall_replaced and replaced:
        try:
            await bot.call_api("delete_msg", message_id=int(replaced))
        except FAILED as e:
            log.warning("onebot: could not recall the replaced answer %s (QQ lets a member recall its own "
                        "messages for 2 minutes): %s", replaced, describe(e))


_replays: set[asyncio.Task] = set()


async def on_connect(bot: AnyBot) -> None:
    """A OneBot client connected: answer what was left open before a restart, in the background (the answers'
    API calls need the connection this hook is still setting up)."""
    rt = runtime.current()
    if rt is None or not isinstance(bot, Bot):
        return
    events = rt.app.inbox.replay(PLATFORM, rt.app.inbox_max_age_s)
    if events:
        task = asyncio.create_task(_answer_again(bot, events), name="onebot-inbox-replay")
        _replays.add(task)
        task.add_done_callback(_replays.discard)


async def _answer_again(bot: Bot, events: list[Event]) -> None:
    for event in events:
        incoming = message_from(event.payload["message"])
        surface = _surface(bot, incoming.chat, event.payload["reply_to"], incoming.user.lang)
        await answer(bot, surface, incoming, where=f"message {incoming.message_id} in {incoming.chat} again",
                     claimed=True)


def _surface(bot: Bot, chat: str, reply_to: str, lang: str) -> ChatSurface:
    rt = runtime.current()
    assert rt is not None
    hint = lambda: rt.app.button_hint(PLATFORM, chat, lang)  # noqa: E731 - asked only when an answer goes out
    return ChatSurface(bot, chat, reply_to=reply_to, limit=rt.cfg.onebot.max_chars, hint=hint)


async def _quoting_replaced(surface: ChatSurface, replies: AsyncIterator[Reply], *,
                            recalling: bool) -> AsyncIterator[Reply]:
    """A new answer to an earlier answer's question quotes that answer (unless it is about to be recalled):
    the chat sees which answer it replaces. The surface sends only once the final Reply is in."""
    async for reply in replies:
        if reply.done and reply.replaces and not recalling:
            surface.reply_to = reply.replaces
        yield reply


def _runtime() -> runtime.Runtime | None:
    rt = runtime.current()
    if rt is None:
        log.warning("onebot: an event came before SpringFestQA was ready; it is not answered")
    return rt
