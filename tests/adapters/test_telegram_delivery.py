"""Telegram delivery (streamed edits, splitting, typing, flood budget) and awkward inputs, via the fake."""

from __future__ import annotations

import asyncio

import pytest

pytest.register_assert_rewrite("fakes.fake_telegram")
from fakes.fake_telegram import (  # noqa: E402
    AUNT,
    BOT,
    GROUP,
    MARRIAGE,
    MENTION,
    OWNER,
    TOKEN,
    FakeTelegram,
    answers,
    labels,
    user,
)
from telegram import Bot  # noqa: E402

from adapters.delivery import Delivery, split_text  # noqa: E402
from adapters.telegram.limits import budget as flood_budget  # noqa: E402
from adapters.telegram.surface import MAX_CHARS, TYPING_AFTER_S, ChatSurface  # noqa: E402
from bot.types import Button, Reply  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)  # the fixtures: tg_shared, tg_make_cfg, tg


@pytest.fixture
async def fake():
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as b:
        yield b


async def stream(texts: list[str], *, delay: float = 0.0, first_delay: float = 0.0, buttons=()):
    await asyncio.sleep(first_delay)
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        yield Reply(text, done=last, buttons=buttons if last else ())
        await asyncio.sleep(delay)


BUTTONS = (
    (Button("🙏 委婉认真", "s:abcdefghij:tactful", selected=True),),
    (Button("🔄 换一个", "a:abcdefghij"),),
)


async def test_streamed_text_is_edited_at_most_once_per_interval_then_gets_buttons(fake, bot,
                                                                                   no_errors_logged):
    delivery = Delivery(flood_budget(), edit_every_s=0.3)
    texts = ["一" * n for n in range(1, 21)]
    replies = stream(texts, delay=0.05, first_delay=TYPING_AFTER_S + 0.2, buttons=BUTTONS)
    await delivery.deliver(ChatSurface(bot, 5), replies)
    assert fake.of("sendChatAction", 5), "typing… while the answer was slow"
    assert len(fake.of("sendMessage", 5)) == 1
    edits = fake.of("editMessageText", 5)
    assert 1 <= len(edits) <= 1 + (20 * 0.05) / 0.3 + 1
    gaps = [b.at - a.at for a, b in zip(edits, edits[1:], strict=False)]
    assert all(g >= 0.28 for g in gaps), gaps
    [shown] = fake.bot_messages(5)
    assert shown["text"] == texts[-1]
    assert labels(shown) == ["✓ 🙏 委婉认真", "🔄 换一个"]


async def test_long_replies_are_split_never_truncated(fake, bot, no_errors_logged):
    text = ("春节快乐，" * 300 + "\n") * 4  # about 6,000 characters
    await Delivery(flood_budget()).deliver(ChatSurface(bot, 6), stream([text], buttons=BUTTONS))
    parts = fake.bot_messages(6)
    assert len(parts) == 2 and all(len(p["text"]) <= 4096 for p in parts)
    assert "".join(p["text"] for p in parts).replace("\n", "") == text.replace("\n", "")
    assert "reply_markup" not in parts[0] and labels(parts[1])
    assert split_text("", MAX_CHARS) == [""] and split_text("a" * 5000, MAX_CHARS) == ["a" * 4096, "a" * 904]


async def test_group_budget_skips_optional_edits_and_keeps_the_final_one(fake, bot, no_errors_logged):
    budget = flood_budget(per_second=30, group_per_minute=4)
    delivery = Delivery(budget, edit_every_s=0)
    texts = ["问" * n for n in range(1, 31)]
    await delivery.deliver(ChatSurface(bot, -77), stream(texts, delay=0.01, buttons=BUTTONS))
    calls = fake.of("sendMessage", -77) + fake.of("editMessageText", -77)
    assert len(calls) == 4, "one send, two optional edits, the final edit: the group's whole budget"
    assert fake.bot_messages(-77)[0]["text"] == texts[-1]


