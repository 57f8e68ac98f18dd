"""Any OpenAI-compatible chat endpoint, first of all `lmdeploy serve api_server`, streamed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import openai
from openai import AsyncOpenAI

from engine.llm.base import ChatMessage, LLMError, Sampling

# The InternLM2 end-of-turn token: servers whose template lacks it as a stop word would run on.
STOP = ["<|im_end|>"]


def request_fields(model: str, messages: list[ChatMessage], sampling: Sampling) -> dict:
    """The keyword arguments of chat.completions.create; non-OpenAI sampling fields go in extra_body."""
    return {
        "model": model,
        # The messages travel in extra_body, which the client sends as is: as a typed parameter they
        # go through its request transform, about 3 ms of CPU per request on the event loop.
        "messages": [],
        "stream": True,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "stop": STOP,
        # lmdeploy's api_server (and vLLM) read these from the top level of the request body.
        "extra_body": {"messages": list(messages), "top_k": sampling.top_k,
                       "repetition_penalty": sampling.repetition_penalty, "seed": sampling.seed},
    }


class OpenAILLM:
    """Streams chat completions with the official `openai` client.

    No retries inside the client: a failed request falls back to a curated answer at once, and the
    next request tries the server again.
    """

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, timeout_s: float = 60.0,
                 http_client=None) -> None:
        self.model = model
        # The client insists on a key; servers without auth (lmdeploy's default) ignore it.
        self.client = AsyncOpenAI(base_url=base_url, api_key=api_key or "EMPTY", max_retries=0,
                                  timeout=timeout_s, http_client=http_client)

    async def stream(self, messages: list[ChatMessage], sampling: Sampling) -> AsyncIterator[str]:
        fields = request_fields(self.model, messages, sampling)
        # The raw event stream, parsed here: the client's typed chunks cost about 0.5 ms of CPU each,
        # which at 64 concurrent answers held up every other answer on the event loop.
        request = self.client.chat.completions.with_streaming_response.create(**fields)
        try:
            async with request as response:
                async for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        continue  # read on to the end of the response, so the connection is reused
                    text, finish = _delta(data)
                    if text:
                        yield text
                    if finish == "abort":
                        raise LLMError(f"{self.name} server aborted the request")
        except LLMError:
            raise
        except openai.APIStatusError as e:
            raise LLMError(f"{self.name} server answered HTTP {e.status_code}") from e
        except openai.OpenAIError as e:
            raise LLMError(f"{self.name} server unreachable: {type(e).__name__}") from e
        except Exception as e:  # the connection dropped mid-stream (transport errors are not wrapped)
            raise LLMError(f"{self.name} stream broke: {type(e).__name__}") from e
        # Leaving the `async with` early (a reader gone, a timeout) closes the connection, which makes
        # the server abort the request.

    async def aclose(self) -> None:
        await self.client.close()


def _delta(data: str) -> tuple[str, str | None]:
    """(content text, finish_reason) of one chat.completion.chunk event."""
    try:
        chunk = json.loads(data)
    except ValueError as e:
        raise LLMError(f"malformed event from the server: {data[:80]!r}") from e
    if "error" in chunk:
        raise LLMError(f"server error: {str(chunk['error'])[:200]}")
    choices = chunk.get("choices") or [{}]
    delta = choices[0].get("delta") or {}
    return delta.get("content") or "", choices[0].get("finish_reason")
