"""Secrets never reach a log or the output: token-shaped values driven through each platform's failure paths
(a rejected token, the server down, a 5xx, an error page that echoes the request) with the real libraries
against the fakes, at DEBUG level, with a plain StreamHandler on stderr beside pytest's capture."""

from __future__ import annotations

import asyncio
import functools
import io
import logging

import discord
import pytest
import yarl

pytest.register_assert_rewrite("fakes.fake_telegram", "fakes.fake_discord")
from conftest import write_config  # noqa: E402
from fakes.fake_discord import FakeDiscord  # noqa: E402
from fakes.fake_openai import FakeOpenAI  # noqa: E402
from fakes.fake_telegram import FakeTelegram, user  # noqa: E402
from support.leaks import OpenClients  # noqa: E402
from support.output import Everything  # noqa: E402
from support.page_server import free_port  # noqa: E402

from adapters import redact  # noqa: E402
from adapters.discord.client import serve as serve_discord  # noqa: E402
from adapters.run import supervise  # noqa: E402
from adapters.telegram.serve import serve as serve_telegram  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.wiring import build_engine  # noqa: E402

pytest_plugins = ("fakes.fake_telegram", "fakes.fake_discord")  # tg_shared, dc_shared: an engine per module
pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
              pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")]

TG_SECRET = "7712345678:AAHk3d9Qv_Xy-EXAMPLEtokenZz01234567"  # the shape BotFather hands out
DC_SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
LLM_SECRET = "sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
OURS = ("adapters", "bot", "engine")  # our loggers (libraries log errors of their own, e.g. PTB on a bad body)


@pytest.fixture
def everything(caplog, capfd):
    out = Everything(caplog, capfd)
    yield out
    out.close()


@pytest.fixture
def install():
    """adapters.redact.install, as `springfest` and app.py call it at start-up; forgotten afterwards."""
    yield redact.install
    redact.REDACTOR.forget()


async def _supervised(serve, app, cfg, until, timeout: float = 15.0):
    """Run `serve` under the real supervisor (quick retries) until `until()` or until it gives up; its result."""
    task = asyncio.create_task(supervise("platform", serve, app, cfg, backoff=(0.05, 0.1)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not task.done() and not until():
            assert loop.time() < deadline, "timed out"
            await asyncio.sleep(0.05)
        if task.done():
            return task.result()
        return None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _warned(everything, text: str) -> int:
    return sum(text in r.getMessage() for r in everything.records(logging.WARNING))


def test_the_filter_redacts_message_arguments_traceback_and_stack(monkeypatch, everything, install, tmp_path,
                                                                  mini_data):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TG_SECRET)
    install(load_config(write_config(tmp_path, mini_data)))
    late = logging.getLogger("some.library")  # a logger (and a handler) made after the redaction was installed
    late.debug("GET https://api.telegram.org/bot%s/getMe", TG_SECRET)
    late.info("quoted: %s", TG_SECRET.replace(":", "%3A"))
    try:
        raise ValueError(f"The token `{TG_SECRET}` was rejected by the server.")
    except ValueError:
        late.exception("failed")
    late.warning("where", stack_info=True, extra={"ignored": TG_SECRET})
    text = everything.text()
    assert TG_SECRET not in text and "AAHk3d9Qv" not in text
    assert "<$TELEGRAM_BOT_TOKEN>" in text and "ValueError: The token `<$TELEGRAM_BOT_TOKEN>` was rejected" in text
    assert redact.redact(f"x{TG_SECRET}y") == "x<$TELEGRAM_BOT_TOKEN>y"


@pytest.mark.parametrize("case", ["rejected", "down", "500", "502-echoing-the-url", "polling-502-echo"])
async def test_telegram_failures_never_show_the_token(case, tg_shared, tmp_path, monkeypatch, everything, install):
    accepted = "111:other" if case == "rejected" else TG_SECRET
    fake = await FakeTelegram(token=accepted).start()
    base = f"http://127.0.0.1:{free_port()}/bot" if case == "down" else fake.base_url
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TG_SECRET)
    cfg = load_config(write_config(tmp_path, tg_shared[0], access={"owners": [1]}, telegram={"base_url": base}))
    install(cfg)
    if case == "500":
        fake.fail_next("getMe", 500)
    elif case == "502-echoing-the-url":
        fake.fail_next("getMe", 502, text="<html>502 Bad Gateway: upstream failed for {path}</html>")
    app = BotApp(tg_shared[1], cfg, Store(cfg.path(cfg.state.path)))
    clients = OpenClients()
    serve = functools.partial(serve_telegram, base_url=base)
    try:
        if case == "polling-502-echo":
            running = asyncio.create_task(_supervised(serve, app, cfg, lambda: False, timeout=30))
            await fake.wait_for(lambda: fake.polls > 0)
            fake.fail_next("getUpdates", 502, text="Bad Gateway for {path}")
            fake.message(5, user(5), "hi", edited=True)  # ends the current long poll; the next one fails
            await fake.wait_for(lambda: _warned(everything, "polling Telegram") and fake.polls > 2, timeout=15)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            why = None
        else:
            why = await _supervised(serve, app, cfg, lambda: _warned(everything, "trying again") >= 2
                                    or fake.polls > 0)
    finally:
        await app.aclose()
        await fake.stop()
    everything.extra.append(str(why))
    assert TG_SECRET not in everything.text()
    assert not clients.new(), "every HTTP client was closed"
    if case == "rejected":
        assert why.startswith("Telegram rejected the token in $TELEGRAM_BOT_TOKEN")
    else:
        assert why is None, "a transient failure is retried, never final"
    if case in ("down", "500", "502-echoing-the-url"):
        assert _warned(everything, "cannot reach the Telegram Bot API")
    errors = [r.getMessage() for r in everything.records(logging.ERROR) if r.name.startswith(OURS)]
    assert errors == ([f"platform cannot run: {why}"] if case == "rejected" else []), "one line when fatal"


