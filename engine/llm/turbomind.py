"""InternLM2 served in-process by LMDeploy's TurboMind engine (GPU), driven from asyncio.

Coded against lmdeploy 0.18.0 (the `gpu` extra pins it): `AsyncEngine` from lmdeploy.serve.core,
its loop started on our running event loop, and per request one session, `preprocess`, then
`generate(..., stream_response=True)`. Concurrent requests are batched by the engine; nothing here
serialises them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from engine.llm.base import ChatMessage, LLMError, Sampling

log = logging.getLogger(__name__)

IM_END = "<|im_end|>"  # token 92542 in InternLM2's vocabulary: the end of every turn


@dataclass(frozen=True)
class TurbomindOptions:
    """Built from the config's llm.turbomind section (bot.wiring): no defaults here, config.py has them."""

    tp: int
    session_len: int
    max_batch_size: int
    cache_max_entry_count: float
    model_format: str
    quant_policy: int


# The complete InternLM2 chat template, every field given: `ChatTemplateConfig('internlm2')` renders
# an empty template in lmdeploy >= 0.10. 'base' is lmdeploy's plain BaseChatTemplate. It renders
#   <|im_start|>system\n...<|im_end|>\n<|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n
INTERNLM2_TEMPLATE: dict[str, Any] = {
    "model_name": "base",
    "system": "<|im_start|>system\n",
    "meta_instruction": "",
    "eosys": "<|im_end|>\n",
    "user": "<|im_start|>user\n",
    "eoh": "<|im_end|>\n",
    "assistant": "<|im_start|>assistant\n",
    "eoa": IM_END,
    "separator": "\n",
    "tool": "<|im_start|>environment\n",
    "eotool": "<|im_end|>\n",
    "capability": "chat",
    "stop_words": [IM_END],
}


def render_internlm2(messages: list[ChatMessage]) -> str:
    """The prompt string INTERNLM2_TEMPLATE renders (the contract test holds lmdeploy to it)."""
    t = INTERNLM2_TEMPLATE
    opens = {"system": t["system"], "user": t["user"], "assistant": t["assistant"]}
    closes = {"system": t["eosys"], "user": t["eoh"], "assistant": t["eoa"] + t["separator"]}
    return "".join(opens[m["role"]] + m["content"] + closes[m["role"]] for m in messages) + t["assistant"]


def gen_config_fields(sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments for lmdeploy.GenerationConfig."""
    return {
        "do_sample": True,  # lmdeploy defaults to greedy decoding (top_k=1)
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "repetition_penalty": sampling.repetition_penalty,
        "max_new_tokens": sampling.max_tokens,
        "random_seed": sampling.seed,
        "stop_words": [IM_END],
        "skip_special_tokens": True,
    }


def build_engine(model_path: str, options: TurbomindOptions, *, use_model_template: bool = False):
    """lmdeploy's AsyncEngine for a local model directory (loads the weights onto the GPU)."""
    from lmdeploy import ChatTemplateConfig, TurbomindEngineConfig
    from lmdeploy.serve.core import AsyncEngine

    backend_config = TurbomindEngineConfig(
        tp=options.tp, session_len=options.session_len, max_batch_size=options.max_batch_size,
        cache_max_entry_count=options.cache_max_entry_count, model_format=options.model_format,
        quant_policy=options.quant_policy)
    template = None if use_model_template else ChatTemplateConfig(**INTERNLM2_TEMPLATE)
    return AsyncEngine(model_path, backend="turbomind", backend_config=backend_config,
                       chat_template_config=template, trust_remote_code=True)


class TurboMindLLM:
    """One lmdeploy session per request; aborted when the request is cancelled or closed early."""

    name = "turbomind"

    def __init__(self, engine, gen_config: Callable[..., Any] | None = None) -> None:
        self.engine = engine
        if gen_config is None:
            from lmdeploy import GenerationConfig as gen_config
        self._gen_config = gen_config
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_loop(self) -> None:
        # The engine's loop must run on the event loop the requests come from.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self.engine.start_loop(loop, use_async_api=True)
            self._loop = loop

    async def stream(self, messages: list[ChatMessage], sampling: Sampling) -> AsyncIterator[str]:
        self._ensure_loop()
        session = self.engine.session_mgr.get()
        gen = None
        try:
            request = await self.engine.preprocess(list(messages), session,
                                                   gen_config=self._gen_config(**gen_config_fields(sampling)))
            gen = self.engine.generate(request, stream_response=True)
            async for out in gen:
                if out.response:
                    yield out.response
                if out.finish_reason == "abort":
                    raise LLMError("turbomind aborted the request")
                if out.finish_reason == "error":
                    raise LLMError("turbomind failed the request")
        except (asyncio.CancelledError, GeneratorExit):
            # Free the engine slot now rather than let it decode an answer nobody reads.
            await asyncio.shield(session.async_abort())
            raise
        except LLMError:
            raise
        except Exception as e:  # lmdeploy's RequestError and engine failures
            raise LLMError(f"turbomind: {type(e).__name__}: {e}") from e
        finally:
            if gen is not None:
                await gen.aclose()
            self.engine.session_mgr.remove(session)

    async def aclose(self) -> None:
        close = getattr(self.engine, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
