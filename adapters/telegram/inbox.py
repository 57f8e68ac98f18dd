"""The inbox (bot.inbox) on Telegram: no update lost across a crash, none answered twice.

With long polling Telegram counts updates as delivered once the next getUpdates asks past them, which PTB
does while earlier ones are still being answered. So each getUpdates result is written down as it arrives,
raw, in one transaction, before PTB sees it (`arrived`, called by the updates request: WatchedRequest); PTB
can only ask past what is on disk. Each update is marked answered where it finishes processing
(PerChatProcessor, whatever the outcome; a cancelled one stays open). On start, before polling begins, the
open ones younger than inbox.max_age_minutes are put back on the Application's update queue (`replay`).

Telegram serves again the updates whose getUpdates offset was never confirmed (the last batch before a
crash): those are already in the inbox, recognised by update_id, and one copy of each is answered at most.

Webhook mode: PTB's webhook handler parses the update and puts it on the Application's update queue, then
returns, and only then does tornado send Telegram the 200. The queue is an InboxQueue, which writes a new
update down as it is put there (`queued`): before Telegram hears it arrived, so Telegram sends again what
never reached the disk. The window left is the write itself: with synchronous=NORMAL (bot.store) a commit
survives the process dying, not the machine losing power before the OS writes the WAL out.

Inline queries are not kept: an inline answer is useless seconds later, when the user has typed on. A button
press is replayed like a message: the pressed answer is edited in place, which has no time limit on
Telegram (only the spinner's toast does, and a late one is just logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.inbox import Event, Inbox

log = logging.getLogger(__name__)
PLATFORM = "telegram"
KINDS = {"message": "message", "callback_query": "press"}  # update field -> inbox kind; others not kept


def event_of(raw: dict[str, Any]) -> Event | None:
    """The inbox event for a raw update (a dict as the Bot API sends it), None for kinds not kept."""
    field = next((f for f in KINDS if raw.get(f)), None)
    if field is None:
        return None
    body = raw[field]
    message = body if field == "message" else body.get("message")
    chat = str(message["chat"]["id"]) if message else f"user{body['from']['id']}"
    return Event(PLATFORM, str(raw["update_id"]), chat, KINDS[field], raw)


class UpdateInbox:
    """Claims updates on arrival, recognises the ones Telegram serves again, replays the open ones."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._claimed: set[int] = set()  # written down and ours to answer, processing not started yet
        self._running: set[int] = set()
        self._again: set[int] = set()  # served again though already known: that copy is not processed

    def arrived(self, payload: bytes) -> None:
        """A getUpdates response body, before PTB parses it."""
        try:
            updates = json.loads(payload)["result"]
            events = [e for e in map(event_of, updates) if e is not None]
        except (ValueError, KeyError, TypeError):  # not a result: PTB reports whatever it is
            return
        if not events:  # an empty long poll: no commit
            return
        for event, fresh in zip(events, self.inbox.claim_many(events), strict=True):
            (self._claimed if fresh else self._again).add(int(event.event_id))

    async def replay(self, application: Application, max_age_s: float) -> int:
        """Put the updates still open from before the restart on the update queue; how many."""
        events = self.inbox.replay(PLATFORM, max_age_s)
        for event in events:
            try:
                update = Update.de_json(event.payload, application.bot)
            except Exception:  # a row this version cannot read: never retried
                log.exception("inbox: cannot read stored update %s", event.event_id)
                self.inbox.drop(PLATFORM, event.event_id, "unreadable")
                continue
            self._claimed.add(update.update_id)
            await application.update_queue.put(update)
        return len(events)

    def queued(self, update: object) -> None:
        """An update put on the update queue: written down unless getUpdates or a replay already did."""
        if not isinstance(update, Update) or not (update.message or update.callback_query):
            return
        uid = update.update_id
        if uid in self._claimed or uid in self._again or uid in self._running:
            return
        event = event_of(update.to_dict())
        if event is not None:
            (self._claimed if self.inbox.claim(event) else self._again).add(uid)

    @contextlib.contextmanager
    def processing(self, update: object) -> Iterator[bool]:
        """Around processing one update: yields whether to process it (False: a copy of one answered, being
        answered, or dropped), and marks it answered afterwards."""
        uid = update.update_id if isinstance(update, Update) else None
        if uid is None:
            yield True
            return
        if uid in self._again:  # a second copy (Telegram's, or the replayed one): one of them runs
            self._again.discard(uid)
            yield False
            return
        if uid in self._running:
            yield False
            return
        if uid not in self._claimed:  # a kind not kept (inline queries)
            yield True
            return
        self._claimed.discard(uid)
        self._running.add(uid)
        try:
            with self.inbox.answering(PLATFORM, str(uid)):
                yield True
        finally:
            self._running.discard(uid)

    def release_unstarted(self) -> None:
        """On stop: claimed updates that never reached processing stay open for the next start."""
        for uid in self._claimed:
            self.inbox.release(PLATFORM, str(uid))
        self._claimed.clear()


class InboxQueue(asyncio.Queue):
    """The Application's update queue: every update put on it goes past the inbox first (UpdateInbox.queued)."""

    def __init__(self, inbox: UpdateInbox) -> None:
        super().__init__()
        self.inbox = inbox

    def put_nowait(self, item: object) -> None:  # Queue.put ends here too
        self.inbox.queued(item)
        super().put_nowait(item)
