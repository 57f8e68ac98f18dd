"""The plugin's OneBot v11 handlers under NoneBug: events in, the API calls the bot makes out (each checked
for its data: who it goes to, which message it quotes, that it holds only reply and text segments)."""

from __future__ import annotations

import logging

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Adapter, ApiNotAvailable, Bot, NetworkError

from adapters.delivery import split_text
from adapters.nonebot.events import GroupMsgEmojiLikeNoticeEvent
from adapters.nonebot.surface import HINT_RESERVE

from .onebot_events import AUNT, GROUP, NEPHEW, SELF_ID, group, private, quoted
from .sent import Sent

pytestmark = pytest.mark.asyncio(loop_scope="session")
MARRIAGE = "你打算什么时候结婚啊？"
SALARY = "一个月挣多少钱啊"
EMOJI = {"tactful": "128522", "deflect": "9749", "sarcastic": "128527", "another": "10024"}


def answers(bot_app, style: str, item: str = "marriage-when") -> list[str]:
    return bot_app.engine.corpus.items[item].answers[style]


def onebot(ctx) -> Bot:
    return ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=str(SELF_ID))


def send(ctx, expected: Sent, message_id: int, *, group_id: int = GROUP) -> None:
    ctx.should_call_api("send_group_msg", {"group_id": group_id, "message": expected},
                        result={"message_id": message_id})


def reaction(user: int, message_id: int, emoji: str) -> GroupMsgEmojiLikeNoticeEvent:
    return GroupMsgEmojiLikeNoticeEvent.model_validate({
        "time": 1, "self_id": SELF_ID, "post_type": "notice", "notice_type": "group_msg_emoji_like",
        "group_id": GROUP, "user_id": user, "message_id": message_id, "likes": [{"emoji_id": emoji, "count": 1}]})


async def test_a_mention_is_answered_quoting_the_question_with_the_hint_once(app, make_bot_app):
    bot_app = make_bot_app()
    first, second = group(MARRIAGE, to_me=True), group(MARRIAGE, to_me=True)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, first)
        send(ctx, Sent(reply_to=first.message_id, texts=answers(bot_app, "tactful"), hint=True), 900)
        ctx.receive_event(bot, second)
        send(ctx, Sent(reply_to=second.message_id, texts=answers(bot_app, "tactful"), hint=False), 901)
        ctx.receive_event(bot, group(MARRIAGE))  # not for the bot: no call at all
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "900").question == MARRIAGE


@pytest.mark.parametrize(("command", "style"), [("/sarcastic", "sarcastic"), ("/阴阳", "sarcastic"),
                                                ("/委婉", "tactful"), ("/转移", "deflect")])
async def test_a_style_command_on_a_relatives_message_answers_that_message(app, make_bot_app, command, style):
    bot_app = make_bot_app()
    event = group(command, reply=quoted(77, AUNT, SALARY))
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), event)
        send(ctx, Sent(reply_to=event.message_id, texts=answers(bot_app, style, "salary-how-much"), hint=None), 900)


async def test_a_bare_mention_on_a_relatives_message_answers_that_message(app, make_bot_app):
    bot_app = make_bot_app()
    event = group("", to_me=True, reply=quoted(77, AUNT, SALARY))  # "@机器人" alone, as a reply
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), event)
        send(ctx, Sent(reply_to=event.message_id, texts=answers(bot_app, "tactful", "salary-how-much"), hint=None),
             900)


async def test_rate_limits_are_said_once(app, make_bot_app):
    bot_app = make_bot_app(access={"open": True, "rate_limit": {"per_user_per_minute": 1}})
    first, fast, faster = (group(MARRIAGE, to_me=True) for _ in range(3))
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, first)
        send(ctx, Sent(reply_to=first.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
        ctx.receive_event(bot, fast)
        send(ctx, Sent(reply_to=fast.message_id, contains="问得太快了"), 901)
        ctx.receive_event(bot, faster)  # said once: silence now


async def test_a_private_chat_is_answered_like_on_telegram(app, make_bot_app):
    bot_app = make_bot_app()
    event = private(MARRIAGE)
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), event)
        ctx.should_call_api("send_private_msg", {"user_id": NEPHEW, "message": Sent(
            reply_to=event.message_id, texts=answers(bot_app, "tactful"), hint=True)}, result={"message_id": 9})
    assert bot_app.store.record_for_message(f"onebot:u{NEPHEW}", "9") is not None


