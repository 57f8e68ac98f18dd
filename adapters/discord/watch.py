"""Watching discord.py: the 429s Discord answers with, and gateway events its parsers cannot read.

discord.py waits each 429 out by itself (and sends the request again), so they are counted on its HTTP
session through an aiohttp trace (discord.Client(http_trace=…)). An exception in one of its gateway event
parsers (an event with a field missing or of another type than it expects) goes up through its receive
loop and ends client.start(): guard_parsers() makes such an event a warning instead. Some it accepts and
our handlers would trip over later (a message without an author, content that is a number): the fields
adapters.discord reads are checked against Discord's types first (SHAPES).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from adapters.shapes import shape_problem
from bot.metrics import RATE_LIMITED

log = logging.getLogger(__name__)

_USER = {"id": (str, True), "username": (str, True), "bot": (bool, False)}
_MESSAGE: dict = {"id": (str, True), "channel_id": (str, True), "author": (_USER, True), "content": (str, True),
                  "type": (int, True), "mentions": ([_USER], False), "webhook_id": (str, False)}
_MESSAGE["referenced_message"] = (_MESSAGE, False)
SHAPES = {"MESSAGE_CREATE": _MESSAGE}  # name -> (shape, required), as adapters.shapes reads them


def guard_parsers(parsers: dict[str, Callable[[Any], None]]) -> None:
    """Wrap discord.py's gateway parsers (ConnectionState.parsers, in place: the websocket holds this dict)
    so that one that raises drops its event with a warning (without the event's content)."""
    for event, parse in parsers.items():
        parsers[event] = functools.partial(_guarded, event, parse)


def _guarded(event: str, parse: Callable[[Any], None], data: Any) -> None:
    problem = shape_problem(data, SHAPES[event], event) if event in SHAPES else None
    if problem:
        log.warning("discord: ignored a malformed %s event (%s)", event, problem)
        return
    try:
        parse(data)
    except Exception as e:  # noqa: BLE001 - any of them would otherwise end the client
        log.warning("discord: ignored a %s event discord.py cannot read (%s: %s)", event, type(e).__name__,
                    str(e)[:120])


def count_rate_limits() -> aiohttp.TraceConfig:
    """A trace that counts every 429 response in springfest_rate_limited_total{platform="discord"}."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(session, context, params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status == 429:
            RATE_LIMITED.labels("discord").inc()

    trace.on_request_end.append(on_request_end)
    return trace
