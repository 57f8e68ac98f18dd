"""Telegram's flood limits and errors for the shared delivery: the Budget's windows, and which Bot API
errors are waited out (RetryAfter), retried (network errors), counted as done without an answer (a read
timeout after the request was sent: UNCONFIRMED, see adapters.delivery) or raised (everything else)."""

from __future__ import annotations

import datetime as dtm
import time
import warnings
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from adapters import delivery
from adapters.budget import ALL, Budget, Window
from adapters.delivery import TRANSIENT, UNCONFIRMED, Verdict, Wait
from adapters.telegram.request import SentTimedOut

T = TypeVar("T")


def retry_after_seconds(e: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB 22 returns int or timedelta depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = e.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def classify(e: Exception) -> Verdict:
    if isinstance(e, RetryAfter):
        return Wait(retry_after_seconds(e))
    if isinstance(e, (BadRequest, Forbidden, InvalidToken)):  # BadRequest is a NetworkError in PTB
        return None  # our request or our access is wrong: retrying cannot help
    if isinstance(e, SentTimedOut):  # Telegram most likely did it: edits are retried, sends are not
        return UNCONFIRMED
    if isinstance(e, NetworkError):  # includes TimedOut before the request went out
        return TRANSIENT
    return None


def call(fn: Callable[[], Awaitable[T]], *, what: str) -> Awaitable[T]:
    """One Bot API call outside a delivery (answering a query, the command menu), retried the same way."""
    return delivery.call(fn, what=what, classify=classify)


def _group(chat: Hashable) -> Hashable | None:
    return chat if isinstance(chat, int) and chat < 0 else None  # group and channel ids are negative


def budget(per_second: int = 30, group_per_minute: int = 20, *,
           clock: Callable[[], float] = time.monotonic) -> Budget:
    """About 30 messages a second for the whole bot, 20 a minute per group (private chats: no such limit)."""
    return Budget(Window(per_second, 1, lambda chat: ALL), Window(group_per_minute, 60, _group), clock=clock)
