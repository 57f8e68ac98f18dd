"""kill -9 in a busy minute: `springfest run --only telegram` as a child process against the fake Bot API in
this process, SIGKILLed while mentions are being answered, then started again on the same state file.

Shared by tests/adapters/test_inbox_telegram.py (small) and bench/bench_crash.py (300 mentions, 30 chats).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, write_config
from fakes.fake_telegram import BOT, TOKEN, FakeTelegram, user

QUESTIONS = ["你打算什么时候结婚啊？", "一个月挣多少钱？", "有对象了吗？", "啥时候请我们喝喜酒？"]
LIFTED = 10**6  # rate and flood limits out of the way: the crash is measured, not the limits


@dataclass
class Outcome:
    mentions: int
    answered_before_kill: int
    lost: int  # mentions without a final answer after the restart drained
    duplicated: int  # mentions with more than one answer
    drain_s: float  # from the second start to the last mention answered
    # For the duplicated ones: how far from the kill their first sendMessage reached the fake, at most (an
    # answer under way when the process died, its message id never stored, is the one expected duplicate).
    duplicate_sent_around_kill_s: float = 0.0


def config(tmp: Path, data: Path, fake: FakeTelegram) -> Path:
    return write_config(
        tmp, data, access={"open": True, "rate_limit": {"per_user_per_minute": LIFTED, "per_chat_per_minute": LIFTED}},
        telegram={"base_url": fake.base_url, "messages_per_second": LIFTED, "group_messages_per_minute": LIFTED},
        web={"enabled": False}, discord={"enabled": False}, llm={"backend": "none"})


async def start_bot(cfg: Path, cwd: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1", "PYTHONPATH": str(REPO)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", "--config", str(cfg), "run", "--only", "telegram",
        env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


def answers_to(fake: FakeTelegram, mention: dict) -> list[dict]:
    """The bot's messages replying to `mention` that show a final answer (with its buttons)."""
    chat = mention["chat"]["id"]
    return [m for m in fake.bot_messages(chat)
            if m.get("reply_to_message", {}).get("message_id") == mention["message_id"] and m.get("reply_markup")]


def _first_send(fake: FakeTelegram, mention: dict) -> float:
    chat, mid = mention["chat"]["id"], mention["message_id"]
    return min(c.at for c in fake.of("sendMessage", chat)
               if int((c.params.get("reply_parameters") or {}).get("message_id", 0)) == mid)


async def crash_and_restart(tmp: Path, data: Path, *, mentions: int, chats: int, kill_at: float = 1 / 3,
                            timeout: float = 300) -> Outcome:
    fake = await FakeTelegram().start()
    cfg = config(tmp, data, fake)
    proc = await start_bot(cfg, tmp)
    try:
        await fake.wait_for(lambda: fake.polls > 0, timeout=timeout)
        pushed = [fake.message(-(10_000 + i % chats), user(20_000 + i), f"@{BOT['username']} {QUESTIONS[i % 4]}")
                  for i in range(mentions)]

        def answered() -> int:
            return sum(1 for m in pushed if answers_to(fake, m))

        await fake.wait_for(lambda: answered() >= mentions * kill_at, timeout=timeout)
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await proc.wait()
        before = answered()
        started = time.perf_counter()
        proc = await start_bot(cfg, tmp)
        try:
            await fake.wait_for(lambda: answered() == mentions, timeout=timeout)
        except AssertionError:
            pass  # counted as lost below
        drain = time.perf_counter() - started
        await asyncio.sleep(1.0)  # a late duplicate has time to show
        counts = [len(answers_to(fake, m)) for m in pushed]
        twice = [m for m, c in zip(pushed, counts, strict=True) if c > 1]
        early = max((abs(killed - _first_send(fake, m)) for m in twice), default=0.0)
        return Outcome(mentions, before, counts.count(0), len(twice), drain, early)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        await fake.stop()
