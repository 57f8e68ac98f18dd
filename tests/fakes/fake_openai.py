"""A small OpenAI-compatible chat server on 127.0.0.1 that streams server-sent events like
`lmdeploy serve api_server`. Tests script its replies and read the requests it received.

    server = FakeOpenAI(piece_delay=0.01)
    server.enqueue("谢谢关心。", ["分", "块"], FakeOpenAI.HANG, FakeOpenAI.fail(500))
    async with server:                       # or: with server.in_thread(): (for sync tests)
        ... base_url = server.base_url ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Fail:
    status: int
    echo_auth: bool = False  # the error message repeats the request's Authorization header (as some proxies do)


class FakeOpenAI:
    HANG = "<hang>"  # accept the request, then send nothing
    DROP = "<drop>"  # send a first piece, then cut the connection

    @staticmethod
    def fail(status: int = 500, *, echo_auth: bool = False) -> Fail:
        return Fail(status, echo_auth)

    def __init__(self, default: str = "这个嘛，过完年再跟您细说。", piece_delay: float = 0.0,
                 port: int = 0, model: str = "springfest-test") -> None:
        self.default, self.piece_delay, self.port, self.model = default, piece_delay, port, model
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.finished = 0  # streams sent to the end
        self.disconnected = 0  # streams the client closed before the end
        self._queue: deque = deque()
        self._runner: web.AppRunner | None = None

    def enqueue(self, *replies) -> None:
        """Replies in order: a string (split in 2-character pieces), a list of pieces, HANG, DROP, fail()."""
        self._queue.extend(replies)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the port the OS picked, kept for restarts
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self):
        """Run the server on its own event loop in a thread (for tests that call asyncio.run)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), loop).result(10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        reply = self._queue.popleft() if self._queue else self.default
        if isinstance(reply, Fail):
            said = f" for {request.headers.get('Authorization', '')}" if reply.echo_auth else ""
            return web.json_response({"error": {"message": f"scripted failure{said}", "type": "server_error"}},
                                     status=reply.status)
        if reply == self.HANG:
            await asyncio.sleep(3600)
        drop = reply == self.DROP
        if drop:
            reply = self.default
        pieces = reply if isinstance(reply, list) else [reply[i:i + 2] for i in range(0, len(reply), 2)]
        if not body.get("stream"):
            return web.json_response(self._completion(body, "".join(pieces)))
        sse = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        response = web.StreamResponse(headers=sse)
        await response.prepare(request)
        try:
            await self._send(response, body, {"role": "assistant", "content": ""}, None)
            for piece in pieces:
                if self.piece_delay:
                    await asyncio.sleep(self.piece_delay)
                await self._send(response, body, {"content": piece}, None)
                if drop:  # a server dying mid-answer
                    request.transport.close()
                    return response
            await self._send(response, body, {}, "stop")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            self.finished += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected += 1
            raise
        return response

    async def _send(self, response: web.StreamResponse, body: dict, delta: dict, finish: str | None) -> None:
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": body.get("model", self.model),
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

    def _completion(self, body: dict, text: str) -> dict:
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": len(text), "total_tokens": len(text)}}


def main() -> None:
    """Run the fake on its own (benchmarks run it in a separate process): prints its base URL."""
    import argparse

    ap = argparse.ArgumentParser(description="fake OpenAI-compatible streaming server on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--piece-delay", type=float, default=0.03, help="seconds between streamed pieces")
    ap.add_argument("--default", default="这个嘛，过完年再跟您细说。", help="the reply to every request")
    args = ap.parse_args()

    async def serve() -> None:
        server = await FakeOpenAI(args.default, args.piece_delay, args.port).start()
        print(server.base_url, flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
