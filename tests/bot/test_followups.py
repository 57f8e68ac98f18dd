"""A fragment is understood in the topic the chat was just on (issue 10 §4)."""

from __future__ import annotations

import test_bot_app
from test_bot_app import Clock, msg, replies

# The bot tests' fixtures (an engine over the mini corpus, BotApps on it), used here as they are.
shared, engine, make_app = test_bot_app.shared, test_bot_app.engine, test_bot_app.make_app

FRAGMENT = "那去年呢？"  # means nothing alone; after a salary question it asks last year's pay


def salary_texts(engine) -> set[str]:
    item = engine.corpus.items["salary-how-much"].answers["tactful"]
    return {*item, *engine.corpus.topic_answers["salary"]["tactful"]}


async def test_a_fragment_after_a_question_keeps_its_topic(make_app, engine):
    clock = Clock()
    app = make_app(clock=clock, access={"open": True})
    [first] = await replies(app.on_message(msg("@bot 你一个月挣多少钱？", mentions_bot=True)))
    assert first.text in salary_texts(engine)
    clock.now += 60
    [after] = await replies(app.on_message(msg(f"@bot {FRAGMENT}", mentions_bot=True, message_id="11")))
    assert after.text in salary_texts(engine), "the fragment was answered in the chat's last topic"
    # The same fragment in a chat that asked nothing is not taken for a salary question.
    [alone] = await replies(app.on_message(msg(f"@bot {FRAGMENT}", chat="-77", mentions_bot=True)))
    assert alone.text not in salary_texts(engine)


async def test_the_last_topic_expires_and_a_reply_to_an_answer_brings_it_back(make_app, engine):
    clock = Clock()
    app = make_app(clock=clock, access={"open": True})
    [first] = await replies(app.on_message(msg("@bot 你一个月挣多少钱？", mentions_bot=True)))
    await app.sent(first.record_id, "500")
    clock.now += 11 * 60  # past knowledge.followup_minutes (10)
    [late] = await replies(app.on_message(msg(f"@bot {FRAGMENT}", mentions_bot=True, message_id="12")))
    assert late.text not in salary_texts(engine)
    # Replying to the bot's salary answer, however late, is a follow-up of that answer.
    [reply] = await replies(app.on_message(msg(
        FRAGMENT, message_id="13", reply_to_text=first.text, reply_to_bot=True, reply_to_message_id="500")))
    assert reply.text in salary_texts(engine)
