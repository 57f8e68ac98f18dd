"""A Bot API request backend that watches how the calls go and hands each one on unchanged.

It tells /healthz whether Telegram can be reached (on the getUpdates request: a long poll every few seconds
is the heartbeat) and counts the 429s (each is waited out, by adapters.telegram.limits or by PTB's polling).

On getUpdates it changes one thing: an update python-telegram-bot cannot parse (a field missing or of the
wrong type) becomes an empty update with the same id. PTB parses a batch as a whole, and when that raises it
logs CRITICAL and fetches the same batch again, forever: one bad update would stop the bot for good. PTB
accepts some updates it should not (a button press without `from`, a text that is a number): the fields
the adapters read are checked against the Bot API's types as well (SHAPES).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from telegram import Update
from telegram.request import BaseRequest, RequestData

from adapters.health import HEALTH
from adapters.shapes import shape_problem
from bot.metrics import RATE_LIMITED

PLATFORM = "telegram"
log = logging.getLogger(__name__)

# The Bot API's types for the fields adapters.telegram reads: name -> (type or shape, required).
_USER = {"id": (int, True), "is_bot": (bool, True), "first_name": (str, True), "last_name": (str, False),
         "language_code": (str, False), "username": (str, False)}
_ENTITY = {"type": (str, True), "offset": (int, True), "length": (int, True), "user": (_USER, False)}
_MESSAGE: dict = {"message_id": (int, True), "date": (int, True), "chat": ({"id": (int, True), "type": (str, True)},
                  True), "from": (_USER, False), "text": (str, False), "caption": (str, False),
                  "entities": ([_ENTITY], False), "caption_entities": ([_ENTITY], False),
                  "message_thread_id": (int, False), "is_topic_message": (bool, False)}
_MESSAGE["reply_to_message"] = (_MESSAGE, False)
SHAPES = {
    "update_id": (int, True),
    "message": (_MESSAGE, False),
    "callback_query": ({"id": (str, True), "from": (_USER, True), "data": (str, False), "message": (_MESSAGE, False)},
                       False),
    "inline_query": ({"id": (str, True), "from": (_USER, True), "query": (str, True)}, False),
}
# Updates nothing answers are still ordered by their chat (updates.PerChatProcessor): its id must be one.
SHAPES.update({kind: (_MESSAGE, False) for kind in (
    "edited_message", "channel_post", "edited_channel_post", "business_message", "edited_business_message")})
SHAPES.update({kind: ({"chat": (_MESSAGE["chat"][0], True)}, False) for kind in (
    "my_chat_member", "chat_member", "chat_join_request", "message_reaction", "message_reaction_count")})


class WatchedRequest(BaseRequest):
    """`inner` does the HTTP; this one reports the outcome. `heartbeat`: report reachability to HEALTH.
    `on_result`: given each successful response body before PTB reads it (the inbox writes getUpdates
    results down there, adapters.telegram.inbox)."""

    def __init__(self, inner: BaseRequest, *, heartbeat: bool = False,
                 on_result: Callable[[bytes], None] | None = None) -> None:
        self.inner, self.heartbeat, self.on_result = inner, heartbeat, on_result
        self.rejected = asyncio.Event()  # set when the Bot API refuses the token (PTB then stops polling)

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE, pool_timeout=BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        try:
            code, payload = await self.inner.do_request(url, method, request_data, read_timeout, write_timeout,
                                                        connect_timeout, pool_timeout)
        except Exception as e:
            if self.heartbeat:  # the type only: the text of a transport error may hold the URL (and the token)
                HEALTH.down(PLATFORM, f"cannot reach the Bot API ({type(e).__name__})")
            raise
        if code == 429:
            RATE_LIMITED.labels(PLATFORM).inc()
        if self.heartbeat:
            if code in (401, 404):  # what the Bot API answers for a revoked or wrong token
                self.rejected.set()
                HEALTH.down(PLATFORM, f"the Bot API rejects the token (HTTP {code})")
            elif code >= 500:
                HEALTH.down(PLATFORM, f"the Bot API answers HTTP {code}")
            else:
                HEALTH.up(PLATFORM)
            if code == 200 and url.endswith("/getUpdates"):
                payload = parseable_updates(payload)
        if self.on_result is not None and code == 200:
            self.on_result(payload)  # after parseable_updates: a replayed update must parse too
        return code, payload


def parseable_updates(payload: bytes) -> bytes:
    """getUpdates' answer with each update PTB cannot parse emptied (kept by id, so polling confirms it and
    moves on) or, without a usable update_id, dropped; the rest untouched. Logged as a warning, without
    the update's content."""
    try:
        result = json.loads(payload).get("result")
    except (ValueError, AttributeError):
        return payload  # not a Bot API answer: PTB reports that as an error of its own
    if not isinstance(result, list):
        return payload
    problems = [shape_problem(u, SHAPES, "update") for u in result]
    if not any(problems):
        try:
            Update.de_list(json.loads(payload)["result"], None)  # a copy: parsing may consume what it reads
            return payload
        except Exception:  # noqa: BLE001, S110 - whatever PTB raises, look for the updates that raise it
            pass
    kept = []
    for update, problem in zip(result, problems, strict=True):
        if problem is None:
            try:
                Update.de_json(json.loads(json.dumps(update)), None)
                kept.append(update)
                continue
            except Exception as e:  # noqa: BLE001
                problem = f"{type(e).__name__}: {str(e)[:120]}"
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            kept.append({"update_id": update_id})
        log.warning("telegram: ignored malformed update %s (%s)", update_id, problem)
    return json.dumps({"ok": True, "result": kept}).encode()
