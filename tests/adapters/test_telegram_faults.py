"""Telegram under faults, through the real python-telegram-bot against the fake Bot API: a send that timed out
after Telegram delivered it is not sent again (no duplicate in the family chat), one that timed out while
connecting is, and with 429s, 500s and late answers on sends and edits every mention still ends with exactly
one answer carrying its buttons, and those buttons work (adapters/delivery.py, "Timeouts")."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

pytest.register_assert_rewrite("fakes.fake_telegram")
from fakes.fake_telegram import (  # noqa: E402
    BOT,
    LATE,
    TOKEN,
    FakeTelegram,
    Faults,
    Running,
    button,
    labels,
    user,
)
from telegram import Bot  # noqa: E402

from adapters.delivery import Delivery  # noqa: E402
from adapters.telegram.limits import budget as flood_budget  # noqa: E402
from adapters.telegram.request import AiohttpRequest  # noqa: E402
from adapters.telegram.surface import ChatSurface  # noqa: E402
from bot.texts import t  # noqa: E402
from bot.types import Button, Reply  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)  # the fixtures: tg_shared, tg_make_cfg

READ_TIMEOUT_S = 0.5
BUTTONS = ((Button("🔄 换一个", "a:abcdefghij"),),)


@pytest.fixture
async def fake():
    server = await FakeTelegram().start()
    server.hold_s = READ_TIMEOUT_S + 1.0  # a late answer comes well after the client gave up
    yield server
    await server.stop()


async def final(text: str):
    yield Reply(text, done=True, buttons=BUTTONS, record_id="abcdefghij")


async def test_a_send_that_timed_out_after_delivery_is_not_sent_again(fake, no_errors_logged):
    request = AiohttpRequest(4, read_timeout=READ_TIMEOUT_S)
    await request.initialize()
    try:
        bot = Bot(TOKEN, base_url=fake.base_url, request=request)
        fake.fail_next("sendMessage", LATE)  # stored and shown, then answered after the client gave up
        shown = await Delivery(flood_budget()).deliver(ChatSurface(bot, 5), final("明年再说吧"))
    finally:
        await request.shutdown()
    assert [c.fault for c in fake.of("sendMessage")] == [LATE], "sent once: never again after a read timeout"
    [message] = fake.bot_messages(5)
    assert message["text"] == "明年再说吧" and labels(message) == ["🔄 换一个"]
    assert shown.message_ids == [None] and shown.record_id == "abcdefghij", "shown, its id unknown"
    assert any("not sent again" in r.getMessage() for r in no_errors_logged.records)


class Gate:
    """A port nothing can connect to at first: its listen queue is full, so the kernel drops the SYN and
    connecting times out as to an unreachable host. Once open()ed it forwards connections to `port`."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)  # room for one connection not yet accepted...
        self.filler = socket.socket()
        self.filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            self.filler.connect(self.listener.getsockname())  # ...taken by this one
        self.port = self.listener.getsockname()[1]
        self.server: asyncio.Server | None = None

    async def open(self) -> None:
        self.listener.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            self.listener.accept()[0].close()
        self.filler.close()
        self.server = await asyncio.start_server(self._forward, sock=self.listener)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        self.filler.close()
        if self.server:
            self.server.close()
        else:
            self.listener.close()


async def test_a_send_that_timed_out_while_connecting_is_sent_again(fake, no_errors_logged):
    gate = Gate(fake.port)
    request = AiohttpRequest(4, read_timeout=READ_TIMEOUT_S, connect_timeout=0.3)
    await request.initialize()
    backoffs: list[float] = []

    async def sleep(seconds: float) -> None:  # delivery's backoff before the second try: open the gate now
        backoffs.append(seconds)
        await gate.open()
        await asyncio.sleep(seconds)

    try:
        bot = Bot(TOKEN, base_url=fake.base_url.replace(str(fake.port), str(gate.port)), request=request)
        started = time.monotonic()
        shown = await Delivery(flood_budget(), sleep=sleep).deliver(ChatSurface(bot, 5), final("明年再说吧"))
    finally:
        await request.shutdown()
        await gate.close()
    assert len(backoffs) == 1 and time.monotonic() - started >= 0.3, "the first try timed out connecting"
    [message] = fake.bot_messages(5)  # the first try never reached the server: nothing to duplicate
    assert [c.fault for c in fake.of("sendMessage")] == [None]
    assert shown.message_ids == [str(message["message_id"])], "sent again, and its id is known"


