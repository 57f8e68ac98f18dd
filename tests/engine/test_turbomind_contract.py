"""Contract with the real lmdeploy 0.18.0 on CPU: what engine/llm/turbomind.py relies on exists, and
our InternLM2 template renders exactly the expected prompt.

lmdeploy is GPU-only but imports on CPU. Install it here without its CUDA dependencies:
    pip install --no-deps lmdeploy==0.18.0 && pip install mmengine-lite==0.10.7 psutil
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

import pytest

try:
    import lmdeploy
    from lmdeploy import ChatTemplateConfig, GenerationConfig, TurbomindEngineConfig
    from lmdeploy.model import get_chat_template
    from lmdeploy.serve.core import AsyncEngine
    from lmdeploy.serve.core.async_engine import GenOut, PreprocessedRequest
    from lmdeploy.serve.managers import Session, SessionManager
except ImportError as e:  # pragma: no cover - depends on the environment
    pytest.skip(f"lmdeploy is not importable ({e}); install it with: pip install --no-deps lmdeploy==0.18.0 "
                "&& pip install mmengine-lite==0.10.7 psutil", allow_module_level=True)

from bot.config import Config, TurbomindConfig
from bot.wiring import from_section
from bot.wiring import sampling as configured_sampling
from engine.llm.turbomind import INTERNLM2_TEMPLATE, TurbomindOptions, gen_config_fields, render_internlm2

MESSAGES = [
    {"role": "system", "content": "你是一个年轻人。"},
    {"role": "user", "content": "你打算什么时候结婚啊？"},
    {"role": "assistant", "content": "缘分到了第一个告诉您。"},
    {"role": "user", "content": "那一个月挣多少？"},
]
EXPECTED = (
    "<|im_start|>system\n你是一个年轻人。<|im_end|>\n"
    "<|im_start|>user\n你打算什么时候结婚啊？<|im_end|>\n"
    "<|im_start|>assistant\n缘分到了第一个告诉您。<|im_end|>\n"
    "<|im_start|>user\n那一个月挣多少？<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_version_is_the_pinned_one():
    assert lmdeploy.__version__ == "0.18.0"


def test_our_internlm2_template_renders_exactly():
    template = get_chat_template("unused-when-a-config-is-given", ChatTemplateConfig(**INTERNLM2_TEMPLATE))
    assert template.messages2prompt(MESSAGES) == EXPECTED
    assert render_internlm2(MESSAGES) == EXPECTED
    assert template.stop_words == ["<|im_end|>"]


def test_the_named_internlm2_template_is_the_trap_we_avoid():
    # Why the template is spelled out: the name alone renders no markers at all in 0.18.
    assert ChatTemplateConfig("internlm2").chat_template().messages2prompt(MESSAGES) != EXPECTED


def test_async_engine_surface():
    params = inspect.signature(AsyncEngine.__init__).parameters
    for name in ("model_path", "backend", "backend_config", "chat_template_config", "trust_remote_code"):
        assert name in params
    assert list(inspect.signature(AsyncEngine.start_loop).parameters) == ["self", "loop", "use_async_api"]
    pre = inspect.signature(AsyncEngine.preprocess).parameters
    assert list(pre)[:4] == ["self", "messages", "session_id", "gen_config"]
    gen = inspect.signature(AsyncEngine.generate).parameters
    assert list(gen) == ["self", "request", "stream_response"]
    assert inspect.iscoroutinefunction(AsyncEngine.preprocess)
    assert inspect.isasyncgenfunction(AsyncEngine.generate)
    assert "self.session_mgr = SessionManager()" in inspect.getsource(AsyncEngine.__init__)
    assert {f.name for f in dataclasses.fields(GenOut)} >= {"response", "finish_reason"}
    assert {f.name for f in dataclasses.fields(PreprocessedRequest)} >= {"session", "gen_config"}


def test_sessions_abort_and_remove():
    mgr = SessionManager()
    session = mgr.get()
    assert isinstance(session, Session) and session.session_id in mgr.sessions
    assert inspect.iscoroutinefunction(Session.async_abort)
    asyncio.run(session.async_abort())  # no request running: a no-op, as our cleanup assumes
    mgr.remove(session)
    mgr.remove(session)  # idempotent
    assert mgr.sessions == {}


def test_config_fields_we_set_exist():
    sampling = dataclasses.replace(configured_sampling(Config()), temperature=0.7, top_k=20, seed=5)
    cfg = GenerationConfig(**gen_config_fields(sampling))
    assert cfg.do_sample is True and cfg.random_seed == 5 and cfg.stop_words == ["<|im_end|>"]
    section = TurbomindConfig(tp=2, model_format="awq", quant_policy=8)
    options = dataclasses.asdict(from_section(TurbomindOptions, section))
    engine_cfg = TurbomindEngineConfig(**options)
    assert (engine_cfg.tp, engine_cfg.model_format, engine_cfg.quant_policy) == (2, "awq", 8)
    assert GenerationConfig().do_sample is False, "lmdeploy samples greedily unless told"
