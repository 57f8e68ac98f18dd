"""Counting the 429s Discord answers with: discord.py waits each one out by itself (and sends the request
again), so they are counted on its HTTP session through an aiohttp trace (discord.Client(http_trace=…))."""

from __future__ import annotations

import aiohttp

from bot.metrics import RATE_LIMITED


def count_rate_limits() -> aiohttp.TraceConfig:
    """A trace that counts every 429 response in springfest_rate_limited_total{platform="discord"}."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(session, context, params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status == 429:
            RATE_LIMITED.labels("discord").inc()

    trace.on_request_end.append(on_request_end)
    return trace
