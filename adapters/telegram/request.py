"""Bot API requests over aiohttp (already installed for discord.py) instead of PTB's default httpx.

Under a burst of updates the send path is most of the bot's CPU; aiohttp's client costs about half of
httpx/httpcore's per request, and its connector queues waiting requests without rescanning them.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT_S = 5.0  # PTB's own defaults for connect, read, write and pool


class AiohttpRequest(BaseRequest):
    """A python-telegram-bot request backend on one pooled aiohttp session."""

    def __init__(self, connections: int = 16, read_timeout: float | None = DEFAULT_TIMEOUT_S) -> None:
        self._connections, self._read_timeout = connections, read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # trust_env: honour HTTP(S)_PROXY and NO_PROXY as httpx does
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._connections),
                                                  trust_env=True)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE, pool_timeout=BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")

        def seconds(value, default: float | None) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        read = seconds(read_timeout, self._read_timeout)
        connect = seconds(connect_timeout, DEFAULT_TIMEOUT_S)
        pool = seconds(pool_timeout, None)  # waiting for a free connection is queueing, not failure
        write = seconds(write_timeout, DEFAULT_TIMEOUT_S)
        timeout = aiohttp.ClientTimeout(connect=pool, sock_connect=connect,
                                        sock_read=None if read is None else read + (write or 0))
        data: aiohttp.FormData | dict | None = None
        if request_data is not None and request_data.contains_files:
            data = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                data.add_field(name, value)
            for name, value in request_data.multipart_data.items():
                if isinstance(value, tuple):  # (filename, content, mime type)
                    data.add_field(name, value[1], filename=value[0], content_type=value[2])
                else:
                    data.add_field(name, value)
        elif request_data is not None:
            data = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout,
                                             headers={"User-Agent": self.USER_AGENT}) as response:
                return response.status, await response.read()
        except TimeoutError as e:
            raise TimedOut from e
        except aiohttp.ClientError as e:
            raise NetworkError(f"aiohttp: {e!r}") from e
