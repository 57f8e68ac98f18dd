"""Telegram under faults: are mentions lost or answered twice when the Bot API fails now and then?

`springfest run --only telegram` runs as a child process exactly as deployed (curated path, access open, the
bot's own flood budget lifted so only the injected 429s slow it); this process runs the fake Bot API server
from tests/ with seeded random faults on sendMessage and editMessageText: a share answered 429 (retry_after
1-3 s), a share 500, a share done and then answered only after the bot's read timeout (a timeout after
delivery). It pushes mentions from many group chats at once and waits until every one has its answer with
buttons (or until --drain-timeout), waits a little more for late duplicates, then presses 换一个 on every
answer (an edit in place, also faulted) and waits for those edits. "Duplicated": a mention with more than one
answer carrying buttons.

    python bench/bench_faults.py [--mentions 2000] [--chats 100] [--seed 1]
    python bench/bench_faults.py --bot-code /work/main   # the bot from another checkout (before the policy)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _common import machine  # noqa: E402
from bench_telegram import ADDRESSES, QUESTIONS, data_dir  # noqa: E402
from conftest import write_config  # noqa: E402
from fakes.fake_telegram import BOT, LATE, TOKEN, FakeTelegram, Faults, user  # noqa: E402

READ_TIMEOUT_S = 1.0  # the bot's read timeout here (telegram.read_timeout_s): a late answer costs about this


def answers(fake: FakeTelegram) -> dict[tuple[int, int], list[dict]]:
    """The bot's messages with buttons (the final message of an answer) by the (chat, message) they answer."""
    found: dict[tuple[int, int], list[dict]] = {}
    for (chat, _), m in fake.messages.items():
        if m["from"]["id"] == BOT["id"] and m.get("reply_markup") and m.get("reply_to_message"):
            found.setdefault((chat, m["reply_to_message"]["message_id"]), []).append(m)
    return found


def key(message: dict) -> tuple[int, int]:
    return message["chat"]["id"], message["message_id"]


def answered_all(fake: FakeTelegram, mentions: list[dict]) -> bool:
    found = answers(fake)
    return all(key(m) in found for m in mentions)


def edited(fake: FakeTelegram, since: int) -> set[tuple[int, int]]:
    """The (chat, message) pairs the bot edited (any answer: done, or "not modified") in calls[since:]."""
    return {(int(c.params["chat_id"]), int(c.params["message_id"]))
            for c in fake.calls[since:] if c.method == "editMessageText"}


def press_data(message: dict) -> str:
    return next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
                if "换一个" in b["text"])


