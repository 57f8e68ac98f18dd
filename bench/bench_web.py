"""The web page under many visitors: answers per second and latency through Gradio's own client.

The page runs in this process exactly as `springfest run` serves it (adapters.web.server.serve on 127.0.0.1, the
mini corpus, rate limits lifted so the page itself is measured); every visitor is a gradio_client in a
thread of its own asking questions one after another. The clients share the machine's cores with the
server, so the numbers are a floor for what a real browser audience gets.

    python bench/bench_web.py [--questions 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import gradio_client  # noqa: E402
from conftest import write_config  # noqa: E402
from support.page_server import MARRIAGE_Q, SALARY_Q, PageServer, copy_mini_data, free_port  # noqa: E402

from bot.config import load_config  # noqa: E402
from engine.llm.scripted import ScriptedLLM  # noqa: E402


def measure(visitors: int, questions: int, concurrency: int, llm: ScriptedLLM | None) -> tuple[float, ...]:
    tmp = Path(tempfile.mkdtemp())
    cfg = load_config(write_config(
        tmp, copy_mini_data(tmp), web={"port": free_port(), "concurrency": concurrency},
        access={"rate_limit": {"per_user_per_minute": 10**6, "per_chat_per_minute": 10**6}},
        llm={"prefer_curated": llm is None}))
    latencies: list[float] = []
    with PageServer(cfg, llm=llm) as server:
        clients = [gradio_client.Client(server.url, analytics_enabled=False, verbose=False)
                   for _ in range(visitors)]

        def visit(c) -> None:
            for i in range(questions):
                start = time.perf_counter()
                c.predict(MARRIAGE_Q if i % 2 else SALARY_Q, api_name="/ask")
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        with ThreadPoolExecutor(visitors) as pool:
            list(pool.map(visit, clients))
        wall = time.perf_counter() - start
    latencies.sort()
    return len(latencies) / wall, statistics.median(latencies), latencies[max(0, int(len(latencies) * .95) - 1)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=10, help="questions per visitor")
    args = p.parse_args()
    print("| answers | visitors | web.concurrency | answers/s | p50 s | p95 s |")
    print("|---|---|---|---|---|---|")
    for visitors in (1, 8, 16):
        rate, p50, p95 = measure(visitors, args.questions, 16, None)
        print(f"| curated | {visitors} | 16 | {rate:.1f} | {p50:.3f} | {p95:.3f} |", flush=True)
    for concurrency in (16, 4):
        # Ten sentences of about 50 ms each: a stand-in for a model that streams for half a second.
        llm = ScriptedLLM(piece_delay=0.05, default="好的。" * 10)
        rate, p50, p95 = measure(16, max(1, args.questions // 3), concurrency, llm)
        print(f"| generated (scripted model, 0.5 s) | 16 | {concurrency} | {rate:.1f} | {p50:.3f} | {p95:.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
