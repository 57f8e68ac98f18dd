"""QQ's official bot platform (nonebot-adapter-qq) under NoneBug: @-mentions in groups and private messages
are answered with passive replies (`post_group_messages` / `post_c2c_messages` with the message's id and a
reply number, msg_seq), within the platform's 5-minute window and its 5 replies; failed sends are retried
with the same number, so the platform's own duplicate check makes a retry safe."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from nonebot.adapters.qq import (
    ActionFailed,
    Bot,
    C2CMessageCreateEvent,
    GroupAtMessageCreateEvent,
    NetworkError,
    RateLimitException,
)
from nonebot.adapters.qq.config import BotInfo
from nonebot.adapters.qq.models import PostC2CMessagesReturn, PostGroupMessagesReturn
from nonebot.drivers import Response

from adapters.nonebot.official import DUPLICATE
from bot.metrics import RATE_LIMITED

pytestmark = pytest.mark.asyncio(loop_scope="session")
MARRIAGE = "你打算什么时候结婚啊？"


class Text:
    """An expected `content`: one of the allowed answers (answers are drawn at random), or any text."""

    def __init__(self, allowed=None) -> None:
        self.allowed = allowed

    def __eq__(self, content: object) -> bool:
        return isinstance(content, str) and bool(content) and (self.allowed is None or content in self.allowed)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Text({self.allowed})"


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


def group_reply(ctx, event, seq: int, content: Text, *, result=None, exception=None) -> None:
    """The passive reply number `seq` to `event`, as the adapter posts it."""
    ctx.should_call_api("post_group_messages", {
        "group_openid": "G1", "msg_type": 0, "msg_id": event.id, "msg_seq": seq, "event_id": None,
        "content": content, "media": None}, result=result, exception=exception)


def tactful(bot_app) -> list[str]:
    return bot_app.engine.corpus.items["marriage-when"].answers["tactful"]


def refusal(status: int, code: int, message: str) -> dict:
    return {"response": Response(status, content=json.dumps({"code": code, "message": message}))}


async def test_a_group_mention_gets_a_passive_reply(app, make_bot_app):
    bot_app = make_bot_app()
    event = at_message(MARRIAGE)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        group_reply(ctx, event, 1, Text(tactful(bot_app)), result=PostGroupMessagesReturn(id="reply-1"))
    assert bot_app.store.record_for_message("qqbot:gG1", "reply-1").question == MARRIAGE


async def test_a_style_command_before_the_question_picks_the_style(app, make_bot_app):
    bot_app = make_bot_app()
    event = at_message(f"/阴阳 {MARRIAGE}")
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        group_reply(ctx, event, 1, Text(bot_app.engine.corpus.items["marriage-when"].answers["sarcastic"]),
                    result=PostGroupMessagesReturn(id="reply-2"))


async def test_a_private_message_is_answered(app, make_bot_app):
    bot_app = make_bot_app()
    event = c2c_message(MARRIAGE)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        ctx.should_call_api("post_c2c_messages", {
            "openid": "U1", "msg_type": 0, "msg_id": event.id, "msg_seq": 1, "event_id": None,
            "content": Text(tactful(bot_app)), "media": None}, result=PostC2CMessagesReturn(id="reply-3"))
    assert bot_app.store.record_for_message("qqbot:uU1", "reply-3") is not None


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
    monkeypatch.setattr(module.PassiveSurface, "limit", len(help_text) // 6 + 1)
    caplog.set_level(logging.WARNING)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        for seq in range(1, 6):
            group_reply(ctx, event, seq, Text(), result=PostGroupMessagesReturn(id=f"r{seq}"))
    assert any("reply window for message ROBOT1.0_a has closed" in r.getMessage() for r in caplog.records)


async def test_a_network_failure_is_sent_again_with_the_same_number(app, make_bot_app, clock):
    bot_app = make_bot_app()
    event = at_message(MARRIAGE, msg_id="ROBOT1.0_net")
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        group_reply(ctx, event, 1, Text(tactful(bot_app)), exception=NetworkError("API request failed"))
        group_reply(ctx, event, 1, Text(tactful(bot_app)), result=PostGroupMessagesReturn(id="reply-n"))
    assert clock.slept == [0.5]  # the first backoff step
    assert bot_app.store.record_for_message("qqbot:gG1", "reply-n") is not None


async def test_a_retry_the_platform_calls_a_duplicate_counts_as_delivered(app, make_bot_app, caplog):
    # The first try reached QQ although the answer was lost: the retry with the same msg_seq is refused as a
    # duplicate. That is the answer delivered once (no second message, no error); the record stays usable.
    bot_app = make_bot_app()
    event = at_message(MARRIAGE, msg_id="ROBOT1.0_dup")
    caplog.set_level(logging.INFO)
    async with app.test_matcher() as ctx:
        ctx.receive_event(official(ctx), event)
        group_reply(ctx, event, 1, Text(tactful(bot_app)), exception=NetworkError("API request failed"))
        group_reply(ctx, event, 1, Text(tactful(bot_app)),
                    exception=ActionFailed(**refusal(400, DUPLICATE, "消息被去重，请检查请求msgseq")))
    assert any("reply 1 to message ROBOT1.0_dup had already gone out" in r.getMessage() for r in caplog.records)
    assert not any("could not answer" in r.getMessage() for r in caplog.records)
    assert bot_app.store.record_for_message("qqbot:gG1", "ROBOT1.0_dup#1") is not None


async def test_a_429_is_waited_out_and_a_4xx_is_not_retried(app, make_bot_app, clock, caplog):
    bot_app = make_bot_app()
    limited, refused = at_message(MARRIAGE, msg_id="ROBOT1.0_429"), at_message(MARRIAGE, msg_id="ROBOT1.0_400")
    before = RATE_LIMITED.labels("qqbot")._value.get()
    caplog.set_level(logging.WARNING)
    async with app.test_matcher() as ctx:
        bot = official(ctx)
        ctx.receive_event(bot, limited)
        group_reply(ctx, limited, 1, Text(tactful(bot_app)),
                    exception=RateLimitException(**refusal(429, 22009, "msg limit exceed")))
        group_reply(ctx, limited, 1, Text(tactful(bot_app)), result=PostGroupMessagesReturn(id="reply-l"))
        ctx.receive_event(bot, refused)
        group_reply(ctx, refused, 1, Text(tactful(bot_app)),
                    exception=ActionFailed(**refusal(400, 304003, "url not allowed")))  # once, not again
    assert clock.slept == [1.0] and RATE_LIMITED.labels("qqbot")._value.get() == before + 1
    assert bot_app.store.record_for_message("qqbot:gG1", "reply-l") is not None
    [line] = [r.getMessage() for r in caplog.records if "could not answer" in r.getMessage()]
    assert "ROBOT1.0_400" in line and "304003" in line


async def test_messages_a_crash_left_open_are_answered_on_connect_within_the_window(app, make_bot_app):
    """Written down by a process that died before answering: the next one answers those still inside the
    5-minute window when the platform connects it, and drops the rest, sending nothing for them."""
    from adapters.nonebot import official as module
    from adapters.nonebot.official import received_at
    from bot.inbox import Event, Inbox
    from bot.store import Store

    bot_app = make_bot_app()
    fresh = at_message(MARRIAGE, age_s=60, msg_id="ROBOT1.0_open")
    late = at_message(MARRIAGE, age_s=301, msg_id="ROBOT1.0_late")
    died = Store(bot_app.store.path)
    for e in (fresh, late):
        payload = {"group": True, "event": e.model_dump(mode="json")}
        Inbox(died).claim(Event("qqbot", e.id, "gG1", "message", payload, received_at(e)))
    died.close()
    async with app.test_matcher() as ctx:
        bot = official(ctx)
        group_reply(ctx, fresh, 1, Text(tactful(bot_app)), result=PostGroupMessagesReturn(id="reply-r"))
        await module.on_connect(bot)
        await asyncio.gather(*module._replays)
    assert bot_app.inbox.state("qqbot", fresh.id) == "answered"
    assert bot_app.inbox.state("qqbot", late.id) == "dropped"
    async with app.test_matcher() as ctx:  # the platform delivering it again: answered once
        ctx.receive_event(official(ctx), fresh)