@pytest.mark.parametrize("case", ["rejected", "down", "503-echoing-the-token"])
async def test_discord_failures_never_show_the_token(case, dc_shared, tmp_path, monkeypatch, everything, install):
    fake = await FakeDiscord(token="other-token" if case == "rejected" else DC_SECRET).start()
    api = f"http://127.0.0.1:{free_port()}/api/v10" if case == "down" else fake.api_base
    monkeypatch.setattr(discord.http.Route, "BASE", api)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DC_SECRET)
    cfg = load_config(write_config(tmp_path, dc_shared[0]))
    install(cfg)
    if case == "503-echoing-the-token":  # a 503 reaches us at once (discord.py retries 500/502/504 for 25 s)
        fake.fail_next("me", 503, payload={"message": "no upstream for {authorization}", "code": 0})
    app = BotApp(dc_shared[1], cfg, Store(cfg.path(cfg.state.path)))
    clients = OpenClients()
    serve = functools.partial(serve_discord, guild_ready_timeout=0.05)
    try:
        why = await _supervised(serve, app, cfg, lambda: _warned(everything, "trying again") >= 2
                                or fake.sessions_started > 0)
        if case == "503-echoing-the-token":
            assert fake.sessions_started == 1, "connected on the next try"
    finally:
        await app.aclose()
        await fake.stop()
    everything.extra.append(str(why))
    assert DC_SECRET not in everything.text()
    assert not clients.new(), "every HTTP client was closed"
    if case == "rejected":
        assert why.startswith("Discord rejected the token in $DISCORD_BOT_TOKEN")
    else:
        assert why is None and _warned(everything, "cannot reach Discord")
    errors = [r.getMessage() for r in everything.records(logging.ERROR) if r.name.startswith(OURS)]
    assert errors == ([f"platform cannot run: {why}"] if case == "rejected" else []), "one line when fatal"


@pytest.mark.parametrize("reply", ["401-echo", "500-echo", "down"])
async def test_the_llm_key_never_shows(reply, tmp_path, mini_data, monkeypatch, everything, install):
    server = await FakeOpenAI().start()
    base = f"http://127.0.0.1:{free_port()}/v1" if reply == "down" else server.base_url
    if reply != "down":
        server.enqueue(FakeOpenAI.fail(int(reply[:3]), echo_auth=True))
    monkeypatch.setenv("LMDEPLOY_KEY", LLM_SECRET)
    cfg = load_config(write_config(tmp_path, mini_data, llm={
        "backend": "openai", "base_url": base, "api_key_env": "LMDEPLOY_KEY", "prefer_curated": False}))
    install(cfg)
    engine = build_engine(cfg)
    try:
        answer = await engine.answer("你打算什么时候结婚啊？", "tactful")
        text = await answer.collect()
    finally:
        await engine.aclose()
        await server.stop()
    assert answer.source == "curated" and text
    if reply != "down":
        assert server.headers[0]["Authorization"] == f"Bearer {LLM_SECRET}", "the key was sent (and echoed)"
    assert _warned(everything, "backend gave no answer")
    assert LLM_SECRET not in everything.text()


def test_a_failing_handler_does_not_print_the_exception_raw(monkeypatch, everything, install, tmp_path, mini_data):
    gone = io.StringIO()
    gone.close()
    broken = logging.StreamHandler(gone)  # e.g. a log file closed under it
    logging.getLogger("some.library").addHandler(broken)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DC_SECRET)
    install(load_config(write_config(tmp_path, mini_data)))
    try:
        try:
            raise RuntimeError(f"401 for {DC_SECRET}")
        except RuntimeError:
            logging.getLogger("some.library").exception("login failed")  # logging prints its own error
    finally:
        logging.getLogger("some.library").removeHandler(broken)
    text = everything.text()
    assert "--- Logging error ---" in text and "I/O operation on closed file" in text
    assert DC_SECRET not in text and "401 for <$DISCORD_BOT_TOKEN>" in text
