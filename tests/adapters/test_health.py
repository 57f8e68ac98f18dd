"""/healthz and /metrics scraped over HTTP on 127.0.0.1 while `serve_all` runs only the bots (no web page)
against the fake Telegram or the fake Discord: healthy while connected, 503 with the reason once the fake is
gone; answers, latency and 429s counted."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import discord
import pytest
import yarl
from prometheus_client.parser import text_string_to_metric_families

pytest.register_assert_rewrite("fakes.fake_telegram", "fakes.fake_discord")
from conftest import write_config  # noqa: E402
from fakes.fake_discord import AUNT as DC_AUNT  # noqa: E402
from fakes.fake_discord import BOT as DC_BOT  # noqa: E402
from fakes.fake_discord import CHANNEL, FakeDiscord  # noqa: E402
from fakes.fake_discord import MENTION as DC_MENTION  # noqa: E402
from fakes.fake_telegram import MARRIAGE, FakeTelegram, user  # noqa: E402
from support.page_server import free_port  # noqa: E402

from adapters.health import LOADING, Health  # noqa: E402
from adapters.ops_server import ops_server  # noqa: E402
from adapters.run import serve_all  # noqa: E402
from bot.config import load_config  # noqa: E402

pytest_plugins = ("fakes.fake_telegram",)
pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
              pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning")]

OPEN = {"open": True, "rate_limit": {"per_user_per_minute": 100, "per_chat_per_minute": 100}}


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def _until(check, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with contextlib.suppress(aiohttp.ClientConnectionError):
            result = await check()
            if result:
                return result
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _running(cfg):
    task = asyncio.create_task(serve_all(cfg))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_health_and_metrics_follow_telegram(tg_shared, tmp_path, monkeypatch):
    fake = await FakeTelegram().start()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    port = free_port()
    cfg = load_config(write_config(tmp_path, tg_shared[0], access=OPEN, web={"enabled": False},
                                   discord={"enabled": False}, metrics={"enabled": True, "port": port},
                                   telegram={"base_url": fake.base_url, "edit_interval_s": 0.2}))
    base = f"http://127.0.0.1:{port}"
    try:
        async with _running(cfg):
            status, body = await _until(lambda: _ok(f"{base}/healthz"))
            assert body == '{"ok":true}'
            _, before = await _get(f"{base}/metrics")
            assert _sample(before, "springfest_platform_connected", platform="telegram") == 1
            assert _sample(before, "springfest_engine_ready") == 1
            fake.fail_next("sendMessage", 429, retry_after=1)
            question = fake.message(7, user(7), MARRIAGE)
            await fake.wait_for(lambda: fake.bot_messages(7), timeout=15)
            _, after = await _get(f"{base}/metrics")
            labels = {"platform": "telegram", "source": "curated", "style": "tactful"}
            assert _sample(after, "springfest_answers_total", **labels) == \
                _sample(before, "springfest_answers_total", **labels) + 1
            assert _sample(after, "springfest_answer_seconds_count", platform="telegram", source="curated") == \
                _sample(before, "springfest_answer_seconds_count", platform="telegram", source="curated") + 1
            assert _sample(after, "springfest_rate_limited_total", platform="telegram") == \
                _sample(before, "springfest_rate_limited_total", platform="telegram") + 1
            assert question["message_id"] == fake.bot_messages(7)[0]["reply_to_message"]["message_id"]
            await fake.stop()  # the long poll breaks; the next ones cannot connect
            status, body = await _until(lambda: _unhealthy(f"{base}/healthz"))
            assert "telegram: cannot reach the Bot API" in body
            _, gone = await _get(f"{base}/metrics")
            assert _sample(gone, "springfest_platform_connected", platform="telegram") == 0
    finally:
        await fake.stop()


async def test_health_follows_discord(dc_engine_data, tmp_path, monkeypatch):
    fake = await FakeDiscord().start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    monkeypatch.setenv("DISCORD_BOT_TOKEN", fake.token)
    port = free_port()
    cfg = load_config(write_config(tmp_path, dc_engine_data, access=OPEN, web={"enabled": False},
                                   telegram={"enabled": False}, metrics={"enabled": True, "port": port}))
    base = f"http://127.0.0.1:{port}"
    try:
        async with _running(cfg):
            await _until(lambda: _ok(f"{base}/healthz"))
            mention = fake.message(CHANNEL, DC_AUNT, f"{DC_MENTION} {MARRIAGE}", mentions=[DC_BOT])
            await fake.wait_for(lambda: fake.replies_to(mention), timeout=15)
            _, text = await _get(f"{base}/metrics")
            assert _sample(text, "springfest_answers_total", platform="discord", source="curated", style="tactful")
            await fake.stop()  # the gateway closes: discord.py tries to reconnect
            status, body = await _until(lambda: _unhealthy(f"{base}/healthz"))
            assert "discord: disconnected from the gateway" in body
    finally:
        await fake.stop()


async def test_healthz_says_the_engine_is_loading(tmp_path, mini_data):
    port = free_port()
    cfg = load_config(write_config(tmp_path, mini_data, metrics={"enabled": True, "port": port}))
    health = Health()
    health.expect(["telegram"])
    async with ops_server(cfg, health) as base:
        status, body = await _get(f"{base}/healthz")
        assert status == 503 and f"engine: {LOADING}" in body and "telegram: starting" in body
        health.engine_ready()
        health.up("telegram")
        assert await _get(f"{base}/healthz") == (200, '{"ok":true}')
    with pytest.raises(aiohttp.ClientConnectionError):
        await _get(f"{base}/healthz")  # stopped with the block


@pytest.fixture(scope="module")
def dc_engine_data(tg_shared):
    return tg_shared[0]


async def _ok(url: str):
    status, body = await _get(url)
    return (status, body) if status == 200 else None


async def _unhealthy(url: str):
    status, body = await _get(url)
    return (status, body) if status == 503 else None
