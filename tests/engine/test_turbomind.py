"""The turbomind backend against a fake of lmdeploy's AsyncEngine (tests/fakes/fake_lmdeploy.py).

The real package is checked separately in test_turbomind_contract.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from conftest import write_config
from fakes.fake_lmdeploy import FakeAsyncEngine, GenerationConfig, RequestError

from bot.config import Config, load_config
from bot.wiring import build_engine, make_llm
from bot.wiring import sampling as configured_sampling
from engine.llm.base import LLMError, Sampling
from engine.llm.turbomind import INTERNLM2_TEMPLATE, TurboMindLLM, render_internlm2
from engine.retrieval.model_files import ModelMissing

PARAPHRASE = "你们俩到底啥时候办喜事？"
SAMPLING = configured_sampling(Config())  # the configured defaults
MESSAGES = [{"role": "system", "content": "系统"}, {"role": "user", "content": "问"}]


def fake_engine(**kw) -> FakeAsyncEngine:
    return FakeAsyncEngine(chat_template_config=INTERNLM2_TEMPLATE, trust_remote_code=True, **kw)


async def collect(llm: TurboMindLLM, sampling: Sampling | None = None) -> str:
    return "".join([p async for p in llm.stream(MESSAGES, sampling or replace(SAMPLING, seed=7))])


async def test_one_session_per_request_with_sampling_and_the_internlm2_prompt():
    engine = fake_engine()
    engine.enqueue("谢谢关心。<|im_end|>\n<|im_start|>user\n再问一个")
    llm = TurboMindLLM(engine, GenerationConfig)
    sampling = Sampling(temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.1, max_tokens=64, seed=42)
    assert await collect(llm, sampling) == "谢谢关心。", "stops at <|im_end|>"
    assert engine.prompts == [render_internlm2(MESSAGES)]
    assert engine.prompts[0] == "<|im_start|>system\n系统<|im_end|>\n<|im_start|>user\n问<|im_end|>\n" \
                                "<|im_start|>assistant\n"
    cfg = engine.gen_configs[0]
    assert (cfg.do_sample, cfg.temperature, cfg.top_p, cfg.top_k, cfg.repetition_penalty, cfg.max_new_tokens,
            cfg.random_seed, cfg.stop_words) == (True, 0.7, 0.8, 20, 1.1, 64, 42, ["<|im_end|>"])
    loop = asyncio.get_running_loop()
    assert engine.started_loops == [(loop, True)], "the engine loop runs on our event loop, async API"
    await collect(llm)
    assert len(engine.started_loops) == 1, "started once"
    assert engine.session_mgr.sessions == {}, "sessions are removed after each request"


async def test_engine_errors_become_llm_errors():
    engine = fake_engine()
    engine.enqueue(RequestError("Input length (5000) must be smaller than the model context length"))
    with pytest.raises(LLMError, match="context length"):
        await collect(TurboMindLLM(engine, GenerationConfig))


async def test_abort_when_the_reader_goes_away():
    engine = fake_engine(token_delay=0.01, default="一" * 200)
    llm = TurboMindLLM(engine, GenerationConfig)
    stream = llm.stream(MESSAGES, replace(SAMPLING, seed=1))
    assert await anext(stream) == "一一"
    await stream.aclose()
    assert engine.session_mgr.aborted and engine.active == 0
    assert engine.session_mgr.sessions == {}


async def test_abort_on_cancel():
    engine = fake_engine(token_delay=0.01, default="一" * 200)
    llm = TurboMindLLM(engine, GenerationConfig)
    task = asyncio.create_task(collect(llm))
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 0 in engine.session_mgr.aborted
    assert engine.active == 0


async def test_concurrent_requests_run_together_on_the_engine():
    engine = fake_engine(token_delay=0.01, default="一二三四五六七八九十。" * 2)
    llm = TurboMindLLM(engine, GenerationConfig)
    t0 = time.perf_counter()
    await collect(llm)
    single = time.perf_counter() - t0
    t0 = time.perf_counter()
    texts = await asyncio.gather(*(collect(llm) for _ in range(32)))
    assert len(set(texts)) == 1 and engine.max_active == 32, "nothing in our code serialises requests"
    assert time.perf_counter() - t0 < single * 2 + 0.5  # serialised, 32 would take 32x


async def test_generated_answers_and_timeout_fallback_through_the_engine(mini_config, no_errors_logged):
    cfg = load_config(write_config(mini_config.base_dir, mini_config.data_dir, llm={
        "backend": "turbomind", "first_piece_timeout_s": 0.3, "timeout_s": 1}))
    fake = fake_engine()
    fake.enqueue("我会这样回答：“缘分到了，第一个请您喝喜酒。”<|im_end|>")
    llm = TurboMindLLM(fake, GenerationConfig)
    engine = build_engine(cfg, llm=llm)
    answer = await engine.answer(PARAPHRASE, "tactful")
    assert await answer.collect() == "缘分到了，第一个请您喝喜酒。"
    assert answer.source == "generated"
    # A stalled engine: the curated answer within the first-piece timeout, and the request is aborted.
    fake.token_delay = 5
    t0 = time.perf_counter()
    answer = await engine.answer(PARAPHRASE, "tactful")
    text = await answer.collect()
    assert answer.source == "curated" and time.perf_counter() - t0 < 1
    assert text in engine.corpus.items["marriage-when"].answers["tactful"]
    await asyncio.sleep(0.05)
    assert fake.active == 0 and fake.session_mgr.aborted
    await engine.aclose()
    assert fake.closed


def test_missing_model_names_the_command_that_fetches_it(tmp_path, mini_data):
    cfg = load_config(write_config(tmp_path, mini_data, llm={"backend": "turbomind",
                                                             "model": str(tmp_path / "no-such-model")}))
    with pytest.raises(ModelMissing, match="does not exist"):
        make_llm(cfg)


def test_missing_modelscope_model_says_how_to_pull_it(tmp_path, mini_data, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "modelscope"))
    cfg = load_config(write_config(tmp_path, mini_data, llm={"backend": "turbomind"}))
    with pytest.raises(ModelMissing, match="springfest model pull binbeing/SpringFestQA"):
        make_llm(cfg)
