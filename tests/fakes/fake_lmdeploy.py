"""A fake of lmdeploy 0.18's in-process AsyncEngine that behaves like the real one on the surface we use.

Like the real engine: the loop must be started on the running event loop; one session per request
(`session_mgr.get()`), `preprocess(messages, session, gen_config=...)` renders the chat template
and returns a single-use request; `generate(request, stream_response=True)` yields text deltas and
ends with an item carrying `finish_reason` ('stop' | 'length' | 'abort'); it stops at stop words;
`session.async_abort()` ends a running request with 'abort'; cancelling or closing the generator
aborts the request and (as lmdeploy does) swallows the cancellation. Concurrent requests advance
together, one token per `token_delay`, as in a batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GenerationConfig:
    """The fields of lmdeploy.GenerationConfig that we set (the contract test checks the real one)."""

    n: int = 1
    max_new_tokens: int = 512
    do_sample: bool = False
    top_p: float = 1.0
    top_k: int = 50
    temperature: float = 0.8
    repetition_penalty: float = 1.0
    random_seed: int | None = None
    stop_words: list[str] | None = None
    skip_special_tokens: bool = True


@dataclass
class GenOut:
    response: str
    input_token_len: int
    generate_token_len: int
    finish_reason: str | None = None
    token_ids: list[int] | None = None


class RequestError(Exception):
    pass


@dataclass
class PreprocessedRequest:
    session: Session
    inputs: dict[str, Any]
    input_token_len: int
    gen_config: GenerationConfig
    consumed: bool = False


class Session:
    def __init__(self, session_id: int, mgr: SessionManager):
        self.session_id, self._mgr = session_id, mgr
        self._handle: object | None = None
        self._aborted = asyncio.Event()

    async def async_abort(self) -> None:
        self._mgr.aborted.append(self.session_id)
        if self._handle is not None:
            self._aborted.set()


class SessionManager:
    def __init__(self):
        self.sessions: dict[int, Session] = {}
        self._ids = itertools.count(0)
        self.aborted: list[int] = []  # session ids async_abort was called for
        self.loop: asyncio.AbstractEventLoop | None = None

    def get(self, session_id: int | None = None) -> Session:
        session_id = next(self._ids) if session_id is None else session_id
        return self.sessions.setdefault(session_id, Session(session_id, self))

    def remove(self, session: Session | int | None) -> None:
        if session is not None:
            self.sessions.pop(session if isinstance(session, int) else session.session_id, None)


def tokenize(text: str) -> list[str]:
    """Special tokens such as <|im_end|> are one token each; other text goes 2 characters a token."""
    tokens: list[str] = []
    for part in re.split(r"(<\|[a-z_]+\|>)", text):
        tokens.extend([part] if part.startswith("<|") else [part[i:i + 2] for i in range(0, len(part), 2)])
    return [t for t in tokens if t]


def render(template: dict[str, Any], messages: list[dict]) -> str:
    """lmdeploy's BaseChatTemplate.messages2prompt for a ChatTemplateConfig given as a dict."""
    box = {"user": template["user"], "assistant": template["assistant"], "system": template["system"]}
    eox = {"user": template["eoh"], "assistant": template["eoa"] + template["separator"],
           "system": template["eosys"]}
    ret = ""
    if template.get("meta_instruction") is not None and messages and messages[0]["role"] != "system":
        ret += template["system"] + template["meta_instruction"] + template["eosys"]
    for m in messages:
        ret += box[m["role"]] + m["content"] + eox[m["role"]]
    return ret + template["assistant"]


@dataclass
class FakeAsyncEngine:
    """Construct like AsyncEngine; `enqueue` replies (strings, split as `tokenize` does, or exceptions)."""

    model_path: str = "fake/internlm2"
    backend: str = "turbomind"
    backend_config: Any = None
    chat_template_config: Any = None
    trust_remote_code: bool = False
    token_delay: float = 0.0
    default: str = "这个嘛，过完年再跟您细说。"
    prompts: list[str] = field(default_factory=list)
    gen_configs: list[GenerationConfig] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    started_loops: list[tuple[asyncio.AbstractEventLoop, bool]] = field(default_factory=list)
    closed: bool = False
    session_mgr: SessionManager = field(default_factory=SessionManager)
    _queue: deque = field(default_factory=deque)

    def enqueue(self, *replies: str | BaseException) -> None:
        self._queue.extend(replies)

    def start_loop(self, loop: asyncio.AbstractEventLoop, use_async_api: bool = False) -> bool:
        self.started_loops.append((loop, use_async_api))
        self.session_mgr.loop = loop
        return True

    async def preprocess(self, messages, session_id: int | Session,
                         gen_config: GenerationConfig | None = None, **kwargs) -> PreprocessedRequest:
        session = session_id if isinstance(session_id, Session) else self.session_mgr.get(session_id)
        if session._handle is not None:
            raise RequestError(f"Session {session.session_id} already has an active request.")
        if self.chat_template_config is None:
            raise RequestError("the fake has no model template: pass chat_template_config")
        template = dataclasses.asdict(self.chat_template_config) if dataclasses.is_dataclass(
            self.chat_template_config) else dict(self.chat_template_config)
        prompt = render(template, messages)
        self.prompts.append(prompt)
        gen_config = dataclasses.replace(gen_config or GenerationConfig())
        self.gen_configs.append(gen_config)
        return PreprocessedRequest(session, {"prompt": prompt, "input_ids": list(range(len(prompt)))},
                                   len(prompt), gen_config)

    async def generate(self, request: PreprocessedRequest, stream_response: bool = True):
        if not isinstance(request, PreprocessedRequest):
            raise TypeError("generate requires a PreprocessedRequest returned by preprocess")
        if request.consumed:
            raise RequestError("The preprocessed request has already been consumed.")
        if self.session_mgr.loop is not asyncio.get_running_loop():
            raise RuntimeError("engine loop not started on this event loop (call start_loop)")
        request.consumed = True
        reply = self._queue.popleft() if self._queue else self.default
        if isinstance(reply, BaseException):
            raise reply
        session, cfg = request.session, request.gen_config
        tokens = tokenize(reply)
        session._handle = object()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        finish, n = "length", 0
        try:
            for token in tokens[:cfg.max_new_tokens]:
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                if session._aborted.is_set():
                    finish = "abort"
                    break
                if token in (cfg.stop_words or ()):  # a stop token ends the turn and is not returned
                    finish = "stop"
                    break
                n += 1
                yield GenOut(token, request.input_token_len, n)
            else:
                finish = "length" if len(tokens) > cfg.max_new_tokens else "stop"
            yield GenOut("", request.input_token_len, n, finish)
        except (asyncio.CancelledError, GeneratorExit):
            # lmdeploy cancels the request in the engine and swallows the cancellation here.
            self.session_mgr.aborted.append(session.session_id)
        finally:
            self.active -= 1
            session._handle = None
            self.session_mgr.remove(session)

    def close(self) -> None:
        self.closed = True
