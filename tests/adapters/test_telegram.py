"""The Telegram bot end to end: the real python-telegram-bot Application against a fake Bot API server."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("fakes.fake_telegram")
from fakes.fake_telegram import AUNT, GROUP, MARRIAGE, MENTION, OWNER, UNCLE, answers, button, labels, user  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)  # the fixtures: tg_shared, tg_make_cfg, tg

# PTB's own RetryAfter constructor warns about its future timedelta type.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_mention_gets_an_answer_with_style_buttons(tg):
    await tg.start()
    await tg.approve()
    question = tg.fake.message(GROUP, user(AUNT, "二姨"), f"{MENTION} {MARRIAGE}")
    [reply] = await tg.reply_to(question)
    assert reply["text"] in answers(tg.engine, "marriage-when", "tactful")
    assert labels(reply) == ["✓ 🙏 委婉认真", "🔀 转换话题", "🙃 阴阳怪气", "🔄 换一个"]
    assert all(len(b.encode()) <= 64 for b in map(lambda lbl: button(reply, lbl), labels(reply)))
    commands = tg.fake.of("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "zh", "en"}
    assert [c["command"] for c in commands[0].params["commands"]][:3] == ["tactful", "deflect", "sarcastic"]


async def test_style_command_as_a_reply_answers_the_relatives_message(tg):
    await tg.start()
    await tg.approve()
    relative = tg.fake.message(GROUP, user(UNCLE, "舅舅"), "大侄子，你在外面一个月能拿多少？")
    command = tg.fake.message(GROUP, user(AUNT), "/sarcastic", reply_to=relative)
    [reply] = await tg.reply_to(command)
    assert reply["text"] in answers(tg.engine, "salary-how-much", "sarcastic")
    assert "✓ 🙃 阴阳怪气" in labels(reply)


async def test_pressing_a_style_edits_in_place_and_another_gives_a_different_text(tg):
    await tg.start()
    await tg.approve()
    question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} 你一个月挣多少钱？")
    [reply] = await tg.reply_to(question)
    tg.fake.press(GROUP, user(AUNT), reply, button(reply, "转换话题"))
    await tg.fake.wait_for(lambda: tg.fake.of("editMessageText", GROUP))
    [shown] = tg.fake.bot_messages(GROUP)[-1:]
    assert shown["message_id"] == reply["message_id"], "edited in place, no new message"
    assert shown["text"] in answers(tg.engine, "salary-how-much", "deflect")
    assert "✓ 🔀 转换话题" in labels(shown)
    assert tg.fake.of("answerCallbackQuery")[0].params["text"] == "已换成转换话题"
    before = shown["text"]
    tg.fake.press(GROUP, user(AUNT), shown, button(shown, "换一个"))
    await tg.fake.wait_for(lambda: len(tg.fake.of("editMessageText", GROUP)) == 2)
    assert shown["text"] != before
    assert shown["text"] in answers(tg.engine, "salary-how-much", "deflect")
    assert len(tg.fake.of("answerCallbackQuery")) == 2


async def test_buttons_work_after_a_restart(tg):
    await tg.start()
    await tg.approve()
    question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}")
    [reply] = await tg.reply_to(question)
    await tg.stop()
    await tg.start()  # a new Application, BotApp and Store over the same state file
    tg.fake.press(GROUP, user(AUNT), reply, button(reply, "阴阳怪气"))
    await tg.fake.wait_for(lambda: tg.fake.of("editMessageText", GROUP))
    assert tg.fake.bot_messages(GROUP)[-1]["text"] in answers(tg.engine, "marriage-when", "sarcastic")


async def test_forged_or_unknown_payloads_get_a_short_notice(tg):
    await tg.start()
    await tg.approve()
    question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}")
    [reply] = await tg.reply_to(question)
    real = button(reply, "阴阳怪气")
    for data in (
        "s:aaaaaaaaaa:tactful",
        "garbage",
        "x" * 64,
        real.replace("sarcastic", "nosuchstyle"),
        "a:" + real.split(":")[1] + "zz",
    ):
        tg.fake.press(GROUP, user(AUNT), reply, data)
    elsewhere = {**reply, "chat": {"id": -100999, "type": "supergroup", "title": "other"}}
    tg.fake.press(-100999, user(AUNT), elsewhere, real)  # a real payload replayed in another chat
    await tg.fake.wait_for(lambda: len(tg.fake.of("answerCallbackQuery")) == 6)
    assert {c.params["text"] for c in tg.fake.of("answerCallbackQuery")} == {"这个按钮已失效，请重新提问。"}
    assert not tg.fake.of("editMessageText")


async def test_unapproved_group_gets_one_refusal_then_silence(tg):
    await tg.start()
    first = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}")
    [refusal] = await tg.reply_to(first)
    assert "/approve" in refusal["text"]
    tg.fake.message(GROUP, user(AUNT), f"{MENTION} 你一个月挣多少钱？")
    tg.fake.message(GROUP, user(UNCLE), "/help")
    probe = tg.fake.message(GROUP, user(OWNER), "/style")  # an owner gets a hint, so we know all were handled
    [hint] = await tg.reply_to(probe)
    assert "你是主人" in hint["text"]
    assert len(tg.fake.of("sendMessage", GROUP)) == 2
    tg.fake.message(GROUP, user(AUNT), "/approve")  # not an owner
    [no] = await tg.reply_to(tg.fake.message(GROUP, user(AUNT), "/approve"))
    assert "主人" in no["text"]


async def test_private_chats_answer_owners_and_refuse_others_once(tg):
    await tg.start()
    stranger = tg.fake.message(7, user(7, "Stranger"), MARRIAGE)
    [refusal] = await tg.reply_to(stranger)
    assert "7" in refusal["text"] and "access.owners" in refusal["text"]
    mine = tg.fake.message(OWNER, user(OWNER, "Owner"), "你一个月挣多少钱")
    [reply] = await tg.reply_to(mine)
    assert reply["text"] in answers(tg.engine, "salary-how-much", "tactful")
    tg.fake.message(7, user(7, "Stranger"), "在吗")
    probe = tg.fake.message(OWNER, user(OWNER), "/help")
    await tg.reply_to(probe)
    assert len(tg.fake.of("sendMessage", 7)) == 1


async def test_rate_limit_sends_one_short_notice(tg):
    await tg.start(
        access={"owners": [OWNER], "rate_limit": {"per_user_per_minute": 2, "per_chat_per_minute": 20}}
    )
    await tg.approve()
    sent = [tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}") for _ in range(4)]
    probe = tg.fake.message(GROUP, user(UNCLE), f"{MENTION} 你一个月挣多少钱？")
    await tg.reply_to(probe)
    texts = [
        m["text"]
        for m in tg.fake.bot_messages(GROUP)
        if m.get("reply_to_message", {}).get("message_id") in {s["message_id"] for s in sent}
    ]
    assert len(texts) == 3
    assert "太快" in texts[2]


async def test_429_on_send_and_on_edit_is_waited_out_and_retried(tg):
    await tg.start()
    await tg.approve()
    tg.fake.fail_next("sendMessage", 429, retry_after=1)
    question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}")
    [reply] = await tg.reply_to(question)
    sends = tg.fake.of("sendMessage", GROUP)[-2:]
    assert sends[0].params["text"] == sends[1].params["text"] and sends[1].at - sends[0].at >= 0.95
    tg.fake.fail_next("editMessageText", 429, retry_after=1)
    tg.fake.press(GROUP, user(AUNT), reply, button(reply, "阴阳怪气"))
    await tg.fake.wait_for(lambda: len(tg.fake.of("editMessageText")) == 2)
    await tg.fake.wait_for(lambda: "✓ 🙃 阴阳怪气" in labels(tg.fake.bot_messages(GROUP)[-1]))
    assert tg.fake.bot_messages(GROUP)[-1]["text"] in answers(tg.engine, "marriage-when", "sarcastic")


async def test_server_errors_are_retried_with_backoff(tg):
    await tg.start(access={"open": True})
    tg.fake.fail_next("sendMessage", 500, times=2)
    question = tg.fake.message(5, user(5), MARRIAGE)
    [reply] = await tg.reply_to(question)
    assert reply["text"] in answers(tg.engine, "marriage-when", "tactful")
    assert len(tg.fake.of("sendMessage", 5)) == 3


async def test_burst_of_500_updates_from_50_chats_is_answered_once_each_in_order(tg):
    await tg.start(
        access={"open": True, "rate_limit": {"per_user_per_minute": 100, "per_chat_per_minute": 100}}
    )
    questions = [MARRIAGE, "你一个月挣多少钱？", "今年过年回家吗"]
    chats = [-(1000 + n) for n in range(50)]
    asked = {c: [] for c in chats}
    for round_ in range(10):
        for n, chat in enumerate(chats):
            m = tg.fake.message(chat, user(10_000 + n), f"{MENTION} {questions[(round_ + n) % 3]}")
            asked[chat].append(m["message_id"])
    await tg.fake.wait_for(lambda: len(tg.fake.of("sendMessage")) >= 500, timeout=60)
    await tg.fake.wait_for(lambda: tg.fake.offset_seen > 500, timeout=15)  # every update confirmed
    assert len(tg.fake.of("sendMessage")) == 500
    for chat in chats:
        replied = [int(c.params["reply_parameters"]["message_id"]) for c in tg.fake.of("sendMessage", chat)]
        assert replied == asked[chat], "each question answered exactly once, in the chat's order"
