"""The BotApp the plugin's handlers answer with, the deliveries that show its answers, and where they come from.

Embedded (`springfest run`): the runner hands over the BotApp it built with install(). In an existing NoneBot2
project: at NoneBot's start-up the plugin builds its own from the SpringFestQA config file named by the NoneBot
setting `springfest_config` (or $SPRINGFEST_CONFIG, or ./config.yaml), and closes it at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from adapters.budget import Budget
from adapters.delivery import Delivery
from adapters.nonebot import limits
from bot.app import BotApp
from bot.config import Config, load_config

log = logging.getLogger(__name__)


class PluginConfig(BaseModel):
    """What the plugin reads from the NoneBot project's settings (.env or nonebot.init)."""

    springfest_config: str | None = None  # path of SpringFestQA's config.yaml


@dataclass
class Runtime:
    app: BotApp
    cfg: Config
    delivery: Delivery  # OneBot v11: one for the account, its budget shared by every chat (limits.py)
    official: Delivery  # QQ's official platform: it counts replies per message itself (official.py)
    owned: Any = None  # the engine, when the plugin built it (and so closes it)


_current: Runtime | None = None


def make(app: BotApp, cfg: Config, *, owned: Any = None, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Runtime:
    """A Runtime for `app`; `clock` and `sleep` are the deliveries' (tests pass a fake clock)."""
    return Runtime(app, cfg, Delivery(limits.budget(cfg.onebot, clock=clock, sleep=sleep), clock=clock, sleep=sleep),
                   Delivery(Budget(clock=clock, sleep=sleep), clock=clock, sleep=sleep), owned)


def install(app: BotApp, cfg: Config, **clock: Any) -> Runtime:
    """Answer with `app` (the embedded runner's, or a test's); `clock`: see make()."""
    global _current
    _current = make(app, cfg, **clock)
    return _current


def current() -> Runtime | None:
    return _current


async def start(plugin_config: PluginConfig) -> None:
    """NoneBot start-up: build the BotApp from the config file unless one was installed."""
    global _current
    if _current is not None:
        return
    from bot.store import Store
    from bot.wiring import build_engine

    cfg = load_config(plugin_config.springfest_config)
    engine = await asyncio.to_thread(build_engine, cfg)
    _current = make(BotApp(engine, cfg, Store(cfg.path(cfg.state.path))), cfg, owned=engine)
    log.info("springfest: ready (config %s)", plugin_config.springfest_config or "default")


async def stop() -> None:
    """NoneBot shutdown: close what start() built (an installed BotApp belongs to whoever installed it)."""
    global _current
    if _current is None or _current.owned is None:
        return
    runtime, _current = _current, None
    await runtime.app.aclose()
    await runtime.owned.aclose()
