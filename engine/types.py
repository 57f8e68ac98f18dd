"""The engine's value types: what retrieval finds (Match) and what every front end gets (Answer)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

# Which tier answered: the matched item's own answers, the topic's answers (sure of the topic, not of the
# exact question), the language model, or a general line (nothing in the corpus is about the question).
SOURCES = ("curated", "topic", "generated", "fallback")
Tier = Literal["item", "topic", "none"]


@dataclass(frozen=True)
class Question:
    """A message as retrieval sees it (`text`: normalised, simplified), with what the user wrote."""

    original: str
    text: str
    cut: bool = False  # the text was cut to the configured length


@dataclass(frozen=True)
class Understanding:
    """What the engine made of a question: the tier it answers from and how sure it is of that."""

    tier: Tier
    topic: str | None  # None for tier "none"
    item: str | None  # the item for tier "item"
    confidence: float  # of the chosen item (tier item), topic (tier topic), or the best topic (none)
    topics: tuple[tuple[str, float], ...] = ()  # every topic with its probability, best first
    items: tuple[tuple[str, str, float], ...] = ()  # (item, topic, probability), best first
    followup: bool = False  # the chat's previous topic decided it


@dataclass(frozen=True)
class Match:
    id: str
    topic: str
    question: str  # the item's canonical question
    score: float  # cosine similarity of the best phrasing, 1.0 = identical
    phrasing: str = ""  # the phrasing that matched

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "question": self.question, "score": round(self.score, 4)}


def answer_id(text: str) -> str:
    """A short stable id for an answer text: what `exclude` and button records refer to."""
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:10]


@dataclass
class Answer:
    """Iterate it (`async for piece in answer`) to stream; afterwards `text` holds the whole reply.

    `source` (one of SOURCES) may change while streaming (a generated answer whose backend fails
    becomes the corpus answer of its tier), so read it after the stream ends. `matches` are Chroma's
    nearest items; they are looked up only where needed (prompt examples, `springfest ask --json`).
    """

    question: str
    style: str
    source: str
    matches: list[Match]
    pieces: AsyncIterator[str]
    truncated: bool = False  # the question was cut to the configured length
    text: str = ""
    done: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    understanding: Understanding | None = None
    matched: str | None = None  # the canonical question of the item whose answer this is (source curated)

    @property
    def id(self) -> str:
        return answer_id(self.text)

    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            async for piece in self.pieces:
                self.text += piece
                yield piece
            self.done = True
        finally:
            # A reader that stops early closes the source too, so a generating model stops at once.
            close = getattr(self.pieces, "aclose", None)
            if close is not None:
                await close()

    async def collect(self) -> str:
        """Consume the whole stream and return the text."""
        async for _ in self:
            pass
        return self.text

    def to_json(self) -> dict[str, Any]:
        u = self.understanding
        return {"question": self.question, "style": self.style, "text": self.text, "source": self.source,
                "topic": u.topic if u else None, "item": u.item if u else None,
                "confidence": round(u.confidence, 4) if u else None,
                "matches": [m.to_json() for m in self.matches]}


async def once(text: str) -> AsyncIterator[str]:
    yield text
