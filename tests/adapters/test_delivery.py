"""The shared delivery (adapters/delivery.py, adapters/budget.py) on its own: a recording surface and a fake
clock, so throttling, splitting, the final slot and 429 waits are checked exactly, without a platform.

The platform surfaces are driven through the real libraries in test_telegram_delivery.py and
test_discord_delivery.py; here the surface is the smallest one a new platform could write.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from adapters.budget import ALL, Budget, Window
from adapters.delivery import (
    NETWORK_BACKOFF_S,
    TRANSIENT,
    UNCONFIRMED,
    Delivery,
    Surface,
    Unconfirmed,
    Verdict,
    Wait,
    call,
)
from bot.types import Button, Reply

BUTTONS = ((Button("🙏 委婉认真", "s:abcdefghij:tactful", selected=True),), (Button("🔄 换一个", "a:abcdefghij"),))


class Clock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Flood(Exception):
    """This fake platform's 429."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Flaky(Exception):
    """This fake platform's network error."""


class NoAnswer(Exception):
    """This fake platform's read timeout: the call was done, its answer never came."""


def classify(e: Exception) -> Verdict:
    if isinstance(e, Flood):
        return Wait(e.seconds)
    if isinstance(e, NoAnswer):
        return UNCONFIRMED
    return TRANSIENT if isinstance(e, Flaky) else None


@dataclass
class Shown:
    kind: str  # "send" | "edit"
    message_id: str
    text: str
    buttons: tuple
    at: float
    first: bool = False


class Recording(Surface):
    """A platform whose messages are a list; `fail` holds errors the next calls raise, in order."""

    classify = staticmethod(classify)

    def __init__(self, clock: Clock, *, limit: int = 100, can_edit: bool = True, chat: object = -1) -> None:
        self.clock, self.limit, self.can_edit, self.chat = clock, limit, can_edit, chat
        self.calls: list[Shown] = []
        self.fail: list[Exception] = []
        self.unanswered = 0  # the next calls are done, then raise NoAnswer
        self.messages: dict[str, tuple[str, tuple]] = {"7": ("the old answer", BUTTONS)}
        self.typed: list[float] = []  # loop times of typing indicators
        self.first_shown_at: float | None = None  # loop time of the first send or edit

    async def send(self, text, buttons, *, first):
        self._maybe_fail()
        message_id = str(100 + len(self.messages))
        self.messages[message_id] = (text, buttons)
        self.calls.append(Shown("send", message_id, text, buttons, self.clock.now, first))
        self._maybe_lose_answer()
        return message_id

    async def edit(self, message_id, text, buttons):
        self._maybe_fail()
        self.messages[message_id] = (text, buttons)
        self.calls.append(Shown("edit", message_id, text, buttons, self.clock.now))
        self._maybe_lose_answer()

    def _maybe_lose_answer(self) -> None:
        if self.unanswered:
            self.unanswered -= 1
            raise NoAnswer

    async def typing(self):
        self.typed.append(asyncio.get_running_loop().time())

    def _maybe_fail(self) -> None:
        if self.first_shown_at is None:
            self.first_shown_at = asyncio.get_running_loop().time()
        if self.fail:
            raise self.fail.pop(0)

    def of(self, kind: str) -> list[Shown]:
        return [c for c in self.calls if c.kind == kind]


async def stream(clock: Clock, texts: list[str], *, every: float = 0.0, buttons=BUTTONS, record_id="r1"):
    """What BotApp yields: the text so far, `every` seconds apart; the last one done with buttons."""
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        yield Reply(text, done=last, buttons=buttons if last else (), record_id=record_id if last else None)
        if every:
            await clock.sleep(every)


def unlimited(clock: Clock) -> Budget:
    return Budget(Window(10**6, 1, lambda chat: ALL), clock=clock, sleep=clock.sleep)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_streamed_edits_are_throttled_and_the_final_edit_waits_its_turn(clock):
    surface = Recording(clock)
    delivery = Delivery(unlimited(clock), edit_every_s=1.0, clock=clock, sleep=clock.sleep)
    texts = ["一" * n for n in range(1, 13)]  # a piece every 0.25 s: 2.75 s of streaming
    shown = await delivery.deliver(surface, stream(clock, texts, every=0.25))
    [sent] = surface.of("send")
    assert (sent.text, sent.first, sent.buttons) == ("一", True, ())
    edits = surface.of("edit")
    assert [e.at for e in edits] == [1.0, 2.0, 3.0], "one edit a second, the final one included"
    assert edits[-1].text == texts[-1] and edits[-1].buttons == BUTTONS, "buttons come with the final text"
    assert all(not e.buttons for e in edits[:-1])
    assert shown.message_ids == [sent.message_id] and shown.last_id == sent.message_id
    assert shown.record_id == "r1" and shown.final.text == texts[-1]


