"""Discord's rate limits and errors for the shared delivery: the per-channel Budget window, and which errors
are waited out (429: discord.py gives up after 5, we never do), retried (5xx, network; a timeout waiting for
the answer is UNCONFIRMED: retried where a nonce makes that safe, see adapters.delivery) or raised."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from adapters import delivery
from adapters.budget import Budget, Window
from adapters.delivery import TRANSIENT, UNCONFIRMED, Verdict, Wait

T = TypeVar("T")

MAX_CHARS = 2000  # Discord's limit for a message's content
WINDOW_S = 5.0  # the budget counts sends and edits per channel over this window


def retry_after(e: discord.HTTPException) -> float:
    """The wait a 429 asks for: the JSON body's retry_after, else the Retry-After header, else 1 s."""
    if isinstance(e, discord.RateLimited):
        return float(e.retry_after)
    with contextlib.suppress(AttributeError, TypeError, ValueError):
        return float(e.response.headers["Retry-After"])
    return 1.0


def classify(e: Exception) -> Verdict:
    if isinstance(e, discord.RateLimited) or (isinstance(e, discord.HTTPException) and e.status == 429):
        return Wait(retry_after(e))  # type: ignore[arg-type]
    if isinstance(e, discord.DiscordServerError):
        return TRANSIENT
    if isinstance(e, discord.HTTPException):
        return None  # a 4xx: our request or our access is wrong
    if isinstance(e, aiohttp.ConnectionTimeoutError):  # nothing was sent
        return TRANSIENT
    if isinstance(e, TimeoutError):  # sent, no answer in time (aiohttp's read or total timeout)
        return UNCONFIRMED
    if isinstance(e, (aiohttp.ClientError, ConnectionError)):
        return TRANSIENT
    return None


def call(fn: Callable[[], Awaitable[T]], *, what: str) -> Awaitable[T]:
    """One Discord call outside a delivery (deferring, a note), retried the same way."""
    return delivery.call(fn, what=what, classify=classify)


def budget(per_window: int, window_s: float = WINDOW_S) -> Budget:
    """Sends plus edits per channel in a sliding window (Discord allows about 5 per 5 s per channel)."""
    return Budget(Window(per_window, window_s, lambda channel: channel))
