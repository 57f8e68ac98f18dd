"""Engine.answer: the one entry point every front end calls.

normalize -> retrieve -> gate -> a curated answer, or (with an LLM configured) a generated one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from engine.corpus import Corpus, Item
from engine.normalize import has_words, normalize
from engine.retrieval.index import KnowledgeBase
from engine.styles import Style
from engine.types import Answer, Match, answer_id, once


class EmptyQuestion(ValueError):
    """Nothing is left of the message once mentions, commands, emoji and punctuation are gone."""


class UnknownStyle(ValueError):
    pass


@dataclass(frozen=True)
class RetrievalSettings:
    """Built from the config (bot.wiring.retrieval_settings): no defaults here, config.py has them."""

    k: int
    match_threshold: float  # below it nothing in the corpus is about this question
    max_question_chars: int


class Engine:
    def __init__(self, corpus: Corpus, styles: dict[str, Style], kb: KnowledgeBase,
                 retrieval: RetrievalSettings, *, generator=None,
                 rng: random.Random | None = None) -> None:
        self.corpus, self.styles, self.kb, self.retrieval = corpus, styles, kb, retrieval
        self.generator = generator  # engine.generation.generator.Generator when an LLM backend is configured
        self.rng = rng or random.Random()
        self._retrieval_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval")

    def prepare(self, text: str) -> tuple[str, bool]:
        """The normalised question and whether it was cut; EmptyQuestion when nothing is left."""
        question, cut = normalize(text, self.retrieval.max_question_chars)
        if not has_words(question):
            raise EmptyQuestion("the message has no question in it")
        return question, cut

    async def retrieve(self, question: str) -> list[Match]:
        # Embedding is 10-20 ms of OpenMP C code: off the event loop so other chats are not held up, and on
        # one dedicated thread, because the embedder takes one call at a time anyway and every new calling
        # thread would start a team of OpenMP threads of its own.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._retrieval_thread, self.kb.search, question, self.retrieval.k)

    async def answer(self, text: str, style: str, *, exclude: Iterable[str] = (),
                     context: list[tuple[str, str]] | None = None) -> Answer:
        """An answer to `text` in `style`, never one whose id is in `exclude`.

        `context` is earlier (question, answer) turns of a follow-up; only generation uses it.
        """
        if style not in self.styles:
            raise UnknownStyle(f"style {style!r} is not enabled; enabled: {list(self.styles)}")
        question, cut = self.prepare(text)
        matches = await self.retrieve(question)
        exclude = set(exclude)
        if self.generator is not None and self.generator.wants(matches):
            return self.generator.answer(question, style, matches, exclude=exclude, context=context or [],
                                         truncated=cut, curated=lambda: self.curated(question, style, matches,
                                                                                      exclude, cut))
        return self.curated(question, style, matches, exclude, cut)

    def relevant(self, matches: list[Match]) -> list[Match]:
        return [m for m in matches if m.score >= self.retrieval.match_threshold]

    def curated(self, question: str, style: str, matches: list[Match], exclude: set[str],
                truncated: bool = False) -> Answer:
        """A corpus answer: the best item's, then other relevant items' of its topic, then fallbacks."""
        relevant = self.relevant(matches)
        if relevant:
            top = relevant[0]
            items = [self.corpus.items[m.id] for m in relevant
                     if m.topic == top.topic and m.id in self.corpus.items]
            for item in items:  # the best item's answers first; its neighbours only once those are used up
                text = self._pick(list(item.answers.get(style, ())), exclude)
                if text:
                    return Answer(question, style, "curated", matches, once(text), truncated)
        text = self._pick(list(self.corpus.fallbacks.get(style, ())), exclude)
        if text is None:  # everything was shown already: start over rather than go silent
            pool = self._pool(relevant, style) or list(self.corpus.fallbacks.get(style, ()))
            text = self.rng.choice(pool)
        return Answer(question, style, "curated" if text in self._pool(relevant, style) else "fallback",
                      matches, once(text), truncated)

    def _pool(self, relevant: list[Match], style: str) -> list[str]:
        if not relevant or relevant[0].id not in self.corpus.items:
            return []
        return list(self.corpus.items[relevant[0].id].answers.get(style, ()))

    def _pick(self, texts: list[str], exclude: set[str]) -> str | None:
        fresh = [t for t in dict.fromkeys(texts) if answer_id(t) not in exclude]
        return self.rng.choice(fresh) if fresh else None

    def item(self, item_id: str) -> Item | None:
        return self.corpus.items.get(item_id)

    async def aclose(self) -> None:
        if self.generator is not None:
            await self.generator.aclose()
        self._retrieval_thread.shutdown(wait=False)
