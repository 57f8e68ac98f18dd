"""The engine's value types: what retrieval finds (Match) and what every front end gets (Answer)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

SOURCES = ("curated", "generated", "fallback")


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

    `source` may change while streaming (a generated answer whose backend fails becomes `fallback`),
    so read it after the stream ends.
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
        return {"question": self.question, "style": self.style, "text": self.text, "source": self.source,
                "matches": [m.to_json() for m in self.matches]}


async def once(text: str) -> AsyncIterator[str]:
    yield text