async def test_long_answers_are_split_at_the_limit_with_the_buttons_on_the_last_piece(clock):
    surface = Recording(clock, limit=10)
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    text = "春节快乐，万事如意。" * 3  # 30 characters: three pieces
    shown = await delivery.deliver(surface, stream(clock, ["春节", text]))
    assert [(c.kind, c.text, c.buttons) for c in surface.calls] == [
        ("send", "春节", ()),
        ("edit", text[:10], ()),  # the message shown so far becomes the first piece
        ("send", text[10:20], ()),
        ("send", text[20:], BUTTONS),
    ]
    assert [c.first for c in surface.of("send")] == [True, False, False], "only the first quotes the question"
    assert len(shown.message_ids) == 3 and shown.last_id == surface.calls[-1].message_id


async def test_optional_edits_leave_the_last_slot_to_the_final_edit(clock):
    """A group with room for 4 messages a minute: one send, two optional edits, and the final edit."""
    surface = Recording(clock)
    budget = Budget(Window(4, 60, lambda chat: chat), clock=clock, sleep=clock.sleep)
    delivery = Delivery(budget, edit_every_s=0, clock=clock, sleep=clock.sleep)
    texts = ["问" * n for n in range(1, 31)]
    await delivery.deliver(surface, stream(clock, texts, every=0.01))
    assert [c.kind for c in surface.calls] == ["send", "edit", "edit", "edit"]
    assert surface.calls[-1].text == texts[-1] and surface.calls[-1].buttons == BUTTONS
    assert max(clock.slept) < 1, "the final edit found its slot free: it did not wait for the window"


async def test_a_429_is_waited_out_as_asked_and_holds_the_chat_back(clock):
    surface = Recording(clock)
    budget = unlimited(clock)
    delivery = Delivery(budget, clock=clock, sleep=clock.sleep)
    surface.fail = [Flood(3), Flood(2)]
    shown = await delivery.deliver(surface, stream(clock, ["好的"]))
    assert clock.slept[:2] == [3, 2] and surface.of("send")[0].at == 5
    assert shown.last_id is not None
    budget.block(-1, 10)
    assert budget.delay(-1) == pytest.approx(10) and budget.delay(-2) == 0, "only that chat waits"


async def test_rate_limits_are_never_given_up_and_network_errors_are_after_backoff(clock):
    async def fails(errors: list[Exception]) -> str:
        async def fn():
            if errors:
                raise errors.pop(0)
            return "ok"

        return await call(fn, what="test", classify=classify, sleep=clock.sleep)

    assert await fails([Flood(1)] * 20) == "ok", "a 429 is retried as long as it takes"
    clock.slept.clear()
    assert await fails([Flaky()] * len(NETWORK_BACKOFF_S)) == "ok"
    assert clock.slept == list(NETWORK_BACKOFF_S)
    with pytest.raises(Flaky):
        await fails([Flaky()] * (len(NETWORK_BACKOFF_S) + 1))
    clock.slept.clear()
    with pytest.raises(ValueError):
        await fails([ValueError("our bug")])
    assert clock.slept == [], "what the platform cannot fix by retrying is raised at once"


async def test_an_unconfirmed_call_is_retried_only_when_repeating_it_is_harmless(clock):
    async def fn():
        raise NoAnswer

    with pytest.raises(Unconfirmed):
        await call(fn, what="send", classify=classify, sleep=clock.sleep, repeatable=False)
    assert clock.slept == [], "not tried again"
    with pytest.raises(NoAnswer):
        await call(fn, what="edit", classify=classify, sleep=clock.sleep)
    assert clock.slept == list(NETWORK_BACKOFF_S), "an edit is retried like any network error"


async def test_a_send_whose_answer_never_came_is_not_sent_again(clock):
    """The message most likely went out: it counts as shown, with an unknown id (no duplicate)."""
    surface = Recording(clock)
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    surface.unanswered = 1
    shown = await delivery.deliver(surface, stream(clock, ["好的，知道了"]))
    assert [(c.kind, c.text, c.buttons) for c in surface.calls] == [("send", "好的，知道了", BUTTONS)]
    assert shown.message_ids == [None] and shown.last_id is None
    assert shown.record_id == "r1", "the handler still learns the answer was shown (BotApp.sent with None)"


