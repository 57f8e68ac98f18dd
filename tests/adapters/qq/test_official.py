"""QQ's official bot platform (nonebot-adapter-qq) under NoneBug: @-mentions in groups and private messages
are answered with passive replies (`bot.send(event, …)`), within the platform's 5-minute window."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from nonebot.adapters.qq import Bot, C2CMessageCreateEvent, GroupAtMessageCreateEvent
from nonebot.adapters.qq.config import BotInfo
from nonebot.adapters.qq.models import PostGroupMessagesReturn

from .sent import Sent

pytestmark = pytest.mark.asyncio(loop_scope="session")
MARRIAGE = "你打算什么时候结婚啊？"


def official(ctx) -> Bot:
    return ctx.create_bot(base=Bot, self_id="app-1", bot_info=BotInfo(id="app-1", secret="not-used"))


def at_message(content: str, *, age_s: float = 0, msg_id: str = "ROBOT1.0_a") -> GroupAtMessageCreateEvent:
    sent_at = datetime.now(UTC) - timedelta(seconds=age_s)
    return GroupAtMessageCreateEvent.model_validate({
        "id": msg_id, "content": content, "timestamp": sent_at.isoformat(), "group_id": "G1",
        "group_openid": "G1", "author": {"id": "M1", "member_openid": "M1", "bot": False, "member_role": "member"},
        "to_me": True})


def c2c_message(content: str) -> C2CMessageCreateEvent:
    return C2CMessageCreateEvent.model_validate({
        "id": "ROBOT1.0_c", "content": content, "timestamp": datetime.now(UTC).isoformat(),
        "author": {"id": "U1", "user_openid": "U1"}})


async def test_a_group_mention_gets_a_passive_reply(app, make_bot_app):
    bot_app = make_bot_app()
    event = at_message(MARRIAGE)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        ctx.should_call_send(event, Sent(texts=bot_app.engine.corpus.items["marriage-when"].answers["tactful"]),
                             result=PostGroupMessagesReturn(id="reply-1"))
    assert bot_app.store.record_for_message("qqbot:gG1", "reply-1").question == MARRIAGE


async def test_a_style_command_before_the_question_picks_the_style(app, make_bot_app):
    bot_app = make_bot_app()
    event = at_message(f"/阴阳 {MARRIAGE}")
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        ctx.should_call_send(event, Sent(texts=bot_app.engine.corpus.items["marriage-when"].answers["sarcastic"]),
                             result=PostGroupMessagesReturn(id="reply-2"))


async def test_a_private_message_is_answered(app, make_bot_app):
    bot_app = make_bot_app()
    event = c2c_message(MARRIAGE)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        ctx.should_call_send(event, Sent(texts=bot_app.engine.corpus.items["marriage-when"].answers["tactful"]),
                             result=PostGroupMessagesReturn(id="reply-3"))


async def test_no_reply_after_the_window_has_closed(app, make_bot_app, caplog):
    make_bot_app()
    caplog.set_level(logging.INFO)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), at_message(MARRIAGE, age_s=301, msg_id="ROBOT1.0_old"))  # no send
    assert any("ROBOT1.0_old is older than the reply window" in r.getMessage() for r in caplog.records)


async def test_at_most_five_replies_to_one_message(app, make_bot_app, caplog, monkeypatch):
    bot_app = make_bot_app(access={"open": True})
    from adapters.nonebot import official as module

    event = at_message("/help")  # with a 2000-character limit the help is one message: make it six

    help_text = bot_app.help_text("zh", "qqbot:gG1", "qqbot")
    limit = len(help_text) // 6 + 1
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(module.PassiveSurface, "limit", limit)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        for n in range(5):
            ctx.should_call_send(event, Sent(), result=PostGroupMessagesReturn(id=f"r{n}"))
    assert any("reply window for message ROBOT1.0_a has closed" in r.getMessage() for r in caplog.records)
