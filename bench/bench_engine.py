"""Engine benchmark on the shipped corpus: what a curated answer costs next to embedding one question.

    python bench/bench_engine.py [--queries 1000]

Each query is a corpus phrasing with a tail no phrasing has, so no cache helps. Answers and bare
embeddings of equally fresh texts are timed alternately in the same process, so both meet the same
machine load; the target is answer p50 <= 1.3 x embedding p50.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, pct  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.wiring import build_engine, intent_file  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "config.yaml"
        cfg_path.write_text(yaml.safe_dump({
            "data_dir": str(ROOT / "data"), "knowledge": {"path": f"{tmp}/chroma", "cache_path": f"{tmp}/cache"},
            "state": {"path": f"{tmp}/state.sqlite3"}}), encoding="utf-8")
        t0 = time.perf_counter()
        engine = build_engine(load_config(cfg_path))
        build_s = time.perf_counter() - t0
        model_mb = intent_file(load_config(cfg_path)).stat().st_size / 1e6
        t0 = time.perf_counter()
        build_engine(load_config(cfg_path))  # a restart: index and intent model from disk
        rebuild_s = time.perf_counter() - t0
        corpus, embedder = engine.corpus, engine.kb.embedder
        rng = random.Random(1)
        pool = [q for i in corpus.items.values() for q in i.questions]
        tails = ["说说看", "真的假的", "咋样了", "嗯？", "你倒是说啊", "跟我讲讲"]
        queries = [f"{rng.choice(pool).rstrip('？?')}，{rng.choice(tails)}{n}" for n in range(args.queries)]
        styles_cycle = itertools.cycle(list(engine.styles))
        tiers: dict[str, int] = {}

        async def run() -> tuple[list[float], list[float]]:
            answer_ms, embed_ms = [], []
            for q in queries[:50]:  # warm-up
                await (await engine.answer(q + "热身", next(styles_cycle))).collect()
            for q in queries:
                t = time.perf_counter()
                answer = await engine.answer(q, next(styles_cycle))
                await answer.collect()
                answer_ms.append((time.perf_counter() - t) * 1000)
                tiers[answer.source] = tiers.get(answer.source, 0) + 1
                t = time.perf_counter()
                embedder.inner.embed([q + "再测"])
                embed_ms.append((time.perf_counter() - t) * 1000)
            await engine.aclose()
            return answer_ms, embed_ms

        answer_ms, embed_ms = asyncio.run(run())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_phr = len(corpus.phrasings())
    a50, e50 = statistics.median(answer_ms), statistics.median(embed_ms)
    print(f"{machine()}; corpus: {len(corpus.items)} items, {n_phr} phrasings; {len(queries)} queries, "
          f"sources {tiers}")
    print("| build, fresh (s) | build, restart (s) | answer p50 (ms) | answer p99 (ms) | embed p50 (ms) | "
          "answer / embed p50 | peak RSS (MB) | intent model file (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {build_s:.1f} | {rebuild_s:.1f} | {a50:.1f} | {pct(answer_ms, 99):.1f} | {e50:.1f} | {a50 / e50:.2f} | "
          f"{rss_mb:.0f} | {model_mb:.0f} |")


if __name__ == "__main__":
    main()