MENTIONS, CHATS = 120, 30
QUESTIONS = ["你打算什么时候结婚啊？", "一个月挣多少钱？", "有对象了吗？", "今年过年回家吗？"]


@pytest.fixture
async def faulty(tg_shared, tg_make_cfg, no_errors_logged):
    fake = await FakeTelegram().start()
    cfg = tg_make_cfg(
        access={"open": True, "rate_limit": {"per_user_per_minute": 10**6, "per_chat_per_minute": 10**6}},
        telegram={"edit_interval_s": 0.2, "messages_per_second": 1000, "group_messages_per_minute": 1000,
                  "read_timeout_s": READ_TIMEOUT_S},
    )
    running = await Running(fake, tg_shared[1], cfg).start()
    yield fake
    await running.stop()
    await fake.stop()


async def test_every_mention_gets_one_answer_with_working_buttons_through_429s_500s_and_timeouts(faulty):
    fake = faulty
    # Much higher rates than Telegram's worst days, so that every path is taken many times in a short test.
    fake.inject(Faults(seed=11, rate_limited=0.12, server_error=0.08, late=0.12, retry_after_s=(1, 1),
                       hold_s=READ_TIMEOUT_S + 0.7))
    mentions = [
        fake.message(-(5000 + n % CHATS), user(7000 + n % 40), f"@{BOT['username']} {QUESTIONS[n % 4]}",
                     mention=True)
        for n in range(MENTIONS)
    ]

    def answers(mention: dict) -> list[dict]:
        chat = mention["chat"]["id"]
        return [m for m in fake.bot_messages(chat) if m.get("reply_markup")
                and m.get("reply_to_message", {}).get("message_id") == mention["message_id"]]

    await fake.wait_for(lambda: all(answers(m) for m in mentions), timeout=45)
    await asyncio.sleep(READ_TIMEOUT_S + 0.7)  # a duplicate would be sent after the late answer's timeout
    counts = [len(answers(m)) for m in mentions]
    assert counts == [1] * MENTIONS, f"duplicates: {sum(c > 1 for c in counts)}"
    late_sends = [c for c in fake.of("sendMessage") if c.fault == LATE]
    assert late_sends and fake.injected["429"] and fake.injected["500"], "every kind of fault happened"

    # Every answer's buttons work, also on the answers whose message id the bot never learnt.
    shown = {(int(c.params["chat_id"]), c.params["text"]) for c in late_sends}
    pressed = [answers(m)[0] for m in mentions]
    assert any((m["chat"]["id"], m["text"]) in shown for m in pressed)
    for m in pressed:
        fake.press(m["chat"]["id"], user(7000), m, button(m, "换一个"))

    def edited(m: dict) -> bool:
        return any(int(c.params["message_id"]) == m["message_id"] and int(c.params["chat_id"]) == m["chat"]["id"]
                   for c in fake.of("editMessageText"))

    await fake.wait_for(lambda: all(edited(m) for m in pressed), timeout=45)
    expired = t("zh", "expired")
    assert not [c for c in fake.of("answerCallbackQuery") if c.params.get("text") == expired]
    for m in pressed:
        [now] = [b for b in fake.bot_messages(m["chat"]["id"]) if b["message_id"] == m["message_id"]]
        assert labels(now) == labels(m), "the edited answer keeps its buttons"
    assert [len(answers(m)) for m in mentions] == [1] * MENTIONS, "a press edits; it never adds a message"
