"""The inbox on Discord: a mention whose answer was cut off by a crash is answered by the next start; an
interaction left open cannot be (its token and 3 seconds are gone) and is dropped, counted."""

from __future__ import annotations

import asyncio

import pytest

pytest.register_assert_rewrite("fakes.fake_discord")
from fakes.fake_discord import AUNT, BOT, CHANNEL, MARRIAGE, MENTION, answers, custom_ids  # noqa: E402

from bot.metrics import DROPPED  # noqa: E402

pytest_plugins = ("fakes.fake_discord",)  # the fixtures: dc_shared, dc_make_cfg, dc
pytestmark = pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")

STALLED = ("create_message", "interaction_callback")
HANDLERS = ("discord.py: on_message", "CommandTree-invoker")  # the tasks discord.py answers events in


async def test_a_mention_cut_off_by_a_crash_is_answered_after_the_restart(dc):
    await dc.start(access={"open": True})
    fake, gate, arrived = dc.fake, asyncio.Event(), []

    async def stall(p, body, request):  # the answer never gets through: the process dies meanwhile
        arrived.append(p)
        await gate.wait()
        return 503, {"message": "gone", "code": 0}

    for route in STALLED:
        setattr(fake, f"_r_{route}", stall)
    question = fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    interaction = fake.slash(CHANNEL, AUNT, "tactful", question=MARRIAGE)
    await fake.wait_for(lambda: len(arrived) == 2)
    # The crash: the handlers stop dead (nothing after this point of theirs runs), then the client goes.
    handlers = [t for t in asyncio.all_tasks() if t.get_name() in HANDLERS]
    assert len(handlers) == 2
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    gate.set()
    for route in STALLED:
        delattr(fake, f"_r_{route}")  # the class's handler again
    await dc.stop()
    assert fake.replies_to(question) == []

    dropped = DROPPED.labels("discord", "window_closed")._value.get()
    await dc.start()
    [reply] = await dc.reply_to(question)
    assert reply["content"] in answers(dc.engine, "marriage-when", "tactful")
    assert reply["message_reference"]["message_id"] == question["id"] and custom_ids(reply)
    await fake.wait_for(lambda: dc.app.inbox.state("discord", question["id"]) == "answered")
    assert dc.app.inbox.state("discord", interaction) == "dropped"
    assert DROPPED.labels("discord", "window_closed")._value.get() == dropped + 1
    assert fake.original(interaction) is None


async def test_a_mention_the_gateway_dispatches_again_is_answered_once(dc):
    """A gateway that replays events (a RESUME, a second session) delivers the same message id again."""
    await dc.start(access={"open": True})
    question = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    await dc.reply_to(question)
    await dc.fake.wait_for(lambda: dc.app.inbox.state("discord", question["id"]) == "answered")
    dc.fake._dispatch("MESSAGE_CREATE", question)
    probe = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    await dc.reply_to(probe)
    assert len(dc.fake.replies_to(question)) == 1