async def wait_until(done, timeout: float) -> float:
    """Seconds until done() held, or the timeout passed; polled, as checking costs more than a call."""
    start = time.perf_counter()
    while not done() and time.perf_counter() - start < timeout:
        await asyncio.sleep(0.25)
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> None:
    code = Path(args.bot_code).resolve() if args.bot_code else REPO
    # A checkout from before telegram.read_timeout_s reads PTB's defaults: 5 s read + 5 s write on aiohttp.
    configurable = "read_timeout_s" in (code / "bot" / "config.py").read_text(encoding="utf-8")
    read_timeout = READ_TIMEOUT_S if configurable else 10.0
    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    data, corpus = data_dir(tmp)
    fake = await FakeTelegram().start()
    telegram = {"base_url": fake.base_url, "messages_per_second": 10**6, "group_messages_per_minute": 10**6}
    if configurable:
        telegram["read_timeout_s"] = read_timeout
    cfg = write_config(tmp, data, access={"open": True, "rate_limit": {"per_user_per_minute": 10**6,
                                                                     "per_chat_per_minute": 10**6}},
                       telegram=telegram, web={"enabled": False}, discord={"enabled": False})
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1", "PYTHONPATH": str(code)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "adapters.cli", "--config", str(cfg),
                                                "run", "--only", "telegram", env=env, cwd=tmp,
                                                stderr=asyncio.subprocess.DEVNULL if args.quiet else None)
    hold = read_timeout + 1.0
    try:
        await fake.wait_for(lambda: fake.polls > 0, timeout=300)
        warm = [fake.message(-(10_000 + i % args.chats), user(20_000 + i), f"@{BOT['username']} {QUESTIONS[i % 8]}",
                             mention=True) for i in range(args.warmup)]  # connections, caches; no faults yet
        await wait_until(lambda: answered_all(fake, warm), 300)
        fake.calls.clear()
        fake.inject(Faults(seed=args.seed, rate_limited=args.rate_limited, server_error=args.server_error,
                           late=args.late, retry_after_s=(1, 3), hold_s=hold))
        t0 = time.perf_counter()
        mentions = []
        for i in range(args.mentions):
            q = ADDRESSES[i % len(ADDRESSES)] + QUESTIONS[i // len(ADDRESSES) % len(QUESTIONS)]
            mentions.append(fake.message(-(10_000 + i % args.chats), user(20_000 + i % 500),
                                         f"@{BOT['username']} {q}", mention=True))
        await wait_until(lambda: answered_all(fake, mentions), args.drain_timeout)
        drain = time.perf_counter() - t0
        await asyncio.sleep(hold + 1.0)  # a send resent after a late answer's timeout comes about now
        found = answers(fake)
        counts = [len(found.get(key(m), [])) for m in mentions]

        # Press 换一个 on every answer: an edit in place, through the same faults; the bot may not know the id
        # of an answer whose send timed out, and its buttons must work all the same.
        pressed = [found[key(m)][0] for m in mentions if key(m) in found]
        since, t1 = len(fake.calls), time.perf_counter()
        for m in pressed:
            fake.press(m["chat"]["id"], user(20_000), m, press_data(m))
        await wait_until(lambda: {key(m) for m in pressed} <= edited(fake, since), args.drain_timeout)
        press_drain = time.perf_counter() - t1
        await asyncio.sleep(hold + 1.0)
        presses_done = len({key(m) for m in pressed} & edited(fake, since))
        found = answers(fake)
        after_presses = [len(found.get(key(m), [])) for m in mentions]
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def by_method(kind: str) -> str:
        send = sum(1 for c in fake.calls if c.fault == kind and c.method == "sendMessage")
        edit = sum(1 for c in fake.calls if c.fault == kind and c.method == "editMessageText")
        return f"{send + edit} ({send} sends, {edit} edits)"

    answered = sum(c >= 1 for c in counts)
    label = "this checkout" if code == REPO else f"the bot from {code}"
    print(f"\n{machine()}; corpus: {corpus}; {label}; bot read timeout {read_timeout:g} s; seed {args.seed}\n")
    print(f"| faults on sendMessage + editMessageText: {args.rate_limited:.0%} 429 (retry_after 1-3 s), "
          f"{args.server_error:.0%} 500, {args.late:.0%} answered after the read timeout | |")
    print("|---|---|")
    rows = [
        ("mentions (from chats)", f"{args.mentions} ({args.chats})"),
        ("answered (one or more answers with buttons)", answered),
        ("lost (no answer)", args.mentions - answered),
        ("duplicated (more than one answer with buttons)", sum(c > 1 for c in counts)),
        ("extra answer messages", sum(max(0, c - 1) for c in counts)),
        ("429s waited out", by_method("429")),
        ("500s retried", by_method("500")),
        ("timeouts (done, answered after the read timeout)", by_method(LATE)),
        ("time to drain the mentions (s)", f"{drain:.1f}"),
        ("presses of 换一个 on the answers, edited", f"{presses_done} of {len(pressed)}"),
        ("time to drain the presses (s)", f"{press_drain:.1f}"),
        ("mentions with more than one answer after the presses", sum(c > 1 for c in after_presses)),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mentions", type=int, default=2000)
    p.add_argument("--chats", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate-limited", type=float, default=0.05, help="share of calls answered 429")
    p.add_argument("--server-error", type=float, default=0.02, help="share of calls answered 500")
    p.add_argument("--late", type=float, default=0.01, help="share of calls done, then answered too late")
    p.add_argument("--warmup", type=int, default=100, help="mentions answered first, without faults")
    p.add_argument("--drain-timeout", type=float, default=900, help="give up waiting after this many seconds")
    p.add_argument("--bot-code", help="run the bot from this checkout instead (e.g. the code before the fix)")
    p.add_argument("--quiet", action="store_true", help="hide the bot's log (its warnings for every fault)")
    asyncio.run(main(p.parse_args()))