async def test_replying_to_an_answer_answers_again_quoting_it(app, make_bot_app):
    bot_app = make_bot_app()
    mention = group(MARRIAGE, to_me=True)
    first = Sent(reply_to=mention.message_id, texts=answers(bot_app, "tactful"), hint=None)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, mention)
        send(ctx, first, 900)
    on_answer = quoted(900, SELF_ID, first.text)  # the adapter sets to_me for a reply to the bot
    sarcastic = Sent(reply_to=900, texts=answers(bot_app, "sarcastic"), hint=False)
    another = Sent(reply_to=900, texts=set(answers(bot_app, "tactful")) - {first.text}, hint=False)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, group("/阴阳", to_me=True, reply=on_answer))
        send(ctx, sarcastic, 901)
        ctx.receive_event(bot, group("换一个", to_me=True, reply=on_answer))
        send(ctx, another, 902)
    # Each new answer has its own record, so replying to it works in turn.
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "901").style == "sarcastic"
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "902").text == another.text


async def test_recall_replaced_recalls_the_old_answer(app, make_bot_app):
    bot_app = make_bot_app(onebot={"recall_replaced": True})
    mention = group(MARRIAGE, to_me=True)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, mention)
        send(ctx, first := Sent(reply_to=mention.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
    again = group("/sarcastic", to_me=True, reply=quoted(900, SELF_ID, first.text))
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), again)
        # The old answer is going away, so the new one quotes the request instead.
        send(ctx, Sent(reply_to=again.message_id, texts=answers(bot_app, "sarcastic"), hint=False), 901)
        ctx.should_call_api("delete_msg", {"message_id": 900}, result=None)


async def test_reactions_are_the_buttons(app, make_bot_app):
    bot_app = make_bot_app(onebot={"reactions": True})
    mention = group(MARRIAGE, to_me=True)

    def reactions_on(ctx, message_id: int) -> None:
        for emoji in EMOJI.values():  # one per enabled style, in button order, then 换一个
            ctx.should_call_api("set_msg_emoji_like", {"message_id": message_id, "emoji_id": emoji}, result=None)

    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, mention)
        send(ctx, Sent(reply_to=mention.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
        reactions_on(ctx, 900)
        ctx.receive_event(bot, reaction(AUNT, 900, EMOJI["sarcastic"]))
        send(ctx, Sent(reply_to=900, texts=answers(bot_app, "sarcastic"), hint=False), 901)
        reactions_on(ctx, 901)
        # None of these makes a call: our own reactions coming back, other emojis, other messages.
        ctx.receive_event(bot, reaction(SELF_ID, 901, EMOJI["deflect"]))
        ctx.receive_event(bot, reaction(AUNT, 901, "76"))
        ctx.receive_event(bot, reaction(AUNT, 555, EMOJI["deflect"]))
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "901").style == "sarcastic"


async def test_reactions_are_ignored_unless_switched_on(app, make_bot_app):
    bot_app = make_bot_app()
    mention = group(MARRIAGE, to_me=True)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, mention)
        send(ctx, Sent(reply_to=mention.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
        ctx.receive_event(bot, reaction(AUNT, 900, EMOJI["sarcastic"]))  # no set_msg_emoji_like, no answer


async def test_long_answers_are_split_at_the_limit(app, make_bot_app):
    bot_app = make_bot_app(onebot={"max_chars": 100})
    event = group("/help", to_me=True)
    pieces = split_text(bot_app.help_text("zh", f"onebot:g{GROUP}", "onebot"), 100 - HINT_RESERVE)
    assert len(pieces) >= 3
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), event)
        for n, piece in enumerate(pieces):  # only the first quotes the question
            send(ctx, Sent(reply_to=event.message_id if n == 0 else None, texts=[piece], hint=False), 900 + n)


async def test_cq_codes_in_a_question_stay_text(app, make_bot_app):
    bot_app = make_bot_app()
    question = group("[CQ:at,qq=all] " + MARRIAGE, to_me=True)
    echo = group("/style [CQ:at,qq=all]", to_me=True)  # the bot's reply repeats this one's text
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, question)
        send(ctx, Sent(reply_to=question.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
        ctx.receive_event(bot, echo)
        send(ctx, Sent(reply_to=echo.message_id, contains="「[CQ:at,qq=all]」"), 901)  # a text segment, no at


async def test_access_rules_one_refusal_then_silence_until_approved(app, make_bot_app):
    bot_app = make_bot_app(access={"owners": [1]})
    asks = [group(MARRIAGE, to_me=True) for _ in range(2)]
    approve = group("/approve", user=1)
    after = group(MARRIAGE, to_me=True)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, asks[0])
        send(ctx, Sent(reply_to=asks[0].message_id, contains="还没有开通"), 900)
        ctx.receive_event(bot, asks[1])  # silence
        ctx.receive_event(bot, approve)
        send(ctx, Sent(reply_to=approve.message_id, contains="已开通"), 901)
        ctx.receive_event(bot, after)
        send(ctx, Sent(reply_to=after.message_id, texts=answers(bot_app, "tactful"), hint=None), 902)


async def test_a_failed_send_is_logged_and_the_next_question_answered(app, make_bot_app, caplog):
    bot_app = make_bot_app()
    failing, later = group(MARRIAGE, to_me=True), group(MARRIAGE, to_me=True)
    caplog.set_level(logging.WARNING)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, failing)
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": Sent(reply_to=failing.message_id,
                            hint=None)}, exception=ActionFailed(status="failed", retcode=1200, wording="被禁言"))
        ctx.receive_event(bot, later)
        send(ctx, Sent(reply_to=later.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
    [line] = [r.getMessage() for r in caplog.records if "could not answer" in r.getMessage()]
    assert f"message {failing.message_id} in g{GROUP}" in line and "retcode 1200 (被禁言)" in line


async def test_reactions_failing_leave_the_answer_usable(app, make_bot_app, caplog):
    bot_app = make_bot_app(onebot={"reactions": True})
    mention = group(MARRIAGE, to_me=True)
    caplog.set_level(logging.WARNING)
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), mention)
        send(ctx, Sent(reply_to=mention.message_id, texts=answers(bot_app, "tactful"), hint=None), 900)
        ctx.should_call_api("set_msg_emoji_like", {"message_id": 900, "emoji_id": EMOJI["tactful"]},
                            exception=ActionFailed(status="failed", retcode=1404, message="不支持的 action"))
    assert any("could not put reactions on message 900: retcode 1404" in r.getMessage() for r in caplog.records)
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "900") is not None


