"""QQ through OneBot v11 for the shared delivery: the send budget, and which failed calls are retried.

The budget is about the account, not the protocol. An ordinary QQ account run by NapCat or Lagrange gets
restricted (sending disabled for a day, frozen) when it sends like a bot: bursts, many messages a minute in
one group. So every message counts against two sliding windows (adapters.budget): one per group
(`onebot.group_messages_per_minute`) and one for the whole account, private chats included
(`onebot.messages_per_minute`). Messages over the budget wait; QQ cannot edit, so nothing is ever skipped.

Failed calls (what classify() tells adapters.delivery.call):
- no client connected (ApiNotAvailable), or the socket closing under the send: nothing reached QQ; retried
  with backoff (about 15 s in all: NapCat reconnects every few seconds).
- a call that timed out (NetworkError): it was written to the client, which may well have sent the
  message; not sent again, so a slow client never makes a duplicate in the family chat.
- `retcode` ≠ 0 (ActionFailed): the client refused (muted, not in the group, QQ's risk control). Retrying
  cannot help and, against risk control, makes it worse: raised, and the handler logs describe(e).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable

from nonebot.adapters.onebot.v11 import ActionFailed, ApiNotAvailable, NetworkError
from nonebot.exception import WebSocketClosed

from adapters.budget import ALL, Budget, Window
from adapters.delivery import TRANSIENT, Verdict
from bot.config import OneBotConfig


def classify(e: Exception) -> Verdict:
    if isinstance(e, (ApiNotAvailable, WebSocketClosed)):
        return TRANSIENT
    if isinstance(e, OSError) and not isinstance(e, TimeoutError):  # uvicorn's ClientDisconnected: not written
        return TRANSIENT
    return None  # ActionFailed, NetworkError (a timeout: maybe delivered), anything else


def describe(e: Exception) -> str:
    """A log line's worth about a failed OneBot call."""
    if isinstance(e, ApiNotAvailable):
        return "no QQ client is connected"
    if isinstance(e, ActionFailed):
        info = e.info
        why = info.get("wording") or info.get("message") or info.get("msg") or ""
        return f"retcode {info.get('retcode')} ({why})"
    if isinstance(e, NetworkError):
        return f"{e.msg or 'network error'} (not sent again: the client may have sent it)"
    return repr(e)


def _group(chat: Hashable) -> Hashable | None:
    return chat if isinstance(chat, str) and chat.startswith("g") else None  # events.chat_of(): "g<number>"


def budget(cfg: OneBotConfig, *, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Budget:
    """The account's send budget (module docstring)."""
    return Budget(Window(cfg.messages_per_minute, 60, lambda chat: ALL),
                  Window(cfg.group_messages_per_minute, 60, _group), clock=clock, sleep=sleep)
