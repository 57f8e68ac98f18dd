"""The Discord bot end to end: the real discord.py client (unmodified client.start()) against a fake Discord
on 127.0.0.1 serving REST and the gateway websocket (tests/fakes.fake_discord.py)."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("fakes.fake_discord")
from fakes.fake_discord import (  # noqa: E402
    AUNT,
    BOT,
    CHANNEL,
    CONTEXT_MENU,
    EPHEMERAL,
    MARRIAGE,
    MENTION,
    OTHER_BOT,
    SALARY,
    UNCLE,
    answers,
    custom_ids,
    selected,
)

pytest_plugins = ("fakes.fake_discord",)  # the fixtures: dc_shared, dc_make_cfg, dc
pytestmark = pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")

LABELS = ["🙏 委婉认真", "🔀 转换话题", "🙃 阴阳怪气", "🔄 换一个"]


async def test_mention_gets_a_reply_with_style_buttons(dc):
    await dc.start()
    await dc.approve()
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    [reply] = await dc.reply_to(question)
    assert reply["content"] in answers(dc.engine, "marriage-when", "tactful")
    assert list(custom_ids(reply)) == LABELS
    assert selected(reply) == ["🙏 委婉认真"]
    assert all(len(c) <= 100 and c.startswith("sfq:") for c in custom_ids(reply).values())
    assert reply["message_reference"]["message_id"] == question["id"]
    # A mention sent as a reply to a relative's message answers that message.
    relative = dc.fake.message(CHANNEL, UNCLE, "大侄子，你在外面一个月能拿多少？")
    tag = dc.fake.message(CHANNEL, AUNT, MENTION, mentions=[BOT], reply_to=relative)
    [answer] = await dc.reply_to(tag)
    assert answer["content"] in answers(dc.engine, "salary-how-much", "tactful")
    # Other bots are never answered; our own messages (dispatched back by the gateway) neither.
    dc.fake.message(CHANNEL, OTHER_BOT, f"{MENTION} {SALARY}", mentions=[BOT])
    probe = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {SALARY}", mentions=[BOT])
    await dc.reply_to(probe)
    assert len(dc.fake.of("create_message")) == 4  # approval, two answers, the probe


@pytest.mark.parametrize("style", ["tactful", "deflect", "sarcastic"])
async def test_each_style_slash_command_answers_in_its_style(dc, style):
    await dc.start()
    await dc.approve()
    interaction = dc.fake.slash(CHANNEL, AUNT, style, question=MARRIAGE)
    response = await dc.response_to(interaction)
    assert response["content"] in answers(dc.engine, "marriage-when", style)
    assert len(selected(response)) == 1 and style in custom_ids(response)[selected(response)[0]]
    assert dc.fake.of("interaction_callback")[0].body["type"] == 4  # answered at once, no deferral
    registered = {c["name"]: c for c in dc.fake.commands}
    assert {"tactful", "deflect", "sarcastic", "answer", "style", "help", "approve"} <= set(registered)
    assert [o["name"] for o in registered[style]["options"]] == ["question"]
    assert registered[style]["description_localizations"]["en-US"].startswith("answer")
    assert registered[CONTEXT_MENU]["type"] == 3


async def test_style_and_help_commands_answer_only_the_one_who_asked(dc):
    await dc.start()
    await dc.approve()
    chosen = await dc.response_to(dc.fake.slash(CHANNEL, AUNT, "style", style="sarcastic"))
    assert "阴阳怪气" in chosen["content"] and chosen["flags"] & EPHEMERAL
    helped = await dc.response_to(dc.fake.slash(CHANNEL, AUNT, "help", locale="en-US"))
    assert "/sarcastic" in helped["content"] and "How to use" in helped["content"]
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {SALARY}", mentions=[BOT])
    [reply] = await dc.reply_to(question)
    assert reply["content"] in answers(dc.engine, "salary-how-much", "sarcastic")


async def test_context_menu_answers_the_message_it_is_used_on(dc):
    await dc.start()
    await dc.approve()
    relative = dc.fake.message(CHANNEL, UNCLE, "你打算啥时候结婚呀？")
    interaction = dc.fake.context_menu(CHANNEL, AUNT, relative, CONTEXT_MENU)
    response = await dc.response_to(interaction)
    assert response["content"] in answers(dc.engine, "marriage-when", "tactful")
    assert list(custom_ids(response)) == LABELS


async def test_a_press_edits_the_answer_in_place(dc):
    await dc.start()
    await dc.approve()
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {SALARY}", mentions=[BOT])
    [reply] = await dc.reply_to(question)
    dc.fake.press(CHANNEL, AUNT, reply, custom_ids(reply)["🔀 转换话题"])
    await dc.fake.wait_for(lambda: reply["edits"])
    assert reply["content"] in answers(dc.engine, "salary-how-much", "deflect")
    assert selected(reply) == ["🔀 转换话题"]
    assert [c.body["type"] for c in dc.fake.of("interaction_callback")] == [7]  # UPDATE_MESSAGE: in place
    before = reply["content"]
    dc.fake.press(CHANNEL, UNCLE, reply, custom_ids(reply)["🔄 换一个"])
    await dc.fake.wait_for(lambda: len(reply["edits"]) == 2)
    assert reply["content"] != before
    assert reply["content"] in answers(dc.engine, "salary-how-much", "deflect")
    assert len(dc.fake.bot_messages(CHANNEL)) == 2, "no new message, only edits"


async def test_a_press_on_an_old_message_works_after_a_restart(dc, tmp_path):
    await dc.start()
    await dc.approve()
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    [reply] = await dc.reply_to(question)
    await dc.stop()
    await dc.start()  # a new client, BotApp and Store over the same state file
    dc.fake.press(CHANNEL, AUNT, reply, custom_ids(reply)["🙃 阴阳怪气"])
    await dc.fake.wait_for(lambda: reply["edits"])
    assert reply["content"] in answers(dc.engine, "marriage-when", "sarcastic")
    assert selected(reply) == ["🙃 阴阳怪气"]
    # With the state file gone the record is unknown: a note only the presser sees, and no edit.
    await dc.stop()
    await dc.start(state={"path": str(tmp_path / "elsewhere.sqlite3")})
    dc.fake.press(CHANNEL, AUNT, reply, custom_ids(reply)["🔄 换一个"])
    await dc.fake.wait_for(lambda: len(dc.fake.of("interaction_callback")) == 2)
    note = dc.fake.of("interaction_callback")[1].body
    assert note["type"] == 4 and note["data"]["flags"] & EPHEMERAL and "失效" in note["data"]["content"]
    assert len(reply["edits"]) == 1


async def test_a_second_response_to_an_interaction_is_handled(dc):
    """Discord refuses a second acknowledgement with 40060: the answer goes into the original response."""
    await dc.start()
    await dc.approve()
    interaction = dc.fake.slash(CHANNEL, AUNT, "deflect", question=SALARY)
    dc.fake.acknowledge(interaction)  # e.g. a retried callback whose first attempt did arrive
    response = await dc.response_to(interaction)
    assert response["content"] in answers(dc.engine, "salary-how-much", "deflect")
    [refused] = dc.fake.of("interaction_callback", ok=False)
    assert refused.status == 400
    assert dc.fake.of("edit_original")
    # The same for a press: the pressed message is edited through the original response.
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    [reply] = await dc.reply_to(question)
    press = dc.fake.press(CHANNEL, AUNT, reply, custom_ids(reply)["🙃 阴阳怪气"])
    dc.fake.acknowledge(press)
    await dc.fake.wait_for(lambda: reply["edits"])
    assert reply["content"] in answers(dc.engine, "marriage-when", "sarcastic")
