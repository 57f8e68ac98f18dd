"""The inbox on Telegram: no mention lost to a kill -9, none answered twice, old ones not answered at all."""

from __future__ import annotations

import json
import time

import pytest

pytest.register_assert_rewrite("fakes.fake_telegram")
from fakes.fake_telegram import (  # noqa: E402
    AUNT,
    GROUP,
    MARRIAGE,
    MENTION,
    TOKEN,
    UNCLE,
    FakeTelegram,
    answers,
    button,
    user,
)
from support.crash import answers_to, crash_and_restart  # noqa: E402

from adapters.telegram.inbox import event_of  # noqa: E402
from bot.inbox import Inbox  # noqa: E402
from bot.metrics import DROPPED  # noqa: E402
from bot.store import Store  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)  # the fixtures: tg_shared, tg_make_cfg, tg


async def test_a_kill_9_in_a_busy_minute_loses_no_mention(tmp_path, mini_data):
    """SIGKILL while a third are answered: after the restart every mention has its answer.

    A duplicate is possible only for an answer whose sendMessage was in flight when the process died (it
    reached Telegram, its message id never reached the state file; the Bot API has no idempotency key and
    no way to read the chat back): at most one per chat, since a chat's updates are answered one at a time."""
    chats = 10
    outcome = await crash_and_restart(tmp_path, mini_data, mentions=90, chats=chats, timeout=120)
    print(outcome)
    assert outcome.answered_before_kill < outcome.mentions, "killed before the burst was through"
    assert outcome.lost == 0, outcome
    assert outcome.duplicated <= chats, outcome
    assert outcome.duplicate_sent_around_kill_s < 5, "a duplicate of an answer out well before the kill"


def _raw(fake: FakeTelegram, msg: dict, *, confirmed: bool) -> dict:
    """The update carrying `msg` as the Bot API serves it; `confirmed`: Telegram no longer has it."""
    raw = next(u for u in fake.updates if u.get("message") is msg)
    if confirmed:
        fake.updates.remove(raw)
    return json.loads(json.dumps(raw))


def _written_down(cfg, raw: dict, age_s: float = 0.0) -> None:
    """As if a bot had fetched `raw` and died before answering it, `age_s` ago."""
    store = Store(cfg.path(cfg.state.path), clock=lambda: time.time() - age_s)
    Inbox(store).claim(event_of(raw))
    store.close()


async def test_updates_telegram_serves_again_after_a_restart_are_answered_once(tg):
    await tg.start(access={"open": True})
    first = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
    first_raw = _raw(tg.fake, first, confirmed=False)
    await tg.reply_to(first)
    await tg.stop()
    # Killed with an update written down but not answered; Telegram never had its offset confirmed.
    pending = tg.fake.message(GROUP, user(UNCLE), f"{MENTION} {MARRIAGE}", mention=True)
    _written_down(tg.cfg, _raw(tg.fake, pending, confirmed=False))
    tg.fake.updates.insert(0, first_raw)  # ...and it serves an answered one again too
    await tg.start()
    last = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
    await tg.reply_to(last)  # the chat's updates run in order: the earlier ones are through
    assert [len(answers_to(tg.fake, m)) for m in (first, pending, last)] == [1, 1, 1]
    assert tg.running.app.inbox.state("telegram", str(first_raw["update_id"])) == "answered"


async def test_open_updates_are_answered_on_start_unless_older_than_the_max_age(tg):
    await tg.start(access={"open": True})
    await tg.stop()
    old = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
    recent = tg.fake.message(GROUP, user(UNCLE), f"{MENTION} {MARRIAGE}", mention=True)
    old_raw = _raw(tg.fake, old, confirmed=True)
    _written_down(tg.cfg, old_raw, age_s=11 * 60)  # inbox.max_age_minutes is 10
    _written_down(tg.cfg, _raw(tg.fake, recent, confirmed=True), age_s=9 * 60)
    dropped = DROPPED.labels("telegram", "too_old")._value.get()
    await tg.start()
    [answer] = await tg.reply_to(recent)
    assert answer["reply_markup"]["inline_keyboard"], "a complete answer, with its buttons"
    probe = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
    await tg.reply_to(probe)
    assert answers_to(tg.fake, old) == [] and len(tg.fake.of("sendMessage")) == 2
    assert tg.running.app.inbox.state("telegram", str(old_raw["update_id"])) == "dropped"
    assert DROPPED.labels("telegram", "too_old")._value.get() == dropped + 1


async def test_a_press_a_crash_left_open_is_answered_on_start(tg):
    """A button press written down but not answered: after the restart the pressed answer is edited in place
    (Telegram's spinner has long stopped; the edit has no time limit)."""
    await tg.start(access={"open": True})
    question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
    [answer] = await tg.reply_to(question)
    await tg.stop()
    tg.fake.press(GROUP, user(AUNT), answer, button(answer, "阴阳怪气"))
    press = tg.fake.updates.pop()  # Telegram had it confirmed
    _written_down(tg.cfg, json.loads(json.dumps(press)))
    await tg.start()
    await tg.fake.wait_for(lambda: tg.fake.of("editMessageText"))
    edited = tg.fake.messages[(GROUP, answer["message_id"])]
    assert edited["text"] in answers(tg.engine, "marriage-when", "sarcastic")
    await tg.fake.wait_for(lambda: tg.running.app.inbox.state("telegram", str(press["update_id"])) == "answered")


async def test_webhook_updates_are_written_down_as_they_are_queued_and_a_resent_one_answered_once(tg):
    """Webhook mode: PTB's webhook handler puts each update on the Application's update queue and only then
    lets tornado answer Telegram 200 (tornado is not installed here: the test puts them as the handler does)."""
    from telegram import Update

    from adapters.telegram.handlers import build_application
    from adapters.telegram.inbox import UpdateInbox
    from bot.app import BotApp

    cfg = tg.make_cfg(access={"open": True})
    app = BotApp(tg.engine, cfg, Store(cfg.path(cfg.state.path)))
    application = build_application(app, cfg, TOKEN, base_url=tg.fake.base_url, inbox=UpdateInbox(app.inbox))
    await application.initialize()
    await application.start()
    try:
        question = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
        raw = _raw(tg.fake, question, confirmed=True)
        await application.update_queue.put(Update.de_json(raw, application.bot))
        assert app.inbox.state("telegram", str(raw["update_id"])) in ("open", "answered"), "on disk before the 200"
        await tg.reply_to(question)
        await tg.fake.wait_for(lambda: app.inbox.state("telegram", str(raw["update_id"])) == "answered")
        await application.update_queue.put(Update.de_json(raw, application.bot))  # Telegram sends it again
        probe = tg.fake.message(GROUP, user(AUNT), f"{MENTION} {MARRIAGE}", mention=True)
        await application.update_queue.put(Update.de_json(_raw(tg.fake, probe, confirmed=True), application.bot))
        await tg.reply_to(probe)
        assert len(answers_to(tg.fake, question)) == 1
    finally:
        await application.stop()
        await application.shutdown()
        await app.aclose()
