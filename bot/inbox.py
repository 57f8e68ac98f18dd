"""The inbox: every accepted incoming event is written down before the platform counts it as delivered, and
marked answered once its answer is out, so a crash (kill -9, power cut of the process) loses no question.

A row per (platform, event id), in the same SQLite file as bot.store and on its connection. An adapter
*claims* an event as it arrives (new: the caller answers it; already known: a redelivery, answered once
only) and marks it `answered` when its reply is out or the bot chose not to answer (`done`). On start an
adapter asks for the events still open (`replay`): those younger than `inbox.max_age_minutes` (or the
platform's own answer window, when shorter) are answered again from their stored payload; older ones are
marked `dropped` and get nothing, so a bot that was down for a day does not flood its chats.

Within one process an event is answered by one caller at a time: a claimed event is "live" until it is
done or released (a task cancelled mid-answer releases it, so a restarted platform may answer it again).

The payload is whatever the adapter needs to answer again (Telegram: the raw update; Discord and QQ: the
neutral message plus where to reply); message_payload/message_from turn an IncomingMessage into JSON and back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.metrics import DROPPED, INBOX_OPEN, REDELIVERED
from bot.store import Store
from bot.types import IncomingMessage, User

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,        -- the platform's id: Telegram update_id, Discord message/interaction id
    chat TEXT NOT NULL,
    kind TEXT NOT NULL,            -- message | press | command (a Discord slash command)
    payload TEXT NOT NULL,         -- JSON: enough to answer the event again after a restart
    received REAL NOT NULL,        -- epoch seconds: when it arrived (QQ: when the platform got it)
    state TEXT NOT NULL DEFAULT 'open',  -- open | answered | dropped
    reason TEXT,                   -- why it was dropped
    updated REAL NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX IF NOT EXISTS inbox_open ON inbox (state, platform);
CREATE INDEX IF NOT EXISTS inbox_by_age ON inbox (received);
"""
# Answered and dropped rows are kept this long to recognise a redelivery: Telegram keeps an unconfirmed
# update for 24 hours, the longest any platform here redelivers.
KEEP_S = 86400.0
TOO_OLD = "too_old"  # older than inbox.max_age_minutes
WINDOW_CLOSED = "window_closed"  # past the platform's answer window (a Discord interaction, a QQ passive reply)
NOT_AFTER_RESTART = -1.0  # the answer window of a kind that cannot be answered after a restart at all


@dataclass(frozen=True)
class Event:
    platform: str
    event_id: str
    chat: str
    kind: str
    payload: Any
    received: float | None = None  # None: now