async def test_a_streamed_message_with_an_unknown_id_gets_its_final_text_as_a_new_message(clock):
    surface = Recording(clock)
    delivery = Delivery(unlimited(clock), edit_every_s=1.0, clock=clock, sleep=clock.sleep)
    surface.unanswered = 1  # the first streamed piece
    texts = ["一" * n for n in range(1, 9)]
    shown = await delivery.deliver(surface, stream(clock, texts, every=0.5))
    assert [(c.kind, c.text, c.buttons, c.first) for c in surface.calls] == [
        ("send", "一", (), True),
        ("send", texts[-1], BUTTONS, True),  # no edits of a message whose id is unknown
    ]
    assert shown.message_ids == [surface.calls[-1].message_id]


async def test_an_edit_whose_answer_never_came_is_retried(clock):
    surface = Recording(clock)
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    surface.unanswered = 1
    shown = await delivery.deliver(surface, stream(clock, ["换个说法"]), existing="7")
    assert [(c.kind, c.message_id) for c in surface.calls] == [("edit", "7"), ("edit", "7")]
    assert shown.last_id == "7" and surface.messages["7"] == ("换个说法", BUTTONS)


async def test_a_platform_that_drops_repeated_sends_gets_the_send_again(clock):
    surface = Recording(clock)
    surface.repeatable_sends = True  # as Discord with a nonce: the platform keeps one copy
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    surface.unanswered = 1
    shown = await delivery.deliver(surface, stream(clock, ["好的"]))
    assert [c.kind for c in surface.calls] == ["send", "send"]
    assert shown.last_id == surface.calls[-1].message_id


async def test_a_surface_that_cannot_edit_gets_the_final_text_once(clock):
    surface = Recording(clock, limit=12, can_edit=False)
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    text = "这个问题嘛，明年再说。先吃饭吧，菜都凉了。"
    shown = await delivery.deliver(surface, stream(clock, [text[:5], text[:11], text], every=0.5))
    assert [c.kind for c in surface.calls] == ["send", "send"], "no edits, no streamed pieces"
    assert "".join(c.text for c in surface.calls) == text
    assert surface.calls[-1].buttons == BUTTONS and shown.last_id == surface.calls[-1].message_id


async def test_a_press_replaces_the_message_it_was_on(clock):
    surface = Recording(clock)
    delivery = Delivery(unlimited(clock), clock=clock, sleep=clock.sleep)
    firsts: list[Reply | None] = []

    async def on_first(reply):
        firsts.append(reply)

    shown = await delivery.deliver(surface, stream(clock, ["换个", "换个说法"], every=2), existing="7",
                                   on_first=on_first)
    assert [(c.kind, c.message_id) for c in surface.calls] == [("edit", "7"), ("edit", "7")]
    assert surface.messages["7"] == ("换个说法", BUTTONS) and shown.last_id == "7"
    assert firsts[0].text == "换个"
    # Nothing at all (a refused press): on_first still runs, to stop the client's spinner.
    await delivery.deliver(surface, stream(clock, []), on_first=on_first)
    assert firsts[-1] is None


async def test_a_notice_alone_shows_nothing_and_names_no_record(clock):
    surface = Recording(clock)
    shown = await Delivery(unlimited(clock), clock=clock, sleep=clock.sleep).deliver(
        surface, stream(clock, [""], buttons=(), record_id=None))
    assert surface.calls == [] and shown.final is not None and shown.record_id is None


async def test_typing_shows_until_the_first_text_then_stops():
    """Real time: typing is only cosmetic and runs on its own timer."""
    loop_clock = Clock()
    surface = Recording(loop_clock)
    surface.typing_after_s, surface.typing_every_s = 0.05, 0.05

    async def slow():
        await asyncio.sleep(0.3)
        yield Reply("这个", done=False)
        await asyncio.sleep(0.3)
        yield Reply("这个问题嘛。", buttons=BUTTONS)

    await Delivery(unlimited(loop_clock)).deliver(surface, slow())
    assert len(surface.typed) >= 3, "typing… while nothing was shown"
    assert all(t <= surface.first_shown_at for t in surface.typed), "no typing once the message shows the answer"


def test_budget_windows_count_per_bucket_and_forget_quiet_chats(clock):
    budget = Budget(Window(3, 1, lambda chat: ALL), Window(2, 60, lambda chat: chat if chat < 0 else None),
                    clock=clock)
    assert budget.try_take(-1, reserve=0) and budget.try_take(-1, reserve=0)
    assert budget.delay(-1) == pytest.approx(60) and not budget.try_take(-1, reserve=0)
    assert budget.delay(5) == 0 and not budget.try_take(-2, reserve=2), "a reserve can hold a whole window"
    for chat in range(-100, -10):  # many groups, one message each, spread over time
        clock.now += 2
        budget.take(chat)
    clock.now += 61
    budget.take(5)
    assert sum(len(spent) for spent in budget._spent) == 1, "only the bot-wide counter of the last second"
