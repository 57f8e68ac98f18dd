"""Engine.answer with a generator: the gate, prompts from retrieval, fallbacks, exclude, prefetch.

The LLM here is the scripted one (engine.llm.scripted) or a small hanging one; the OpenAI and
TurboMind backends have their own tests against fake servers/engines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.config import load_config
from bot.wiring import build_engine
from engine.engine import Engine
from engine.llm.base import LLMError
from engine.llm.scripted import ScriptedLLM
from engine.types import answer_id

PARAPHRASE = "你们俩到底啥时候办喜事？"  # marriage-when at about 0.91: relevant, not near-exact
EXACT = "你打算什么时候结婚啊？"  # the canonical question: score 1.0
OFF_TOPIC = "帮我写一段Python代码"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One knowledge base for the module (building it costs about two seconds)."""
    from conftest import module_engine

    _, path, engine = module_engine(tmp_path_factory, seed=0)
    return path, engine


@pytest.fixture
def make(shared):
    """make(llm, **llm_section) -> an Engine whose generator uses llm and those llm settings."""
    path, base = shared
    made: list[Engine] = []

    def _make(llm, **llm_cfg) -> Engine:
        cfg = load_config(path, llm={"backend": "openai", **llm_cfg})
        engine = build_engine(cfg, llm=llm)
        made.append(engine)
        return engine

    yield _make


class HangingLLM:
    """Accepts the request and then says nothing (or stops after `pieces`); records closes."""

    name = "hanging"

    def __init__(self, pieces: list[str] = (), go: asyncio.Event | None = None):
        self.pieces, self.calls, self.closed, self.go = list(pieces), 0, 0, go

    async def stream(self, messages, sampling) -> AsyncIterator[str]:
        self.calls += 1
        try:
            if self.go is not None:
                await self.go.wait()
            for p in self.pieces:
                yield p
            await asyncio.sleep(3600)
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        return None


async def test_near_exact_hit_is_answered_from_the_corpus(make):
    llm = ScriptedLLM()
    engine = make(llm)
    answer = await engine.answer(EXACT, "tactful")
    assert await answer.collect() in engine.corpus.items["marriage-when"].answers["tactful"]
    assert answer.source == "curated" and llm.history == []


async def test_paraphrase_is_generated_with_the_items_examples(make):
    llm = ScriptedLLM()
    llm.enqueue(["我可能会笑着说：“", "缘分", "这事急不来，", "定了第一个请您。", "”这样回答既得体。"])
    engine = make(llm, examples_k=2)
    answer = await engine.answer(PARAPHRASE, "sarcastic")
    pieces = [p async for p in answer]
    assert pieces == ["缘分这事急不来，定了第一个请您。"]
    assert answer.source == "generated" and answer.text == pieces[0]
    messages, sampling = llm.history[0]
    assert messages[1:] == [
        {"role": "user", "content": "你打算什么时候结婚啊？"},
        {"role": "assistant", "content": "您比我妈还急，要不您先把份子钱预付一下？"},
        {"role": "user", "content": PARAPHRASE},
    ]
    assert "阴阳怪气" in messages[0]["content"]
    assert sampling.seed is not None and sampling.temperature == 0.8 and sampling.max_tokens == 160


async def test_prefer_curated_off_generates_even_for_exact_hits(make):
    llm = ScriptedLLM()
    answer = await make(llm, prefer_curated=False).answer(EXACT, "tactful")
    await answer.collect()
    assert answer.source == "generated" and len(llm.history) == 1


async def test_off_topic_question_gets_the_styles_general_examples(make):
    llm = ScriptedLLM()
    answer = await make(llm, examples_k=3).answer(OFF_TOPIC, "deflect")
    await answer.collect()
    users = [m["content"] for m in llm.history[0][0] if m["role"] == "user"]
    assert users == ["你打算什么时候结婚啊？", "你一个月挣多少钱？", "帮我写一段Python代码"]


async def test_backend_error_falls_back_to_the_curated_answer(make, caplog):
    llm = ScriptedLLM()
    llm.enqueue(LLMError("connection refused"))
    engine = make(llm)
    answer = await engine.answer(PARAPHRASE, "tactful")
    text = await answer.collect()
    assert answer.source == "curated"
    assert text in engine.corpus.items["marriage-when"].answers["tactful"]
    assert "connection refused" in caplog.text and "corpus answer instead" in caplog.text


async def test_silent_backend_falls_back_within_the_first_piece_timeout(make):
    llm = HangingLLM()
    engine = make(llm, first_piece_timeout_s=0.3, timeout_s=5)
    t0 = time.perf_counter()
    answer = await engine.answer(PARAPHRASE, "deflect")
    text = await answer.collect()
    assert 0.25 < time.perf_counter() - t0 < 1.5
    assert answer.source == "curated" and text in engine.corpus.items["marriage-when"].answers["deflect"]
    assert llm.closed == 1, "the stalled request was closed"


async def test_stall_after_a_sentence_keeps_the_sentence(make):
    llm = HangingLLM(["谢谢您惦记。", "我"])
    answer = await make(llm, first_piece_timeout_s=1, timeout_s=0.4).answer(PARAPHRASE, "tactful")
    assert await answer.collect() == "谢谢您惦记。"
    assert answer.source == "generated"


