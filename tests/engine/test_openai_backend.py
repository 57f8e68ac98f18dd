"""The openai backend against a fake OpenAI-compatible server on 127.0.0.1 (SSE streaming).

Checks the exact request, streaming, timeouts, fallbacks when the server fails or goes away, and
recovery when it comes back; also `springfest ask` end to end.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pytest
from conftest import write_config
from fakes.fake_openai import FakeOpenAI

from adapters.cli import main as cli_main
from bot.config import Config, load_config
from bot.wiring import build_engine
from bot.wiring import sampling as configured_sampling
from engine.llm.openai_backend import OpenAILLM

PARAPHRASE = "你们俩到底啥时候办喜事？"


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory):
    """(data dir, Chroma dir) built once for the module: building costs seconds, reopening does not."""
    from conftest import module_engine

    data, path, _ = module_engine(tmp_path_factory, seed=0)
    return data, path.parent / "chroma"


def _config(tmp_path, shared_kb, server: FakeOpenAI, **llm):
    data, chroma = shared_kb
    return write_config(tmp_path, data, knowledge={"path": str(chroma)}, llm={
        "backend": "openai", "base_url": server.base_url, "model": "springfest-test", **llm})


@pytest.fixture
def engine_for(tmp_path, shared_kb):
    def _engine(server: FakeOpenAI, **llm):
        return build_engine(load_config(_config(tmp_path, shared_kb, server, **llm)))
    return _engine


async def test_exact_request(engine_for, monkeypatch, caplog):
    monkeypatch.setenv("SPRINGFEST_TEST_KEY", "sk-secret-123")
    caplog.set_level(logging.DEBUG)
    async with FakeOpenAI() as server:
        server.enqueue(["缘分", "到了，", "第一个请您喝喜酒。"])
        engine = engine_for(server, api_key_env="SPRINGFEST_TEST_KEY", examples_k=1,
                            temperature=0.7, top_p=0.85, top_k=30, repetition_penalty=1.1, max_tokens=100)
        answer = await engine.answer(PARAPHRASE, "tactful")
        assert await answer.collect() == "缘分到了，第一个请您喝喜酒。"
        assert answer.source == "generated"
        await engine.aclose()
    body = server.requests[0]
    system = body["messages"][0]
    assert system["role"] == "system" and "风格：委婉认真。" in system["content"]
    assert body["messages"][1:] == [
        {"role": "user", "content": "你打算什么时候结婚啊？"},
        {"role": "assistant", "content": "谢谢您惦记，缘分到了我第一个告诉您。"},
        {"role": "user", "content": PARAPHRASE},
    ]
    seed = answer.meta["seed"]
    assert {k: v for k, v in body.items() if k != "messages"} == {
        "model": "springfest-test", "stream": True, "temperature": 0.7, "top_p": 0.85, "max_tokens": 100,
        "stop": ["<|im_end|>"], "top_k": 30, "repetition_penalty": 1.1, "seed": seed}
    assert isinstance(seed, int)
    assert server.headers[0]["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in caplog.text


async def test_pieces_stream_as_they_come():
    async with FakeOpenAI(piece_delay=0.1) as server:
        server.enqueue(["第一句。", "第二", "句。"])
        llm = OpenAILLM(server.base_url, "m")
        seen = []
        t0 = time.perf_counter()
        sampling = replace(configured_sampling(Config()), seed=1)
        async for piece in llm.stream([{"role": "user", "content": "问"}], sampling):
            seen.append((piece, time.perf_counter() - t0))
        await llm.aclose()
    assert [p for p, _ in seen] == ["第一句。", "第二", "句。"]
    assert seen[0][1] < 0.2 and seen[-1][1] > 0.28, "pieces arrive one by one, not at the end"


@pytest.mark.parametrize("failure", [FakeOpenAI.fail(500), FakeOpenAI.fail(401), FakeOpenAI.HANG,
                                     FakeOpenAI.DROP], ids=["500", "401", "hang", "drop"])
async def test_failures_fall_back_within_the_timeout(engine_for, failure, caplog):
    async with FakeOpenAI() as server:
        server.enqueue(failure)
        engine = engine_for(server, first_piece_timeout_s=0.5, timeout_s=1)
        t0 = time.perf_counter()
        answer = await engine.answer(PARAPHRASE, "deflect")
        text = await answer.collect()
        elapsed = time.perf_counter() - t0
        await engine.aclose()
    assert answer.source == "curated"
    assert text in engine.corpus.items["marriage-when"].answers["deflect"]
    assert elapsed < 1.5
    assert "corpus answer instead" in caplog.text


async def test_server_going_away_and_coming_back(engine_for):
    server = FakeOpenAI()
    await server.start()
    engine = engine_for(server, first_piece_timeout_s=1, timeout_s=2, retry_after_s=0)
    answer = await engine.answer(PARAPHRASE, "sarcastic")
    await answer.collect()
    assert answer.source == "generated"
    await server.stop()
    for _ in range(2):
        t0 = time.perf_counter()
        answer = await engine.answer(PARAPHRASE, "sarcastic")
        await answer.collect()
        assert answer.source == "curated" and time.perf_counter() - t0 < 2.5
    await server.start()  # same port
    answer = await engine.answer(PARAPHRASE, "sarcastic")
    assert await answer.collect() == server.default
    assert answer.source == "generated"
    await engine.aclose()
    await server.stop()


def _ask(config, *args, capsys) -> str:
    assert cli_main(["--config", str(config), "ask", PARAPHRASE, "--style", "tactful", *args]) == 0
    return capsys.readouterr().out


def test_springfest_ask_streams_a_generated_answer_and_survives_the_server(tmp_path, shared_kb, capsys):
    server = FakeOpenAI(default="这事儿我心里有数，您放心。")
    with server.in_thread():
        config = _config(tmp_path, shared_kb, server, first_piece_timeout_s=1, timeout_s=2)
        assert _ask(config, capsys=capsys).strip() == "这事儿我心里有数，您放心。"
        out = json.loads(_ask(config, "--json", capsys=capsys))
        assert out["source"] == "generated" and out["text"] == "这事儿我心里有数，您放心。"
        assert len(server.requests) == 2
    # The server is gone: a curated fallback within the timeout.
    t0 = time.perf_counter()
    out = json.loads(_ask(config, "--json", capsys=capsys))
    assert out["source"] == "curated" and time.perf_counter() - t0 < 10
    with server.in_thread():  # back on the same port: generation resumes
        out = json.loads(_ask(config, "--json", capsys=capsys))
        assert out["source"] == "generated"
