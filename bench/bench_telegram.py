"""Telegram end to end: updates per second and CPU ms per update through the fake Bot API server.

`springfest run --only telegram` runs as a child process exactly as deployed (curated path, llm.backend
none, access open, flood limits lifted so the bot itself is measured); this process runs the fake Bot API
server from tests/ and pushes mention updates from many group chats at once, then waits until every one
was answered. CPU is read from /proc for the bot process alone.

    python bench/bench_telegram.py [--updates 3000] [--chats 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import MINI, write_config  # noqa: E402
from fakes.fake_telegram import BOT, TOKEN, FakeTelegram, user  # noqa: E402

ADDRESSES = ["", "二姨问：", "小王啊，", "大侄子，", "闺女，", "三舅说：", "老李问，", "表姐："]
QUESTIONS = ["你打算什么时候结婚啊？", "一个月挣多少钱？", "啥时候请我们喝喜酒？", "现在工资有多少啊？",
             "有对象了吗？", "今年过年回家吗？", "在外面一个月能拿多少？", "准备哪年办婚事？"]


def data_dir(tmp: Path) -> tuple[Path, str]:
    """The repository's corpus when it has one, else the tests' mini corpus."""
    data = REPO / "data"
    if list((data / "qa").glob("*.yaml")) and (data / "fallbacks.yaml").is_file():
        return data, "data/ (the curated corpus)"
    mini = tmp / "data"
    shutil.copytree(MINI, mini)
    for name in ("styles.yaml", "safety_words.txt"):
        shutil.copy(data / name, mini / name)
    return mini, "tests/fixtures/mini (data/ has no corpus yet)"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def burst(fake: FakeTelegram, n: int, chats: int, start: int) -> None:
    """Push n mentions spread over `chats` groups; wait until n more messages were sent."""
    before = len(fake.of("sendMessage"))
    for i in range(n):
        k = start + i
        q = ADDRESSES[k % len(ADDRESSES)] + QUESTIONS[k // len(ADDRESSES) % len(QUESTIONS)]
        fake.message(-(10_000 + i % chats), user(20_000 + i % 500), f"@{BOT['username']} {q}")
    await fake.wait_for(lambda: len(fake.of("sendMessage")) >= before + n, timeout=600)


async def main(updates: int, chats: int, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-tg-"))
    data, corpus = data_dir(tmp)
    fake = await FakeTelegram().start()
    cfg = write_config(tmp, data, access={"open": True, "rate_limit": {"per_user_per_minute": 10**6,
                                                                     "per_chat_per_minute": 10**6}},
                       telegram={"base_url": fake.base_url, "messages_per_second": 10**6,
                                 "group_messages_per_minute": 10**6},
                       web={"enabled": False}, discord={"enabled": False})
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1", "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "adapters.cli", "--config", str(cfg),
                                                "run", "--only", "telegram", env=env, cwd=tmp)
    try:
        await fake.wait_for(lambda: fake.polls > 0, timeout=300)
        await burst(fake, 200, chats, 0)  # warm-up: connections, caches
        rates, cpus, fake_cpus = [], [], []
        for run in range(runs):
            cpu0, own0, t0 = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            await burst(fake, updates, chats, 200 + run * updates)
            wall, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0
            fake_cpus.append(1000 * (time.process_time() - own0) / updates)
            rates.append(updates / wall)
            cpus.append(1000 * cpu / updates)
            print(f"run {run + 1}: {updates} updates in {wall:.2f}s = {updates / wall:.0f}/s, "
                  f"bot CPU {1000 * cpu / updates:.2f} ms/update, fake server {fake_cpus[-1]:.2f} ms/update",
                  flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    table = (f"\n| measure ({updates} updates from {chats} groups, {os.cpu_count()} cores, corpus: {corpus}) "
             f"| median of {runs} |\n|---|---|\n"
             f"| updates/s end to end (push -> sendMessage received) | {statistics.median(rates):.0f} |\n"
             f"| bot process CPU ms per update | {statistics.median(cpus):.2f} |\n"
             f"| fake server + load generator CPU ms per update (same cores) "
             f"| {statistics.median(fake_cpus):.2f} |\n")
    print(table)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--chats", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    asyncio.run(main(args.updates, args.chats, args.runs))