async def test_unsafe_answer_is_replaced_by_a_curated_one(make, caplog):
    llm = ScriptedLLM()
    llm.enqueue("你这个问题问得真是白痴。")
    engine = make(llm)
    answer = await engine.answer(PARAPHRASE, "sarcastic")
    text = await answer.collect()
    assert answer.source == "curated" and "白痴" not in text
    assert text in engine.corpus.items["marriage-when"].answers["sarcastic"]
    assert "banned word" in caplog.text


async def test_another_answer_never_repeats_a_shown_text(make):
    llm = ScriptedLLM()
    engine = make(llm)
    first = await engine.answer(PARAPHRASE, "tactful")
    shown = await first.collect()
    # The model happens to sample the very same answer again, then a new one.
    llm.enqueue(shown, "这事儿我有数，您放心。")
    again = await engine.answer(PARAPHRASE, "tactful", exclude=[first.id])
    pieces = [p async for p in again]
    assert pieces == ["这事儿我有数，您放心。"], "the repeated text was never streamed"
    seeds = [s.seed for _, s in llm.history]
    assert len(set(seeds)) == 3, "every sample uses a new seed"
    # A curated text shown earlier is avoided too.
    curated = engine.corpus.items["marriage-when"].answers["tactful"][0]
    llm.enqueue(curated, "好消息一定第一个告诉您。")
    third = await engine.answer(PARAPHRASE, "tactful", exclude=[answer_id(curated)])
    assert await third.collect() == "好消息一定第一个告诉您。"


async def test_reader_leaving_early_stops_the_model(make):
    llm = HangingLLM(["第一句。", "第二句。"])
    answer = await make(llm, timeout_s=30).answer(PARAPHRASE, "tactful")
    stream = aiter(answer)
    assert await anext(stream) == "第一句。"
    await stream.aclose()
    await asyncio.sleep(0.05)
    assert llm.closed == 1


async def test_backend_rests_after_repeated_failures_and_recovers(make):
    llm = ScriptedLLM()
    engine = make(llm, retry_after_s=0.3)
    llm.enqueue(*[LLMError("down")] * 3)
    for _ in range(3):
        answer = await engine.answer(PARAPHRASE, "tactful")
        await answer.collect()
        assert answer.source == "curated"
    answer = await engine.answer(PARAPHRASE, "tactful")
    await answer.collect()
    assert answer.source == "curated" and len(llm.history) == 3, "resting: the backend was not asked"
    await asyncio.sleep(0.35)
    answer = await engine.answer(PARAPHRASE, "tactful")
    await answer.collect()
    assert answer.source == "generated" and len(llm.history) == 4


async def test_prefetch_answers_other_styles_at_once(make):
    llm = ScriptedLLM(piece_delay=0.02)
    engine = make(llm, prefetch_styles=True)
    answer = await engine.answer(PARAPHRASE, "tactful")
    await answer.collect()
    assert answer.meta["prefetched"] is False
    await asyncio.sleep(0.3)  # the other styles finish generating in the background
    asked = sorted(m[0]["content"].split("\n\n")[1][:6] for m, _ in llm.history)
    assert asked == sorted(s.instruction[:6] for s in engine.styles.values())
    t0 = time.perf_counter()
    switched = await engine.answer(PARAPHRASE, "sarcastic")
    text = await switched.collect()
    assert time.perf_counter() - t0 < 0.25  # ~5 ms here; bench/bench_generation.py holds the 50 ms target
    assert switched.meta["prefetched"] is True and switched.source == "generated" and text
    assert len(llm.history) == 3, "no new request for a prefetched style"
    # Taken once: asking sarcastic again generates anew.
    llm.enqueue("先吃饭，吃完再聊！")
    again = await engine.answer(PARAPHRASE, "sarcastic", exclude=[switched.id])
    await again.collect()
    assert again.meta["prefetched"] is False and len(llm.history) == 4


async def test_prefetch_waits_for_the_asked_answer_and_expires(make):
    go = asyncio.Event()
    llm = HangingLLM(["第一句。", "第"], go)
    engine = make(llm, prefetch_styles=True, prefetch_ttl_s=0.2, timeout_s=30)
    answer = await engine.answer(PARAPHRASE, "tactful")
    stream = aiter(answer)
    await asyncio.sleep(0.05)
    assert llm.calls == 1, "prefetches start only once the asked-for answer flows"
    go.set()
    assert await anext(stream) == "第一句。"
    await asyncio.sleep(0.05)
    assert llm.calls == 3 and len(engine.generator.prefetched) == 2
    await asyncio.sleep(0.25)
    assert len(engine.generator.prefetched) == 0
    await asyncio.sleep(0.01)
    assert llm.closed == 2, "expired prefetches were cancelled"
    await stream.aclose()
    await engine.aclose()


async def test_concurrent_answers_are_not_serialised(make):
    llm = ScriptedLLM(piece_delay=0.05, default="这个嘛，过完年再跟您细说，先吃饭。")
    engine = make(llm)

    async def one() -> float:
        t0 = time.perf_counter()
        answer = await engine.answer(PARAPHRASE, "deflect")
        await answer.collect()
        assert answer.source == "generated"
        return time.perf_counter() - t0

    single = await one()
    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(16)))
    assert time.perf_counter() - t0 < single * 2 + 0.5  # serialised, 16 would take 16x