class Inbox:
    def __init__(self, store: Store) -> None:
        self.store, self.db = store, store.db
        self.db.executescript(SCHEMA)
        self._live: set[tuple[str, str]] = set()  # claimed in this process, not done or released yet
        for platform, n in self.db.execute(
                "SELECT platform, count(*) FROM inbox WHERE state = 'open' GROUP BY platform"):
            INBOX_OPEN.labels(platform).set(n)

    # -- arrival ----------------------------------------------------------------------------------
    def claim(self, event: Event) -> bool:
        """Write the event down; True when the caller is to answer it now (new, or open and not being
        answered in this process), False for a redelivery of one already answered, dropped or in hand."""
        return self.claim_many([event])[0]

    def claim_many(self, events: Iterable[Event]) -> list[bool]:
        """claim() for a batch (a getUpdates result), in one transaction: one commit for all."""
        now, verdicts = self.store.clock(), []
        with self.store.transaction():
            for e in events:
                key = (e.platform, e.event_id)
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO inbox (platform, event_id, chat, kind, payload, received, updated)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (e.platform, e.event_id, e.chat, e.kind, json.dumps(e.payload, ensure_ascii=False),
                     e.received if e.received is not None else now, now))
                if cur.rowcount:
                    INBOX_OPEN.labels(e.platform).inc()
                    fresh = True
                else:  # seen before: answer it only if nobody did or does
                    row = self.db.execute("SELECT state FROM inbox WHERE platform = ? AND event_id = ?",
                                          key).fetchone()
                    fresh = row[0] == "open" and key not in self._live
                    REDELIVERED.labels(e.platform).inc()
                if fresh:
                    self._live.add(key)
                verdicts.append(fresh)
        return verdicts

    # -- departure --------------------------------------------------------------------------------
    def done(self, platform: str, event_id: str) -> None:
        """The event's answer is out, or the bot chose not to answer it: never answer it again."""
        self._live.discard((platform, event_id))
        cur = self.db.execute(
            "UPDATE inbox SET state = 'answered', updated = ? WHERE platform = ? AND event_id = ? AND state = 'open'",
            (self.store.clock(), platform, event_id))
        if cur.rowcount:
            INBOX_OPEN.labels(platform).dec()

    def drop(self, platform: str, event_id: str, reason: str) -> None:
        """The event will never be answered (counted by reason)."""
        self._live.discard((platform, event_id))
        cur = self.db.execute(
            "UPDATE inbox SET state = 'dropped', reason = ?, updated = ? WHERE platform = ? AND event_id = ?"
            " AND state = 'open'", (reason, self.store.clock(), platform, event_id))
        if cur.rowcount:
            INBOX_OPEN.labels(platform).dec()
            DROPPED.labels(platform, reason).inc()

    def release(self, platform: str, event_id: str) -> None:
        """Answering was interrupted (cancelled): the event stays open, for a restart to answer."""
        self._live.discard((platform, event_id))

    @contextlib.contextmanager
    def answering(self, platform: str, event_id: str) -> Iterator[None]:
        """Around answering a claimed event: done when the answer is through, whatever its outcome (a
        failure that delivery's retries did not cure would fail again), released when cancelled."""
        try:
            yield
        except Exception:
            self.done(platform, event_id)
            raise
        except BaseException:  # CancelledError: shutting down mid-answer
            self.release(platform, event_id)
            raise
        self.done(platform, event_id)

    # -- restart ----------------------------------------------------------------------------------
    def replay(self, platform: str, max_age_s: float, windows: dict[str, float] | None = None) -> list[Event]:
        """The open events of `platform` not in hand in this process, oldest first, claimed for the caller
        to answer now. Those older than `max_age_s`, or than their kind's answer window in `windows`, are
        dropped instead."""
        now, windows = self.store.clock(), windows or {}
        rows = self.db.execute(
            "SELECT event_id, chat, kind, payload, received FROM inbox WHERE state = 'open' AND platform = ?"
            " ORDER BY received, rowid", (platform,)).fetchall()
        todo, dropped = [], 0
        for event_id, chat, kind, payload, received in rows:
            if (platform, event_id) in self._live:
                continue
            age = now - received
            if age > max_age_s or (kind in windows and age > windows[kind]):
                self.drop(platform, event_id, TOO_OLD if age > max_age_s else WINDOW_CLOSED)
                dropped += 1
            else:
                self._live.add((platform, event_id))
                todo.append(Event(platform, event_id, chat, kind, json.loads(payload), received))
        if todo:
            REDELIVERED.labels(platform).inc(len(todo))  # the metric's "answered after a restart"
        if todo or dropped:
            log.info("inbox: %s: answering %d events again that were open when it stopped; %d were too old "
                     "(dropped)", platform, len(todo), dropped)
        return todo

    def prune(self) -> int:
        """Forget events that arrived more than KEEP_S ago (redeliveries come sooner); the number of rows gone.
        One still open that long (its platform was not started again) is counted as dropped first:
        inbox.max_age_minutes is at most a day."""
        before = self.store.clock() - KEEP_S
        for (platform, event_id) in self.db.execute(
                "SELECT platform, event_id FROM inbox WHERE state = 'open' AND received < ?", (before,)).fetchall():
            if (platform, event_id) not in self._live:
                self.drop(platform, event_id, TOO_OLD)
        return self.db.execute("DELETE FROM inbox WHERE state != 'open' AND received < ?", (before,)).rowcount

    def state(self, platform: str, event_id: str) -> str | None:
        row = self.db.execute("SELECT state FROM inbox WHERE platform = ? AND event_id = ?",
                              (platform, event_id)).fetchone()
        return row[0] if row else None


def message_payload(msg: IncomingMessage) -> dict[str, Any]:
    """The neutral message as JSON (without `raw`, the platform's object)."""
    return {f.name: getattr(msg, f.name) if f.name != "user" else dataclasses.asdict(msg.user)
            for f in dataclasses.fields(msg) if f.name != "raw"}


def message_from(payload: dict[str, Any]) -> IncomingMessage:
    return IncomingMessage(**{**payload, "user": User(**payload["user"])})