def test_budget_windows():
    now = [0.0]
    budget = flood_budget(per_second=3, group_per_minute=2, clock=lambda: now[0])
    assert budget.try_take(-1, reserve=0) and budget.try_take(-1, reserve=0)
    assert budget.delay(-1) == pytest.approx(60)
    assert budget.delay(5) == 0, "private chats have no per-minute window"
    budget.take(5)
    assert budget.delay(6) == pytest.approx(1), "30 per second for the whole bot (3 here)"
    now[0] = 61
    assert budget.delay(-1) == 0
    budget.block(-1, 10)
    assert budget.delay(-1) == pytest.approx(10) and budget.delay(-2) == 0


async def test_awkward_inputs_never_break_anything(tg):
    await tg.start(access={"open": True})
    fake = tg.fake
    fake.message(5, user(5), sticker=True)
    [sticker_reply] = await tg.reply_to(fake.messages[(5, 1)])
    assert "表情" in sticker_reply["text"]
    fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", edited=True)
    fake.message(GROUP, {**user(8, "Robot"), "is_bot": True}, f"{MENTION} {MARRIAGE}")
    fake.message(GROUP, user(AUNT), "/help@SomeOtherBot")
    fake.message(GROUP, user(AUNT), "/weather")
    empty = fake.message(GROUP, user(AUNT), MENTION)
    [empty_reply] = await tg.reply_to(empty)
    assert "@我" in empty_reply["text"]
    # Emoji before the mention: entity offsets are UTF-16 units, and the question is still found.
    emoji = fake.message(GROUP, user(AUNT), f"😂🧧 {MENTION} 你一个月挣多少钱？")
    [emoji_reply] = await tg.reply_to(emoji)
    assert emoji_reply["text"] in answers(tg.engine, "salary-how-much", "tactful")
    unknown = fake.message(GROUP, user(AUNT), f"/frobnicate@{BOT['username']}")
    [unknown_reply] = await tg.reply_to(unknown)
    assert "/help" in unknown_reply["text"]
    long = fake.message(GROUP, user(AUNT), f"{MENTION} " + "你什么时候结婚" * 2900)
    [long_reply] = await tg.reply_to(long)
    assert "只看了前 300 个字" in long_reply["text"] and labels(long_reply)
    assert len(fake.of("sendMessage", GROUP)) == 4, "edits, bots and other bots' commands got nothing"


async def test_reply_to_an_answer_is_a_follow_up_in_the_same_style(tg):
    await tg.start(access={"open": True})
    first = tg.fake.message(GROUP, user(AUNT), f"/sarcastic {MARRIAGE}")
    [answer] = await tg.reply_to(first)
    follow = tg.fake.message(GROUP, user(AUNT), "那你一个月挣多少钱？", reply_to=answer)
    [reply] = await tg.reply_to(follow)
    assert reply["text"] in answers(tg.engine, "salary-how-much", "sarcastic")


async def test_inline_mode_offers_one_result_per_style(tg):
    await tg.start()
    mine, theirs = tg.fake.inline(user(OWNER), MARRIAGE), tg.fake.inline(user(AUNT), MARRIAGE)
    await tg.fake.wait_for(lambda: len(tg.fake.of("answerInlineQuery")) == 2)
    results = {c.params["inline_query_id"]: c.params["results"] for c in tg.fake.of("answerInlineQuery")}
    owners, strangers = results[mine], results[theirs]
    assert [r["title"] for r in owners] == ["🙏 委婉认真", "🔀 转换话题", "🙃 阴阳怪气"]
    sarcastic = owners[2]["input_message_content"]["message_text"]
    assert sarcastic in answers(tg.engine, "marriage-when", "sarcastic")
    assert strangers == []


def test_bot_api_errors_are_waited_out_retried_or_raised():
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    from adapters.delivery import TRANSIENT, UNCONFIRMED, Wait
    from adapters.telegram.limits import classify
    from adapters.telegram.request import SentTimedOut

    assert classify(RetryAfter(3)) == Wait(3.0)
    assert classify(TimedOut()) == TRANSIENT and classify(NetworkError("connection reset")) == TRANSIENT
    assert classify(SentTimedOut()) == UNCONFIRMED, "sent, no answer: most likely delivered (not sent again)"
    # BadRequest is a NetworkError subclass in PTB: it must still not be retried.
    assert classify(BadRequest("message text is empty")) is None and classify(Forbidden("kicked")) is None
