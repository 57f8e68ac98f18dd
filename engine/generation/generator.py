"""Generated answers: the gate, the prompt from retrieved examples, fallbacks, other styles ahead.

Engine.answer asks `wants(matches)` (Chroma's nearest corpus items); when it says yes, `answer(...)`
returns an Answer whose pieces stream from the model. A backend that fails, stalls or says something
unusable never leaves the user without a reply: the corpus answer the Engine chose for the question
goes out instead, with that answer's source (curated, topic or fallback).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace

from engine.corpus import Corpus
from engine.generation.prefetch import PrefetchStore
from engine.generation.prompts import build_messages, general_examples, related_examples
from engine.generation.run import Limits, LLMRun
from engine.generation.shaping import Shaper
from engine.llm.base import LLM, ChatMessage, Sampling
from engine.safety import SafetyFilter
from engine.styles import Style
from engine.types import Answer, Match, answer_id

log = logging.getLogger(__name__)
_REMEMBERED = 4096  # generated texts kept so that `exclude` ids can be matched while streaming


@dataclass(frozen=True)
class GenerationSettings:
    """Built from the config (bot.wiring.generation_settings): no defaults here, config.py has them."""

    examples_k: int
    match_threshold: float  # below it a retrieved item is not about the question
    prefer_curated: bool
    curated_threshold: float  # a near-exact corpus hit is answered without the model
    prefetch_styles: bool
    prefetch_ttl_s: float
    failures_to_pause: int  # failures in a row after which the backend is rested...
    retry_after_s: float  # ...for this long (0: try it on every request)
    limits: Limits
    sampling: Sampling


class Generator:
    def __init__(self, llm: LLM, corpus: Corpus, styles: dict[str, Style],
                 settings: GenerationSettings, *, safety: SafetyFilter | None = None,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.llm, self.corpus, self.styles, self.settings = llm, corpus, styles, settings
        self.safety, self.rng, self.clock = safety, rng or random.Random(), clock
        self.prefetched = PrefetchStore(settings.prefetch_ttl_s, clock=clock)
        self._tasks: set[asyncio.Task] = set()
        self._failures = 0
        self._paused_until = 0.0
        # Texts by answer id, so that `exclude` (ids) can be matched while streaming.
        self._corpus_texts = {answer_id(t): t for item in corpus.items.values()
                              for ts in item.answers.values() for t in ts}
        self._corpus_texts.update((answer_id(t), t) for ts in corpus.fallbacks.values() for t in ts)
        self._generated: OrderedDict[str, str] = OrderedDict()

    def wants(self, matches: list[Match]) -> bool:
        """The gate: False when a near-exact corpus hit (cosine) should be answered from the corpus."""
        best = matches[0].score if matches else 0.0
        return not (self.settings.prefer_curated and best >= self.settings.curated_threshold)

    def answer(self, question: str, style: str, matches: list[Match], *, exclude: Iterable[str] = (),
               context: list[tuple[str, str]] | None = None, truncated: bool = False,
               fallback: Answer) -> Answer:
        """A generated answer (source 'generated'), or `fallback` (the Engine's corpus answer) if that fails."""
        exclude = set(exclude)
        context = list(context or [])
        answer = Answer(question, style, "generated", matches, _nothing(), truncated,
                        understanding=fallback.understanding)
        answer.meta["backend"] = self.llm.name
        if self.clock() < self._paused_until:
            answer.pieces = self._fallback(answer, fallback, "backend resting after repeated failures")
            return answer
        key = (question, style, tuple(context))
        run = self.prefetched.take(key)
        if run is not None and run.done and answer_id(run.text) in exclude:
            run = None
        answer.meta["prefetched"] = run is not None
        if run is None:
            run = self._start(question, style, matches, context, exclude)
            if self.settings.prefetch_styles and not exclude:
                self._spawn(self._prefetch_others(question, style, matches, context, run))
        answer.meta["seed"] = run.sampling.seed
        answer.pieces = self._stream(answer, run, fallback)
        return answer

    def _start(self, question: str, style: str, matches: list[Match], context: list[tuple[str, str]],
               exclude: set[str]) -> LLMRun:
        known = [self._generated.get(i) or self._corpus_texts.get(i) for i in exclude]
        avoid = frozenset(t for t in known if t)
        messages = self.messages(question, style, matches, context, variant=len(exclude))
        return LLMRun(self.llm, messages, replace(self.settings.sampling, seed=self._seed()),
                      self.settings.limits, self._shaper, avoid=avoid, new_seed=self._seed)

    def messages(self, question: str, style: str, matches: list[Match],
                 context: list[tuple[str, str]] = (), variant: int = 0) -> list[ChatMessage]:
        """The prompt: examples from the relevant matches, else the style's general examples."""
        k = self.settings.examples_k
        relevant = [m for m in matches if m.score >= self.settings.match_threshold]
        examples = related_examples(self.corpus, relevant, style, k, variant)
        if not examples:
            examples = general_examples(self.corpus, style, k, variant)
        return build_messages(question, self.styles[style], examples, context)

    async def _stream(self, answer: Answer, run: LLMRun, fallback: Answer) -> AsyncIterator[str]:
        try:
            async for piece in run.pieces():
                yield piece
        finally:
            if not run.done:  # the reader went away: stop generating
                run.cancel()
        if run.text:
            self._succeeded()
            self._remember(run.text)
            return
        if run.backend_failed:
            self._failed()
        async for piece in self._fallback(answer, fallback, run.failure or "no answer"):
            yield piece

    async def _fallback(self, answer: Answer, fallback: Answer, why: str) -> AsyncIterator[str]:
        log.warning("%s backend gave no answer (%s); sending the corpus answer instead", self.llm.name, why)
        answer.source, answer.matched = fallback.source, fallback.matched  # labelled by the tier it came from
        answer.meta["fallback_reason"] = why
        yield await fallback.collect()

    async def _prefetch_others(self, question: str, style: str, matches: list[Match],
                               context: list[tuple[str, str]], asked: LLMRun) -> None:
        # Only once the asked-for answer is flowing: prefetches never compete with its first token.
        await asked.answering.wait()
        if not asked.text:
            return  # the backend is failing; more requests would only add load
        for other in self.styles:
            key = (question, other, tuple(context))
            if other != style and key not in self.prefetched:
                self.prefetched.put(key, self._start(question, other, matches, context, set()))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _shaper(self) -> Shaper:
        return Shaper(self.settings.limits.max_answer_chars, self.safety)

    def _seed(self) -> int:
        return self.rng.getrandbits(31)

    def _remember(self, text: str) -> None:
        self._generated[answer_id(text)] = text
        self._generated.move_to_end(answer_id(text))
        while len(self._generated) > _REMEMBERED:
            self._generated.popitem(last=False)

    def _succeeded(self) -> None:
        if self._failures >= self.settings.failures_to_pause:
            log.info("%s backend answers again", self.llm.name)
        self._failures, self._paused_until = 0, 0.0

    def _failed(self) -> None:
        self._failures += 1
        if self._failures >= self.settings.failures_to_pause and self.settings.retry_after_s > 0:
            self._paused_until = self.clock() + self.settings.retry_after_s
            log.warning("%s backend failed %d times in a row; answering from the corpus for %.0fs",
                        self.llm.name, self._failures, self.settings.retry_after_s)

    async def aclose(self) -> None:
        self.prefetched.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.llm.aclose()


async def _nothing() -> AsyncIterator[str]:
    return
    yield
