"""bot.inbox: claiming incoming events, recognising redeliveries, replaying the open ones, pruning."""

from __future__ import annotations

import asyncio

import pytest

from bot.inbox import KEEP_S, Event, Inbox, message_from, message_payload
from bot.metrics import DROPPED, INBOX_OPEN, REDELIVERED
from bot.store import Record, Store
from bot.types import IncomingMessage, User


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "state.sqlite3"


def inbox_at(path, clock) -> Inbox:
    return Inbox(Store(path, clock=clock))


def ev(n: int, kind: str = "message", platform: str = "test") -> Event:
    return Event(platform, str(n), "chat1", kind, {"n": n})


def sample(metric, *labels) -> float:
    return metric.labels(*labels)._value.get()


def test_a_new_event_is_claimed_once_and_a_redelivery_is_recognised(path, clock):
    inbox = inbox_at(path, clock)
    redelivered = sample(REDELIVERED, "test")
    assert inbox.claim(ev(1)) is True
    assert inbox.claim(ev(1)) is False, "in hand in this process: not answered a second time"
    inbox.done("test", "1")
    assert inbox.claim(ev(1)) is False, "answered: never again"
    assert inbox.state("test", "1") == "answered"
    assert sample(REDELIVERED, "test") == redelivered + 2


def test_claim_many_is_one_batch_and_says_which_are_new(path, clock):
    inbox = inbox_at(path, clock)
    inbox.claim(ev(2))
    inbox.done("test", "2")
    assert inbox.claim_many([ev(1), ev(2), ev(3)]) == [True, False, True]


def test_open_events_are_replayed_after_a_restart_and_answered_once(path, clock):
    inbox = inbox_at(path, clock)
    inbox.claim_many([ev(1), ev(2), ev(3)])
    inbox.done("test", "2")
    # The process dies here; a new one opens the same state file.
    again = inbox_at(path, clock)
    assert sample(INBOX_OPEN, "test") == 2
    redelivered = sample(REDELIVERED, "test")
    todo = again.replay("test", max_age_s=600)
    assert sample(REDELIVERED, "test") == redelivered + 2
    assert [(e.event_id, e.payload) for e in todo] == [("1", {"n": 1}), ("3", {"n": 3})]
    assert again.replay("test", max_age_s=600) == [], "in hand now: a second replay does not repeat them"
    assert again.claim(ev(1)) is False, "the platform redelivering one being replayed: answered once"
    again.done("test", "1")
    again.done("test", "3")
    assert sample(INBOX_OPEN, "test") == 0
    assert inbox_at(path, clock).replay("test", max_age_s=600) == []


def test_events_older_than_the_max_age_or_their_window_are_dropped_and_counted(path, clock):
    inbox = inbox_at(path, clock)
    inbox.claim(ev(1))
    clock.now += 30
    inbox.claim(ev(2, "press"))
    inbox.claim(ev(3))
    clock.now += 10
    too_old, closed = sample(DROPPED, "test", "too_old"), sample(DROPPED, "test", "window_closed")
    todo = inbox_at(path, clock).replay("test", max_age_s=35, windows={"press": 5})
    assert [e.event_id for e in todo] == ["3"]
    assert inbox.state("test", "1") == "dropped" and inbox.state("test", "2") == "dropped"
    assert sample(DROPPED, "test", "too_old") == too_old + 1
    assert sample(DROPPED, "test", "window_closed") == closed + 1
    assert inbox.claim(ev(1)) is False, "a dropped one redelivered still gets nothing"


def test_a_cancelled_answer_leaves_the_event_open_a_failed_one_is_done(path, clock):
    inbox = inbox_at(path, clock)
    inbox.claim_many([ev(1), ev(2)])
    with pytest.raises(asyncio.CancelledError), inbox.answering("test", "1"):
        raise asyncio.CancelledError
    with pytest.raises(ValueError), inbox.answering("test", "2"):
        raise ValueError("the platform refused it")
    assert inbox.state("test", "1") == "open" and inbox.state("test", "2") == "answered"
    assert [e.event_id for e in inbox.replay("test", 600)] == ["1"], "released: a restarted platform answers it"


def test_prune_forgets_old_rows_and_drops_what_was_never_answered(path, clock):
    inbox = inbox_at(path, clock)
    inbox.claim_many([ev(1), ev(2)])
    inbox.done("test", "1")
    fresh = inbox_at(path, clock)  # a later process: event 2 is no longer in hand
    clock.now += KEEP_S - 1
    assert fresh.prune() == 0
    clock.now += 2
    assert fresh.prune() == 2
    assert fresh.state("test", "1") is None and fresh.state("test", "2") is None


def test_the_message_id_and_done_are_one_commit(path, clock):
    """BotApp.sent marks the event answered in the same transaction that stores the answer's message id."""
    store = Store(path, clock=clock)
    inbox = Inbox(store)
    inbox.claim(ev(1))
    store.save_record(Record("r1", "test:chat1", "q", "tactful", "a"))
    with pytest.raises(RuntimeError), store.transaction():
        store.set_message("r1", "m1")
        inbox.done("test", "1")
        raise RuntimeError("killed between the two")
    assert store.record("r1").message_id is None and inbox.state("test", "1") == "open"


def test_a_neutral_message_survives_the_round_trip():
    msg = IncomingMessage("discord", "c1", "m1", User("u1", "Aunt", "en"), "hi", False, mentions_bot=True,
                          reply_to_text="earlier", reply_to_message_id="m0", command="tactful", raw=object())
    assert message_from(message_payload(msg)) == msg
