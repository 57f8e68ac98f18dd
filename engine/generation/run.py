"""One generated answer: an LLM stream shaped into sentences by a background task.

Running it as a task (rather than inside the reader) lets a prefetched answer for another style
generate while nobody reads it yet, and keeps the deadlines in one place whoever reads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from engine.generation.shaping import Shaper
from engine.llm.base import LLM, ChatMessage, LLMError, Sampling

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Built from the config's llm section (bot.wiring): no defaults here, config.py has them."""

    timeout_s: float  # the whole answer
    first_piece_timeout_s: float  # until the backend sends anything
    max_answer_chars: int
    retries: int  # new samples when an answer repeats a text already shown


class LLMRun:
    """Start with `LLMRun(...)` inside a running loop; read with `async for piece in run.pieces()`.

    After the run, `failure` says why nothing usable came (None when `text` is an answer).
    """

    def __init__(self, llm: LLM, messages: list[ChatMessage], sampling: Sampling, limits: Limits,
                 shaper: Callable[[], Shaper], *, avoid: frozenset[str] = frozenset(),
                 new_seed: Callable[[], int] | None = None) -> None:
        self.llm, self.messages, self.sampling, self.limits = llm, messages, sampling, limits
        self._shaper, self._avoid, self._new_seed = shaper, avoid, new_seed
        self.sent: list[str] = []  # pieces released to readers
        self.text = ""
        self.failure: str | None = None
        self.backend_failed = False  # the backend erred or timed out before any answer (not a bad reply)
        self.done = False
        self.started = time.monotonic()
        self.first_piece_at: float | None = None  # when the first piece was released
        self._changed = asyncio.Event()
        self.answering = asyncio.Event()  # set at the first released piece or at the end
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def pieces(self) -> AsyncIterator[str]:
        """Every released piece in order, live until the run ends."""
        i = 0
        while True:
            while i < len(self.sent):
                i += 1
                yield self.sent[i - 1]
            if self.done:
                return
            self._changed.clear()
            if i == len(self.sent) and not self.done:
                await self._changed.wait()

    async def wait(self) -> None:
        """Until the run ends (never raises)."""
        await asyncio.shield(self.task)

    def cancel(self) -> None:
        self.task.cancel()

    @property
    def has_started_answering(self) -> bool:
        return bool(self.sent)

    def _release(self, pieces: list[str]) -> None:
        if pieces:
            self.sent.extend(pieces)
            self.text += "".join(pieces)
            if self.first_piece_at is None:
                self.first_piece_at = time.monotonic()
                self.answering.set()
            self._changed.set()

    async def _run(self) -> None:
        try:
            for attempt in range(self.limits.retries + 1):
                held = await self._attempt()
                if held is None:  # released, failed, or out of time
                    return
                if attempt < self.limits.retries and self._new_seed is not None:
                    log.info("generated answer repeated one already shown; sampling again")
                    self.sampling = replace(self.sampling, seed=self._new_seed())
            self.failure = "repeated an answer already shown"
        except asyncio.CancelledError:
            self.failure = self.failure or "cancelled"
            raise
        except Exception as e:  # a bug must not leave readers waiting forever
            log.warning("generation failed unexpectedly: %s: %s", type(e).__name__, e)
            self.failure = f"{type(e).__name__}"
        finally:
            self.done = True
            self._changed.set()
            self.answering.set()

    async def _attempt(self) -> str | None:
        """One sample. Returns the text when it only repeated an avoided answer (nothing was released)."""
        shaper = self._shaper()
        held: list[str] = []  # sentences kept back while they could still be an answer already shown
        deadline = self.started + self.limits.timeout_s
        first_deadline = min(deadline, time.monotonic() + self.limits.first_piece_timeout_s)

        def accept(pieces: list[str]) -> None:
            held.extend(pieces)
            so_far = self.text + "".join(held)
            if not any(t.startswith(so_far) for t in self._avoid):
                self._release(held[:])
                held.clear()

        loop = asyncio.get_running_loop()
        stream = self.llm.stream(self.messages, self.sampling)
        got_any = False
        try:
            async with asyncio.timeout_at(self._loop_time(loop, first_deadline)) as budget:
                async for delta in stream:
                    if not got_any:
                        got_any = True
                        budget.reschedule(self._loop_time(loop, deadline))
                    accept(shaper.feed(delta))
                    if shaper.stopped:
                        break
                accept(shaper.finish())
        except TimeoutError:
            self.failure = None if self.text else ("no reply within the first-piece timeout" if not got_any
                                                   else "timed out")
            self.backend_failed = not self.text
            if self.text:
                log.info("generated answer cut at its deadline after %d characters", len(self.text))
            return None
        except LLMError as e:
            if not self.text:
                self.failure, self.backend_failed = str(e), True
            return None
        finally:
            await stream.aclose()
        if budget.expired() and not self.text:  # the backend swallowed our cancellation
            self.failure, self.backend_failed = "timed out", True
            return None
        if held:
            if self.text + "".join(held) in self._avoid:  # the very answer shown before: sample again
                return "".join(held)
            self._release(held)
        if not self.text:
            self.failure = f"unusable reply ({shaper.problem or 'empty'})"
        elif shaper.problem and shaper.problem.startswith("banned"):
            log.warning("generated answer stopped before a sentence with a %s", shaper.problem)
        return None

    @staticmethod
    def _loop_time(loop: asyncio.AbstractEventLoop, monotonic_at: float) -> float:
        return loop.time() + (monotonic_at - time.monotonic())
