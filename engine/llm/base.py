"""The interface every LLM backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Sampling:
    """Built from the config's llm section (bot.wiring.sampling): no defaults here, config.py has them."""

    temperature: float
    top_p: float
    top_k: int
    repetition_penalty: float
    max_tokens: int
    seed: int | None = None  # per request, not a setting: None lets the backend pick


class LLMError(RuntimeError):
    """A backend failed: unreachable, refused, or broke mid-stream."""


class LLM(Protocol):
    name: str

    def stream(self, messages: list[ChatMessage], sampling: Sampling) -> AsyncIterator[str]:
        """Text pieces of the assistant's reply, as they are generated."""
        ...

    async def aclose(self) -> None: ...
