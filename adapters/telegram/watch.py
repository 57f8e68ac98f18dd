"""A Bot API request backend that watches how the calls go and hands each one on unchanged.

It tells /healthz whether Telegram can be reached (on the getUpdates request: a long poll every few seconds
is the heartbeat) and counts the 429s (each is waited out, by adapters.telegram.limits or by PTB's polling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram.request import BaseRequest, RequestData

from adapters.health import HEALTH
from bot.metrics import RATE_LIMITED

PLATFORM = "telegram"


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
        if self.on_result is not None and code == 200:
            self.on_result(payload)
        return code, payload