async def test_answers_in_different_groups_are_kept_apart(app, make_bot_app):
    bot_app = make_bot_app(access={"owners": [1]})
    approve = group("/approve", user=1, group_id=43)
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), approve)
        send(ctx, Sent(reply_to=approve.message_id, contains="已开通"), 900, group_id=43)
    assert bot_app.store.chat("onebot:g43").approved and not bot_app.store.chat(f"onebot:g{GROUP}").approved


async def test_the_send_budget_makes_a_burst_in_one_group_wait(app, make_bot_app, clock):
    bot_app = make_bot_app(onebot={"group_messages_per_minute": 2})
    asks = [group(MARRIAGE, to_me=True) for _ in range(3)]
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        for n, ask in enumerate(asks):
            ctx.receive_event(bot, ask)
            send(ctx, Sent(reply_to=ask.message_id, texts=answers(bot_app, "tactful"), hint=None), 900 + n)
    assert clock.slept == [60.0]  # the third answer waited for the first one's slot in the group's minute


async def test_a_send_without_a_connected_client_is_tried_again(app, make_bot_app, clock):
    bot_app = make_bot_app()
    ask = group(MARRIAGE, to_me=True)
    async with app.test_matcher() as ctx:
        ctx.receive_event(onebot(ctx), ask)
        expected = Sent(reply_to=ask.message_id, texts=answers(bot_app, "tactful"), hint=None)
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": expected}, exception=ApiNotAvailable())
        send(ctx, expected, 900)
    assert clock.slept == [0.5] and bot_app.store.record_for_message(f"onebot:g{GROUP}", "900") is not None


async def test_a_timed_out_send_is_not_sent_again(app, make_bot_app, clock, caplog):
    # The client had the message (maybe it even sent it): sending it again could make a duplicate.
    make_bot_app()
    ask, later = group(MARRIAGE, to_me=True), group(SALARY, to_me=True)
    caplog.set_level(logging.WARNING)
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        ctx.receive_event(bot, ask)
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": Sent(reply_to=ask.message_id, hint=None)},
                            exception=NetworkError("WebSocket call api send_group_msg timeout"))
        ctx.receive_event(bot, later)  # the next call is the next question's: no second try of the first
        send(ctx, Sent(reply_to=later.message_id, hint=None), 900)
    assert clock.slept == []
    assert any("timeout (not sent again" in r.getMessage() for r in caplog.records)


async def test_a_mention_a_crash_left_open_is_answered_when_the_client_connects(app, make_bot_app):
    """Written down, not answered (the process died): the next start answers it once the OneBot client is
    connected, quoting it; the client posting it again gets nothing more."""
    import asyncio

    from adapters.nonebot import handlers
    from adapters.nonebot.events import to_incoming
    from bot.inbox import Event, Inbox, message_payload
    from bot.store import Store

    bot_app = make_bot_app()
    question = group(MARRIAGE, to_me=True)
    incoming = to_incoming(question)
    died = Store(bot_app.store.path)
    payload = {"message": message_payload(incoming), "reply_to": incoming.message_id}
    Inbox(died).claim(Event("onebot", incoming.message_id, incoming.chat, "message", payload))
    died.close()
    async with app.test_matcher() as ctx:
        bot = onebot(ctx)
        send(ctx, Sent(reply_to=question.message_id, texts=answers(bot_app, "tactful"), hint=True), 950)
        await handlers.on_connect(bot)
        await asyncio.gather(*handlers._replays)
        ctx.receive_event(bot, question)  # no second answer
    assert bot_app.inbox.state("onebot", incoming.message_id) == "answered"
    assert bot_app.store.record_for_message(f"onebot:g{GROUP}", "950").question == MARRIAGE
