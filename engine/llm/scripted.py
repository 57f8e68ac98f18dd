"""A scripted LLM for tests and benchmarks: replies are queued, requests are recorded."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from engine.llm.base import ChatMessage, LLMError, Sampling


@dataclass
class ScriptedLLM:
    """`enqueue()` replies (a string, a list of pieces, or an exception); `history` records requests.

    With nothing queued it echoes a default reply, so a benchmark can run it forever. `piece_delay`
    simulates a token rate; pieces of one reply are spaced by it, concurrent replies overlap.
    """

    default: str = "这个问题嘛，咱们过完年再细聊。"
    piece_delay: float = 0.0
    name: str = "scripted"
    history: list[tuple[list[ChatMessage], Sampling]] = field(default_factory=list)
    _queue: deque = field(default_factory=deque)

    def enqueue(self, *replies: str | list[str] | BaseException) -> None:
        self._queue.extend(replies)

    async def stream(self, messages: list[ChatMessage], sampling: Sampling) -> AsyncIterator[str]:
        self.history.append((list(messages), sampling))
        reply = self._queue.popleft() if self._queue else self.default
        if isinstance(reply, BaseException):
            raise reply
        pieces = reply if isinstance(reply, list) else [reply[i:i + 2] for i in range(0, len(reply), 2)]
        for piece in pieces:
            if self.piece_delay:
                await asyncio.sleep(self.piece_delay)
            yield piece

    async def aclose(self) -> None:
        return None


__all__ = ["ScriptedLLM", "LLMError"]
