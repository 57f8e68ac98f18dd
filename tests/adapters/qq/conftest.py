"""NoneBug for the QQ plugin's handler tests, in this directory only.

nonebug is a pytest plugin whose session-wide autouse fixtures (nonebot.init and NoneBot's lifespan, one of
them an async session fixture) would run for every test of the project and clash with pytest-asyncio's
function-scoped loops (ScopeMismatch). So pyproject.toml turns its auto-loading off (`-p no:nonebug`) and
this conftest sets it up the way NoneBot's testing guide does, scoped to these tests: NoneBot initialised
once, its lifespan run in a session-scoped loop (`loop_scope="session"`, which the test modules here use
too: NoneBot's background tasks live in that loop), NoneBug's matcher provider, and the `app` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import module_engine, write_config

from bot.app import BotApp
from bot.config import load_config
from bot.store import Store

NEEDS_NONEBUG = "the QQ handler tests need nonebug: pip install -e '.[test]'"

SELF_ID = 10000  # the bot's QQ number
OWNER = 1


@pytest.fixture(scope="session")
def qq_engine(tmp_path_factory):
    """(data dir, engine) over the mini corpus, for every QQ handler test."""
    data, _, engine = module_engine(tmp_path_factory, seed=11)
    return data, engine


@pytest.fixture(scope="session")
def qq_nonebot(qq_engine, tmp_path_factory):
    """NoneBot initialised as `springfest run` does, with NoneBug's matcher provider and the plugin's matchers."""
    pytest.importorskip("nonebug", reason=NEEDS_NONEBUG)
    import nonebot
    from nonebot.adapters.onebot.v11 import Adapter
    from nonebot.matcher import matchers
    from nonebug.provider import NoneBugProvider

    from adapters.nonebot import logs, runtime
    from adapters.nonebot import matchers as plugin

    logs.from_loguru()
    nonebot.init(driver="~fastapi", log_level="WARNING")
    matchers.set_provider(NoneBugProvider)
    nonebot.get_driver().register_adapter(Adapter)
    data, engine = qq_engine
    tmp = tmp_path_factory.mktemp("qq-session")
    cfg = load_config(write_config(tmp, data))
    runtime.install(BotApp(engine, cfg, Store(cfg.path(cfg.state.path))), cfg)  # start-up then builds nothing
    return plugin.register()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def qq_lifespan(qq_nonebot):
    from nonebug.fixture import lifespan_ctx

    async with lifespan_ctx():
        yield


@pytest.fixture
def app(qq_lifespan):
    """NoneBug's test app."""
    from nonebug import App

    return App()


class Clock:
    """The deliveries' time, passing only when they sleep (budget waits, retry backoff)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_bot_app(qq_engine, tmp_path, clock) -> Callable[..., BotApp]:
    """Install a BotApp with these config sections (default: open access) as the one the plugin answers with;
    its deliveries run on the `clock` fixture."""
    from adapters.nonebot import runtime

    data, engine = qq_engine
    made: list[BotApp] = []

    def make(**sections) -> BotApp:
        sections.setdefault("access", {"open": True})
        cfg = load_config(write_config(Path(tmp_path), data, **sections))
        bot_app = BotApp(engine, cfg, Store(cfg.path(cfg.state.path)))
        runtime.install(bot_app, cfg, clock=clock, sleep=clock.sleep)
        made.append(bot_app)
        return bot_app

    yield make
    for bot_app in made:
        bot_app.store.close()
