"""Discord under faults, through the real discord.py against the fake: a message that Discord created but
whose answer came back as a 5xx is sent again with the same nonce, and Discord (the fake, as Discord does
with enforce_nonce) answers with the message it already made: one answer in the channel, not two."""

from __future__ import annotations

import asyncio

import pytest

pytest.register_assert_rewrite("fakes.fake_discord")
from fakes.fake_discord import AUNT, BOT, CHANNEL, MARRIAGE, MENTION  # noqa: E402

pytest_plugins = ("fakes.fake_discord",)
pytestmark = pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")


async def test_a_send_retried_after_a_5xx_that_did_create_the_message_leaves_one_message(dc):
    await dc.start(access={"open": True})
    dc.fake.fail_after_next("create_message", 503, times=2)  # done, then answered 503 (discord.py raises it)
    mention = dc.fake.message(CHANNEL, AUNT, f"{MENTION} {MARRIAGE}", mentions=[BOT])
    [answer] = await dc.reply_to(mention)
    await dc.fake.wait_for(lambda: len([c for c in dc.fake.calls if c.route == "create_message"]) >= 3)
    await asyncio.sleep(0.3)
    assert [c.status for c in dc.fake.calls if c.route == "create_message"] == [503, 503, 200]
    assert len(dc.fake.replies_to(mention)) == 1, "the retries found the message the first try made"
    assert answer["components"], "with its buttons"
    nonces = {c.body["nonce"] for c in dc.fake.calls if c.route == "create_message"}
    assert nonces == {f"{mention['id']}.0"}, "one nonce for every try: the question's id and the piece"
