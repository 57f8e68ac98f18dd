"""kill -9 in a busy minute: how many questions a crash loses, how many it answers twice, how long the restart
takes to drain. `springfest run --only telegram` (a child process, curated path) gets `--mentions` mentions
from `--chats` groups through the fake Bot API, is SIGKILLed once a third are answered, and is started again
on the same state file (the scenario is tests/support/crash.py, which the CI test runs smaller).

    python bench/bench_crash.py [--mentions 300] [--chats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _common import machine  # noqa: E402
from conftest import copy_mini  # noqa: E402
from support.crash import crash_and_restart  # noqa: E402


async def main(mentions: int, chats: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    try:
        print(machine(), flush=True)
        o = await crash_and_restart(tmp, copy_mini(tmp), mentions=mentions, chats=chats, timeout=600)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n| kill -9 after {o.answered_before_kill} of {o.mentions} mentions ({chats} groups) | |\n|---|---|\n"
          f"| lost | {o.lost} |\n| answered twice | {o.duplicated} |\n"
          f"| ...their first answer reached the fake this close to the kill, at most, ms "
          f"| {1000 * o.duplicate_sent_around_kill_s:.0f} |\n"
          f"| restart to last answer (start-up included), s | {o.drain_s:.1f} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mentions", type=int, default=300)
    p.add_argument("--chats", type=int, default=30)
    args = p.parse_args()
    asyncio.run(main(args.mentions, args.chats))
