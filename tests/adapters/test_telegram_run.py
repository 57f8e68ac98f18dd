"""`springfest run`: the real command serving Telegram against the fake, SIGTERM, and platform supervision."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import pytest

pytest.register_assert_rewrite("fakes.fake_telegram")
from conftest import REPO, write_config  # noqa: E402
from fakes.fake_telegram import MARRIAGE, TOKEN, FakeTelegram, answers, user  # noqa: E402

from adapters.errors import PlatformFatal  # noqa: E402
from adapters.run import supervise  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)  # the fixtures: tg_shared, tg_make_cfg, tg


async def test_springfest_run_answers_on_telegram_and_stops_on_sigterm(tmp_path, mini_data, tg_shared):
    fake = await FakeTelegram().start()
    cfg = write_config(tmp_path, mini_data, access={"open": True}, web={"enabled": False},
                       discord={"enabled": False}, telegram={"base_url": fake.base_url})
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1", "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", "--config", str(cfg), "-v", "run", "--only", "telegram",
        env=env, stderr=asyncio.subprocess.PIPE, cwd=tmp_path)
    try:
        await fake.wait_for(lambda: fake.polls > 0, timeout=60)
        question = fake.message(5, user(5), MARRIAGE)
        await fake.wait_for(lambda: len(fake.bot_messages(5)) == 1)
        assert fake.bot_messages(5)[0]["text"] in answers(tg_shared[1], "marriage-when", "tactful")
        assert fake.bot_messages(5)[0]["reply_to_message"]["message_id"] == question["message_id"]
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
        await fake.stop()
    log = (await proc.stderr.read()).decode()
    assert code == 0, log
    assert "stopped" in log and TOKEN not in log
    assert " ERROR " not in log, log


async def test_a_failing_platform_is_restarted_and_a_fatal_one_stops(caplog):
    starts = []

    async def flaky(app, cfg):
        starts.append(asyncio.get_running_loop().time())
        if len(starts) < 3:
            raise ConnectionError("gateway went away")
        await asyncio.sleep(3600)

    async def broken(app, cfg):
        raise PlatformFatal("token rejected")

    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(supervise("flaky", flaky, None, None, backoff=(0.05, 0.1)))
    await supervise("broken", broken, None, None, backoff=(0.05,))  # returns: not restarted
    for _ in range(50):
        if len(starts) == 3:
            break
        await asyncio.sleep(0.05)
    assert len(starts) == 3 and not task.done(), "restarted after each failure and still running"
    assert starts[2] - starts[1] >= 0.09, "the delay grows"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "broken cannot run: token rejected" in caplog.text
