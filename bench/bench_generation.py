"""Generation benchmark: concurrency, time to first piece, style switching with prefetch.

Default mode: the whole Engine.answer path (retrieval, prompt, LLM stream, post-processing) against
a fake streaming backend at a fixed token rate — in-process (scripted) and over HTTP (the real
`openai` client against the fake OpenAI-compatible server of the tests). Nothing in our code may
serialise requests: 64 concurrent questions should finish within 1.2x the time of one.

    python bench/bench_generation.py [--token-ms 30] [--answer-chars 40] [--concurrency 64]

`--turbomind` measures the real engine on a GPU machine (lmdeploy installed, model pulled):
tokens/s and first-token latency at 1, 8 and 64 concurrent requests.

    python bench/bench_generation.py --turbomind --config config.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench._common import pct  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.wiring import build_engine  # noqa: E402
from engine.engine import Engine  # noqa: E402

QUESTIONS = ["你们俩到底啥时候办喜事？", "现在一个月能挣多少啊？", "有对象了没有？", "打算在哪买房？",
             "孩子打算什么时候要？", "考公务员了吗？", "年终奖发了多少？", "啥时候回老家发展？"]


async def timed_answer(engine: Engine, question: str, style: str) -> tuple[float, float, str]:
    """(seconds to first piece, seconds to the end, source)."""
    t0 = time.perf_counter()
    answer = await engine.answer(question, style)
    first = None
    async for _ in answer:
        first = first if first is not None else time.perf_counter() - t0
    return first or 0.0, time.perf_counter() - t0, answer.source


def answer_text(chars: int) -> str:
    """About `chars` characters in sentences of about 13."""
    body = "这事儿我心里有数。您就放心吧，真的！定下来第一个跟您说。到时候请您喝喜酒。"
    return (body * (chars // len(body) + 1))[:chars]


async def run_fake(engine_base: Engine, cfg, llm, concurrency: int, name: str) -> list[tuple[str, str]]:
    styles = list(engine_base.styles)
    llm_cfg = {"backend": "openai", "timeout_s": 60, "first_piece_timeout_s": 30, "prefer_curated": False,
               "max_answer_chars": 200}

    def engine(prefetch: bool = False) -> Engine:
        c = load_config(cfg, llm={**llm_cfg, "prefetch_styles": prefetch})
        return build_engine(c, llm=llm)

    e = engine()
    await timed_answer(e, QUESTIONS[0], styles[0])  # warm-up
    singles = [await timed_answer(e, QUESTIONS[i % len(QUESTIONS)], styles[0]) for i in range(5)]
    one = statistics.median(s[1] for s in singles)
    one_first = statistics.median(s[0] for s in singles)
    t0 = time.perf_counter()
    results = await asyncio.gather(*(timed_answer(e, QUESTIONS[i % len(QUESTIONS)], styles[i % len(styles)])
                                     for i in range(concurrency)))
    wall = time.perf_counter() - t0
    assert all(r[2] == "generated" for r in results), "every answer must be generated"
    firsts = [r[0] for r in results]

    p = engine(prefetch=True)
    switch_ready, switch_hot = [], []
    for q in QUESTIONS:
        await timed_answer(p, q, styles[0])
        t0 = time.perf_counter()
        first, _, source = await timed_answer(p, q, styles[1])  # right after the first answer ended
        switch_hot.append(first)
        await asyncio.sleep(one * 1.5)  # the remaining prefetch has finished
        first, total, source = await timed_answer(p, q, styles[2])
        assert source == "generated"
        switch_ready.append(total)
    await asyncio.sleep(0)
    return [
        (f"{name}: one question, total", f"{one * 1000:.0f} ms"),
        (f"{name}: one question, first piece", f"{one_first * 1000:.0f} ms"),
        (f"{name}: {concurrency} concurrent, wall", f"{wall * 1000:.0f} ms ({wall / one:.2f}x one)"),
        (f"{name}: {concurrency} concurrent, first piece p50/p95",
         f"{pct(firsts, 50) * 1000:.0f} / {pct(firsts, 95) * 1000:.0f} ms"),
        (f"{name}: switch style, prefetch done (whole answer) p50/max",
         f"{pct(switch_ready, 50) * 1000:.1f} / {max(switch_ready) * 1000:.1f} ms"),
        (f"{name}: switch style right after the answer, first piece p50/max",
         f"{pct(switch_hot, 50) * 1000:.1f} / {max(switch_hot) * 1000:.1f} ms"),
    ]


async def fake_mode(args) -> None:
    from engine.llm.openai_backend import OpenAILLM
    from engine.llm.scripted import ScriptedLLM

    text = answer_text(args.answer_chars)
    with tempfile.TemporaryDirectory() as tmp:
        # The tests' tiny stable corpus: the benchmark measures generation, not retrieval size.
        data = Path(tmp) / "data"
        shutil.copytree(ROOT / "tests" / "fixtures" / "mini", data)
        for name in ("styles.yaml", "safety_words.txt"):
            shutil.copy(ROOT / "data" / name, data / name)
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(f"data_dir: {data}\nknowledge:\n  path: {Path(tmp) / 'chroma'}\n", encoding="utf-8")
        base = build_engine(load_config(cfg))
        for q in QUESTIONS:  # embed each question once: its embedding is cached from then on
            await base.retrieve(base.prepare(q)[0])
        rows: list[tuple[str, str]] = []
        scripted = ScriptedLLM(default=text, piece_delay=args.token_ms / 1000)
        rows += await run_fake(base, cfg, scripted, args.concurrency, "scripted")
        # The fake server runs in its own process, as a real server would (it needs a core of its own).
        server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakes" / "fake_openai.py"),
                                   "--piece-delay", str(args.token_ms / 1000), "--default", text],
                                  stdout=subprocess.PIPE, text=True)
        try:
            llm = OpenAILLM(server.stdout.readline().strip(), "bench")
            rows += await run_fake(base, cfg, llm, args.concurrency, "openai+fake server")
            await llm.aclose()
        finally:
            server.terminate()
            server.wait(10)
    print(f"\nfake backend: {args.answer_chars}-character answers, 2 characters a token, "
          f"{args.token_ms} ms a token ({1000 / args.token_ms:.0f} tokens/s per request)\n")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


async def turbomind_mode(args) -> None:
    cfg = load_config(args.config)
    cfg = cfg.model_copy(update={"llm": cfg.llm.model_copy(update={"backend": "turbomind"})})
    engine = build_engine(cfg)
    gen = engine.generator
    tokenizer = gen.llm.engine.tokenizer
    style = next(iter(engine.styles))
    prompts = []
    for q in QUESTIONS:
        question, _ = engine.prepare(q)
        prompts.append(gen.messages(question, style, await engine.retrieve(question)))
    sampling = replace(gen.settings.sampling, max_tokens=args.max_tokens)

    async def one(i: int) -> tuple[float, float, int]:
        t0, first, text = time.perf_counter(), None, ""
        async for piece in gen.llm.stream(prompts[i % len(prompts)], replace(sampling, seed=i)):
            first = first if first is not None else time.perf_counter() - t0
            text += piece
        return first or 0.0, time.perf_counter() - t0, len(tokenizer.encode(text, add_bos=False))

    await one(0)  # warm-up
    print("| concurrent | tokens/s (all) | tokens/s per request | first token p50 / p95 |\n|---|---|---|---|")
    for n in (1, 8, 64):
        t0 = time.perf_counter()
        res = await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
        tokens = sum(r[2] for r in res)
        per = statistics.mean(r[2] / r[1] for r in res)
        firsts = [r[0] for r in res]
        print(f"| {n} | {tokens / wall:.0f} | {per:.1f} | {pct(firsts, 50) * 1000:.0f} / "
              f"{pct(firsts, 95) * 1000:.0f} ms |")
    await engine.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--token-ms", type=float, default=30.0, help="fake backend: milliseconds per token")
    ap.add_argument("--answer-chars", type=int, default=40, help="fake backend: characters per answer")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--turbomind", action="store_true", help="measure the real TurboMind engine (GPU)")
    ap.add_argument("--config", help="config for --turbomind (llm.model, llm.turbomind)")
    ap.add_argument("--max-tokens", type=int, default=128, help="--turbomind: tokens per answer at most")
    args = ap.parse_args()
    asyncio.run(turbomind_mode(args) if args.turbomind else fake_mode(args))


if __name__ == "__main__":
    main()
