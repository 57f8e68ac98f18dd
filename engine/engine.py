"""Engine.answer: the one entry point every front end calls.

normalize -> embed -> intent model -> a tier: the matched item's answers (curated), the topic's answers
(topic) or a general line (fallback); with an LLM configured, a generated answer prompted with Chroma's
nearest corpus items, and the tier's corpus answer whenever generation fails.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from engine.corpus import Corpus, Item
from engine.normalize import has_words, is_question, normalize
from engine.parents import parent_speaking, parents_named
from engine.retrieval.index import KnowledgeBase
from engine.retrieval.intent import NONE, Calibration, Intent, IntentModel
from engine.styles import Style
from engine.types import Answer, Match, Question, Understanding, answer_id, once

RECENT_QUESTIONS = 4096  # understandings remembered (a few MB: each holds its 384-float embedding)


class EmptyQuestion(ValueError):
    """Nothing is left of the message once mentions, commands, emoji and punctuation are gone."""


class UnknownStyle(ValueError):
    pass


@dataclass(frozen=True)
class RetrievalSettings:
    """Built from the config (bot.wiring.retrieval_settings): no defaults here, config.py has them."""

    k: int
    match_threshold: float  # cosine: a neighbour below it is not about the question (prompt examples)
    max_question_chars: int
    # The answer tiers, on the intent model's calibrated probabilities (bench/eval_retrieval.py tables).
    item_threshold: float  # p(item) from which the item's own answers are sent
    topic_threshold: float  # p(topic) from which the topic's answers are sent
    calibration: Calibration


class Engine:
    def __init__(self, corpus: Corpus, styles: dict[str, Style], kb: KnowledgeBase, intent: IntentModel,
                 retrieval: RetrievalSettings, *, generator=None,
                 rng: random.Random | None = None) -> None:
        self.corpus, self.styles, self.kb, self.intent, self.retrieval = corpus, styles, kb, intent, retrieval
        self.generator = generator  # engine.generation.generator.Generator when an LLM backend is configured
        self.rng = rng or random.Random()
        self._retrieval_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval")
        # What the last questions were understood as: a style switch, 换一个 or a relative repeating
        # themselves asks the same text again, and then neither the model nor the thread hop is needed.
        self._recent: OrderedDict[tuple[str, str | None], tuple[Understanding, np.ndarray]] = OrderedDict()

    def prepare(self, text: str | Question) -> Question:
        """The normalised question; EmptyQuestion when nothing is left."""
        if isinstance(text, Question):
            return text
        clean, cut = normalize(text, self.retrieval.max_question_chars)
        if not has_words(clean):
            raise EmptyQuestion("the message has no question in it")
        return Question(text, clean, cut)

    # -- understanding --------------------------------------------------------------------------------
    async def understand(self, question: Question, prior_topic: str | None = None) -> tuple[Understanding, np.ndarray]:
        """What the question is about, and its embedding (for a neighbour search that may follow).

        Embedding is 10-20 ms of OpenMP C code: off the event loop so other chats are not held up, and on
        one dedicated thread, because the embedder takes one call at a time anyway and every new calling
        thread would start a team of OpenMP threads of its own. The model's prediction (about a
        millisecond) rides along on the same hop.
        """
        key = (question.text, prior_topic)
        if (hit := self._recent.get(key)) is not None:
            self._recent.move_to_end(key)
            return hit
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._retrieval_thread, self._understand, question.text, prior_topic)
        self._recent[key] = result
        if len(self._recent) > RECENT_QUESTIONS:
            self._recent.popitem(last=False)
        return result

    def _understand(self, text: str, prior_topic: str | None) -> tuple[Understanding, np.ndarray]:
        vector = self.kb.embedder.embed_one(text)
        cal = self.retrieval.calibration
        intent = self.intent.predict(text, vector, cal, prior_topic=prior_topic)
        understanding = self.tier(intent)
        if prior_topic and understanding.topic == prior_topic:
            alone = self.tier(self.intent.predict(text, vector, cal))
            if alone.topic != prior_topic:  # it took the chat's last topic to understand it
                understanding = replace(understanding, followup=True)
        return understanding, vector

    def tier(self, intent: Intent) -> Understanding:
        """The answer tier for a prediction: the item when it is clear, else its topic, else none."""
        s = self.retrieval
        topic, p_topic = intent.topic, intent.topic_confidence
        ranked = dict(topics=intent.topics, items=intent.items)
        if topic == NONE or p_topic < s.topic_threshold:
            return Understanding("none", None, None, p_topic, **ranked)
        best = next(((i, p) for i, t, p in intent.items if t == topic), None)
        if best and best[1] >= s.item_threshold and best[0] in self.corpus.items:
            return Understanding("item", topic, best[0], best[1], **ranked)
        return Understanding("topic", topic, None, p_topic, **ranked)

    async def neighbours(self, vector: np.ndarray) -> list[Match]:
        """Chroma's nearest corpus items (one per item, best first): the LLM's few-shot examples."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._retrieval_thread, self.kb.search_vector, vector, self.retrieval.k)

    # -- answering ------------------------------------------------------------------------------------
    async def answer(self, text: str | Question, style: str, *, exclude: Iterable[str] = (),
                     context: list[tuple[str, str]] | None = None, prior_topic: str | None = None,
                     neighbours: bool = False) -> Answer:
        """An answer to `text` in `style`, never one whose id is in `exclude`.

        `context` is earlier (question, answer) turns of a follow-up; only generation uses it.
        `prior_topic` is the topic the chat was on a moment ago (a follow-up fragment leans to it).
        `neighbours` asks for Chroma's nearest items in `Answer.matches` even when no LLM needs them.
        """
        if style not in self.styles:
            raise UnknownStyle(f"style {style!r} is not enabled; enabled: {list(self.styles)}")
        question = self.prepare(text)
        understanding, vector = await self.understand(question, prior_topic)
        exclude = set(exclude)
        matches = await self.neighbours(vector) if self.generator is not None or neighbours else []
        curated = self.curated(question, style, understanding, exclude, matches)
        if self.generator is not None and self.generator.wants(matches):
            return self.generator.answer(question.text, style, matches, exclude=exclude, context=context or [],
                                         truncated=question.cut, fallback=curated)
        return curated

    def curated(self, question: Question, style: str, understanding: Understanding, exclude: set[str],
                matches: list[Match] | None = None) -> Answer:
        """A corpus answer from the understood tier; once its answers are all shown (换一个 pressed again
        and again), the next tier's, and never silence: when everything was shown, start over."""
        item = self.corpus.items.get(understanding.item) if understanding.item else None
        pools: list[tuple[str, tuple[str, ...]]] = []
        asks = is_question(question.text)  # topic answers and general replies fit a question or a remark
        if item is not None:
            texts = item.answers.get(style, ())
            if parent_speaking(question.text):  # 跟爸妈商量 said to one's mother: only the other answers
                texts = tuple(t for t in texts if not parents_named(t))
            pools.append(("curated", texts))
        if understanding.topic:
            pools.append(("topic", self.corpus.topic_answers_for(understanding.topic, style, asks)))
        pools.append(("fallback", self.corpus.fallbacks_for(style, asks)))
        source, text = self._first_fresh([(src, texts) for src, texts in pools if texts], exclude)
        answer = Answer(question.text, style, source, list(matches or []), once(text), question.cut,
                        understanding=understanding)
        if source == "curated" and item is not None:
            answer.matched = item.canonical
        return answer

    def _first_fresh(self, pools: list[tuple[str, tuple[str, ...]]], exclude: set[str]) -> tuple[str, str]:
        for source, texts in pools:
            if text := self._pick(list(texts), exclude):
                return source, text
        source, texts = pools[0]
        return source, self.rng.choice(list(texts))

    def _pick(self, texts: list[str], exclude: set[str]) -> str | None:
        fresh = [t for t in dict.fromkeys(texts) if answer_id(t) not in exclude]
        return self.rng.choice(fresh) if fresh else None

    def item(self, item_id: str) -> Item | None:
        return self.corpus.items.get(item_id)

    async def aclose(self) -> None:
        if self.generator is not None:
            await self.generator.aclose()
        self._retrieval_thread.shutdown(wait=False)
