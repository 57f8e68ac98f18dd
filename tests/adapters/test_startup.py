"""Start-up and shutdown, as an operator meets them: fatal errors stop a platform with one line naming what to
fix (never a restart loop), every HTTP client is closed whatever failed, and `springfest run` exits 1 when no
platform is left running. The real libraries against the fake Telegram and the fake Discord."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys

import discord
import pytest
import yarl

pytest.register_assert_rewrite("fakes.fake_telegram", "fakes.fake_discord")
from conftest import REPO, write_config  # noqa: E402
from fakes.fake_discord import FakeDiscord  # noqa: E402
from fakes.fake_telegram import FakeTelegram, Running, user  # noqa: E402
from support.leaks import OpenClients  # noqa: E402

from adapters.discord.client import serve as serve_discord  # noqa: E402
from adapters.errors import PlatformFatal  # noqa: E402
from adapters.run import serve_all, supervise  # noqa: E402
from adapters.telegram.serve import serve as serve_telegram  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.store import Store  # noqa: E402

pytest_plugins = ("fakes.fake_telegram", "fakes.fake_discord")
pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
              pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")]

SECRET = "7712345678:AAHk3d9Qv_Xy-EXAMPLEtokenZz01234567"


def _app(engine, cfg) -> BotApp:
    return BotApp(engine, cfg, Store(cfg.path(cfg.state.path)))


async def test_webhook_without_tornado_is_fatal_once_and_leaks_nothing(tg_shared, tg_make_cfg, monkeypatch, caplog):
    """H1: start_webhook's fatal error used to be replaced by "This Application is still running!" (and retried
    every minute, leaking an HTTP client each time)."""
    monkeypatch.setitem(sys.modules, "tornado", None)  # `import tornado` fails as when it is not installed
    fake = await FakeTelegram().start()
    cfg = tg_make_cfg(telegram={"base_url": fake.base_url, "webhook_url": "https://bot.example/hook"})
    app = _app(tg_shared[1], cfg)
    clients = OpenClients()
    caplog.set_level(logging.WARNING)
    try:
        why = await asyncio.wait_for(supervise("telegram", serve_telegram, app, cfg, backoff=(0.05,)), 10)
        with pytest.raises(PlatformFatal, match=r"pip install '\.\[telegram\]' \(tornado\)"):
            await serve_telegram(app, cfg)
    finally:
        await app.aclose()
        await fake.stop()
    assert "webhook mode (telegram.webhook_url) needs pip install" in why
    assert len(fake.of("getMe")) == 2, "tried once by the supervisor, once directly: never restarted"
    assert "still running" not in caplog.text
    assert not clients.new(), "the Bot API clients were closed"


async def test_a_rejected_token_closes_its_clients_and_names_the_variable(tg_shared, tg_make_cfg, monkeypatch):
    """H2: the failed initialize() left its HTTP client open, and the error carried PTB's text with the token."""
    fake = await FakeTelegram(token="111:other").start()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    cfg = tg_make_cfg(telegram={"base_url": fake.base_url})
    app = _app(tg_shared[1], cfg)
    clients = OpenClients()
    try:
        with pytest.raises(PlatformFatal) as raised:
            await serve_telegram(app, cfg)
    finally:
        await app.aclose()
        await fake.stop()
    assert str(raised.value) == ("Telegram rejected the token in $TELEGRAM_BOT_TOKEN: set it to the token "
                                 "@BotFather gave you")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__, "PTB's text (the token) not chained"
    assert not clients.new(), "the Bot API clients were closed"


async def test_a_token_revoked_while_running_stops_telegram_for_good(tg_shared, tg_make_cfg, caplog):
    """PTB stops polling on a 401 and would sit idle for ever: the platform ends as fatal instead."""
    fake = await FakeTelegram().start()
    running = await Running(fake, tg_shared[1], tg_make_cfg(telegram={"base_url": fake.base_url})).start()
    try:
        fake.token = "111:revoked"
        fake.message(5, user(5), "hi", edited=True)  # ends the current long poll; the next one gets 401
        with pytest.raises(PlatformFatal, match=r"rejected the token in \$TELEGRAM_BOT_TOKEN"):
            await asyncio.wait_for(running.task, 10)
    finally:
        await running.stop()
        await fake.stop()


async def test_springfest_run_exits_1_with_one_line_when_the_only_platform_is_rejected(tmp_path, mini_data):
    """H2 + H3 through the real command: exit status 1, one line naming the variable, the token nowhere."""
    fake = await FakeTelegram(token="111:other").start()
    cfg = write_config(tmp_path, mini_data, web={"enabled": False}, discord={"enabled": False},
                       telegram={"base_url": fake.base_url})
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": SECRET, "NO_PROXY": "127.0.0.1", "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", "--config", str(cfg), "-v", "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
        await fake.stop()
    log = (out + err).decode()
    assert proc.returncode == 1, log
    assert SECRET not in log and "AAHk3d9Qv" not in log
    assert err.decode().strip().splitlines()[-1] == (
        "springfest: no platform left running: telegram: Telegram rejected the token in $TELEGRAM_BOT_TOKEN: "
        "set it to the token @BotFather gave you")
    assert fake.rejected == ["getMe"], "not restarted"
    assert "Unclosed" not in log and "Traceback" not in log, log


async def test_serve_all_exits_1_when_every_platform_gave_up(tg_shared, dc_shared, tmp_path, monkeypatch,
                                                            capsys):
    """H3 with two platforms: each rejected; the exit line names both variables."""
    telegram = await FakeTelegram(token="111:other").start()
    dc = await FakeDiscord(token="someone-else").start()
    monkeypatch.setattr(discord.http.Route, "BASE", dc.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(dc.gateway_url))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "MTIz.Ga.not-the-one")
    cfg = load_config(write_config(tmp_path, tg_shared[0], web={"enabled": False},
                                   telegram={"base_url": telegram.base_url}))
    clients = OpenClients()
    try:
        code = await asyncio.wait_for(serve_all(cfg), 60)
    finally:
        await telegram.stop()
        await dc.stop()
    err = capsys.readouterr().err
    assert code == 1
    lines = [x for x in err.splitlines() if x.startswith("springfest: no platform")]
    assert len(lines) == 1, err
    line = lines[0]
    assert "telegram: Telegram rejected the token in $TELEGRAM_BOT_TOKEN" in line
    assert "discord: Discord rejected the token in $DISCORD_BOT_TOKEN" in line
    assert len(dc.of("me", ok=False)) == 1, "Discord was not restarted either"
    assert not clients.new()


async def test_discord_cannot_reach_its_api_at_start_up_is_retried_then_connects(dc, dc_make_cfg, caplog):
    """Discord's transient start-up failures (a 503, then the network) are retried with backoff, one warning
    line each and no traceback, and the bot connects once Discord answers."""
    cfg = dc_make_cfg()
    dc.fake.fail_next("me", 503, payload={"message": "upstream unavailable", "code": 0}, times=2)
    app = _app(dc.engine, cfg)
    clients = OpenClients()
    caplog.set_level(logging.WARNING)
    serve = functools.partial(serve_discord, guild_ready_timeout=0.05)
    task = asyncio.create_task(supervise("discord", serve, app, cfg, backoff=(0.05, 0.1)))
    try:
        await dc.fake.wait_for(lambda: dc.fake.sessions_started == 1, timeout=15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await app.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.name == "adapters.run"]
    assert warnings == ["discord: cannot reach Discord: HTTP 503; trying again in 0.05s",
                        "discord: cannot reach Discord: HTTP 503; trying again in 0.1s"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not clients.new()
