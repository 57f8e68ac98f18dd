"""Bot API requests over aiohttp (already installed for discord.py) instead of PTB's default httpx.

Under a burst of updates the send path is most of the bot's CPU; aiohttp's client costs about half of
httpx/httpcore's per request, and its connector queues waiting requests without rescanning them.

It also says which phase a timeout hit, which PTB's TimedOut does not: waiting for a connection or for
connecting (nothing was sent: TimedOut, safe to send again) or waiting for the answer after the request was
written whole (SentTimedOut: the Bot API most likely did it; adapters.delivery does not repeat such a send).
aiohttp starts its sock_read timer only once the body is written (aiohttp 3.14: ClientRequest.write_bytes
then protocol.start_timeout()), so a SocketTimeoutError is exactly "written, no answer".
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT_S = 5.0  # PTB's own defaults for connect, read, write and pool


class SentTimedOut(TimedOut):
    """The request was written whole, then no answer came within the read timeout: it most likely took effect."""

    __slots__ = ()


class AiohttpRequest(BaseRequest):
    """A python-telegram-bot request backend on one pooled aiohttp session."""

    def __init__(self, connections: int = 16, read_timeout: float | None = DEFAULT_TIMEOUT_S,
                 connect_timeout: float | None = DEFAULT_TIMEOUT_S) -> None:
        self._connections, self._read_timeout, self._connect_timeout = connections, read_timeout, connect_timeout
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
        connect = seconds(connect_timeout, self._connect_timeout)
        pool = seconds(pool_timeout, None)  # waiting for a free connection is queueing, not failure
        # aiohttp has no write timeout (write_timeout is not used: a small form body goes into the socket
        # buffer at once); its read timeout starts after the write, so it is PTB's read timeout alone.
        timeout = aiohttp.ClientTimeout(connect=pool, sock_connect=connect, sock_read=read)
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
        except aiohttp.SocketTimeoutError as e:  # before the generic TimeoutError: it is one
            raise SentTimedOut("Timed out waiting for the Bot API's answer (the request was sent)") from e
        except TimeoutError as e:  # the pool or connecting: nothing was sent
            raise TimedOut from e
        except aiohttp.ClientError as e:
            raise NetworkError(f"aiohttp: {e!r}") from e
