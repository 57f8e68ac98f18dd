"""Telegram (python-telegram-bot 22): handlers that turn updates into BotApp calls and deliver its Replies,
and the Application that runs them (started and stopped by adapters.telegram.serve).

Updates run concurrently across chats and in order within a chat (adapters.telegram.updates.PerChatProcessor).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from adapters.delivery import Delivered, Delivery
from adapters.errors import delivery_errors
from adapters.telegram.inbox import PLATFORM, InboxQueue, UpdateInbox
from adapters.telegram.limits import budget, call
from adapters.telegram.request import AiohttpRequest
from adapters.telegram.surface import MAX_CHARS, ChatSurface
from adapters.telegram.updates import PerChatProcessor, to_incoming, to_press, to_user
from bot.app import BotApp
from bot.config import Config

log = logging.getLogger(__name__)
# Expected delivery failures: the bot was removed or blocked, or the network is down (a BadRequest is a bug).
UNDELIVERABLE = (Forbidden, NetworkError)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]  # edits are not answered
INLINE_CACHE_S = 30
POOL_SIZE = 16  # connections to the Bot API
KEY = "springfest"  # where the handlers find their BotApp and Delivery in bot_data


@dataclass
class Deps:
    app: BotApp
    delivery: Delivery


def _deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data[KEY]


async def handle_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a message when the bot layer wants to (commands, mentions, replies to us, private chats)."""
    message = update.message
    incoming = to_incoming(message, context.bot)
    if incoming is None:
        return
    deps = _deps(context)
    surface = ChatSurface(context.bot, message.chat.id, reply_to=message.message_id, thread_id=_thread(message))
    with delivery_errors(f"chat {message.chat.id}", UNDELIVERABLE, unless=(BadRequest,)):
        await _sent(deps.app, await deps.delivery.deliver(surface, deps.app.on_message(incoming)), update)


async def handle_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: answer the query at once (stops the spinner), then edit the message in place."""
    query = update.callback_query
    press = to_press(query)
    if press is None:
        await _answer_query(query, None)
        return
    deps = _deps(context)

    async def on_first(reply):
        await _answer_query(query, reply.notice if reply else None)

    # The pressed message is edited in place: no "typing…" (the spinner on the button stands in for it).
    surface = ChatSurface(context.bot, query.message.chat.id, thread_id=_thread(query.message), typing=False)
    with delivery_errors(f"chat {press.chat}", UNDELIVERABLE, unless=(BadRequest,)):
        delivered = await deps.delivery.deliver(
            surface, deps.app.on_press(press), existing=press.message_id, on_first=on_first
        )
        await _sent(deps.app, delivered, update)


def _thread(message) -> int | None:
    """The forum topic a message is in (None outside topics): answers go to the same topic."""
    return message.message_thread_id if message.is_topic_message else None


async def _sent(app: BotApp, delivered: Delivered, update: Update) -> None:
    """Tell the bot which message now shows its answer (so presses on its buttons are recognised), and that
    the update is answered, in one commit (the inbox's mark). The message id is None when the one carrying
    the buttons went out but its id never came back (adapters.delivery, Timeouts)."""
    if delivered.record_id:
        await app.sent(delivered.record_id, delivered.last_id, event=(PLATFORM, str(update.update_id)))


async def handle_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Inline mode: `@bot 问题` offers one ready answer per enabled style, sent as the user."""
    query = update.inline_query
    replies = await _deps(context).app.inline(to_user(query.from_user), query.query)
    results = [
        InlineQueryResultArticle(
            id=str(n),
            title=r.notice or "",
            description=r.text[:100],
            input_message_content=InputTextMessageContent(r.text[:MAX_CHARS]),
        )
        for n, r in enumerate(replies)
    ]
    try:
        await call(
            lambda: query.answer(results, cache_time=INLINE_CACHE_S, is_personal=True),
            what="answerInlineQuery",
        )
    except BadRequest as e:  # the user typed on and the query expired: harmless
        log.info("inline answer dropped: %s", e)


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB only logs handler exceptions: log them loudly, with the traceback."""
    log.error("handling a Telegram update failed", exc_info=context.error)


async def _answer_query(query, notice: str | None) -> None:
    try:
        await call(lambda: query.answer(text=notice), what="answerCallbackQuery")
    except BadRequest as e:  # older than Telegram keeps queries: the edit still goes ahead
        log.info("callback answer dropped: %s", e)


def build_application(
    app: BotApp,
    cfg: Config,
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    inbox: UpdateInbox | None = None,
) -> Application:
    """The PTB Application with our handlers; base_url/request let tests point it at a fake server."""
    builder = Application.builder().token(token).concurrent_updates(PerChatProcessor(inbox=inbox))
    base = base_url or cfg.telegram.base_url
    if base:
        builder = builder.base_url(base).base_file_url(base.replace("/bot", "/file/bot", 1))
    builder = builder.request(request or AiohttpRequest(POOL_SIZE, read_timeout=cfg.telegram.read_timeout_s))
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    if inbox is not None:
        builder = builder.update_queue(InboxQueue(inbox))
    application = builder.build()
    flood = budget(cfg.telegram.messages_per_second, cfg.telegram.group_messages_per_minute)
    application.bot_data[KEY] = Deps(app, Delivery(flood, edit_every_s=cfg.telegram.edit_interval_s))
    content = filters.TEXT | filters.CAPTION | filters.Sticker.ALL
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & content, handle_message))
    application.add_handler(CallbackQueryHandler(handle_press))
    application.add_handler(InlineQueryHandler(handle_inline))
    application.add_error_handler(handle_error)
    return application
