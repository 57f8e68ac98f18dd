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
    temperature: float = 0.8
    top_p: float = 0.9
    top_k: int = 40
    repetition_penalty: float = 1.05
    max_tokens: int = 160
    seed: int | None = None


class LLMError(RuntimeError):
    """A backend failed: unreachable, refused, or broke mid-stream."""


class LLM(Protocol):
    name: str

    def stream(self, messages: list[ChatMessage], sampling: Sampling) -> AsyncIterator[str]:
        """Text pieces of the assistant's reply, as they are generated."""
        ...

    async def aclose(self) -> None: ...
