"""QQ as a platform of `springfest run`: NoneBot2 in this process and event loop, serving OneBot v11.

NoneBot's FastAPI driver is served by a uvicorn server inside the caller's loop (not `nonebot.run()`, which
would start a loop of its own), on `onebot.host`:`onebot.port`. A OneBot v11 client (NapCat, Lagrange) connects
by reverse WebSocket to ws://HOST:PORT/onebot/v11/ws with `X-Self-ID` (its QQ number) and the access token
from $`onebot.access_token_env`; a client without it, or with another, is refused. The embedded server
serves nothing else (no API docs page).

/healthz (adapters.health) counts the platform connected while at least one client is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nonebot
import uvicorn
from nonebot.adapters.onebot.v11 import Adapter, Bot

from adapters.errors import PlatformDown, PlatformFatal
from adapters.health import HEALTH
from adapters.listen import Server, bind
from adapters.nonebot import logs, matchers, runtime
from adapters.nonebot.events import PLATFORM
from adapters.nonebot.handlers import FAILED
from adapters.nonebot.limits import describe
from bot.app import DEFAULT_BOT_NAME, BotApp
from bot.config import Config

log = logging.getLogger(__name__)
WS_PATH = "/onebot/v11/ws"
GRACEFUL_SHUTDOWN_S = 3


class OneBotAdapter(Adapter):
    """The OneBot v11 adapter, saying in our log why a client was refused (it only says "invalid")."""

    env_name = "ONEBOT_ACCESS_TOKEN"

    def _check_access_token(self, request):
        refused = super()._check_access_token(request)
        if refused is not None:
            who = request.headers.get("x-self-id") or "?"
            why = ("it sent another access token than the one in" if request.headers.get("authorization")
                   else "it sent no access token; give it the one in")
            log.warning("onebot: refused a client (X-Self-ID %s): %s $%s", who, why, self.env_name)
        return refused


def wanted(cfg: Config) -> bool:
    """Runs when onebot.enabled is on (a missing token is then a clear error rather than silence)."""
    return cfg.onebot.enabled


def _init(cfg: Config, token: str) -> OneBotAdapter:
    """NoneBot, its adapter and the plugin's matchers, once per process."""
    logs.from_loguru()
    # NoneBot logs every message's text at INFO: family chats stay out of the log unless something is wrong.
    nonebot.init(driver="~fastapi", onebot_access_token=token, log_level="WARNING", fastapi_openapi_url=None,
                 fastapi_docs_url=None, fastapi_redoc_url=None)
    driver = nonebot.get_driver()
    if Adapter.get_name() not in nonebot.get_adapters():
        OneBotAdapter.env_name = cfg.onebot.access_token_env
        driver.register_adapter(OneBotAdapter)

        @driver.on_bot_connect
        async def _connected(bot: Bot) -> None:
            log.info("onebot: QQ %s connected", bot.self_id)
            print(f"SpringFestQA QQ: {bot.self_id} connected", flush=True)  # shown without -v, like the URL
            HEALTH.up(PLATFORM)
            await _learn_name(bot)

        @driver.on_bot_disconnect
        async def _disconnected(bot: Bot) -> None:
            log.warning("onebot: QQ %s disconnected; answers wait for it to reconnect", bot.self_id)
            if not _clients():
                HEALTH.down(PLATFORM, f"QQ {bot.self_id} disconnected; waiting for a OneBot client to reconnect")

    matchers.register()
    adapter = nonebot.get_adapter(Adapter)
    if adapter.onebot_config.onebot_access_token != token:  # NoneBot was set up before us, another way
        raise PlatformFatal("NoneBot was already initialised with another OneBot access token")
    return adapter


async def _learn_name(bot: Bot) -> None:
    """The account's nickname, for the help text's "@<name> 你什么时候结婚？" (get_login_info, OneBot v11)."""
    rt = runtime.current()
    try:
        info = await bot.get_login_info()
    except FAILED as e:
        log.info("onebot: could not read the account's nickname (%s); the help text says @%s", describe(e),
                 DEFAULT_BOT_NAME)
        return
    if rt is not None and info.get("nickname"):
        rt.app.set_bot_name(PLATFORM, str(info["nickname"]))


def _clients() -> list[str]:
    """The QQ numbers of the OneBot clients connected now."""
    return [self_id for self_id, bot in nonebot.get_bots().items() if isinstance(bot, Bot)]


async def serve(app: BotApp, cfg: Config) -> None:
    """Serve OneBot v11 clients until cancelled."""
    token = cfg.secret(cfg.onebot.access_token_env)
    if not token:
        raise PlatformFatal(f"${cfg.onebot.access_token_env} is not set: put the access token there and the "
                            "same token in NapCat's or Lagrange's reverse WebSocket settings")
    _init(cfg, token)
    runtime.install(app, cfg)
    try:
        sock = bind(cfg.onebot.host, cfg.onebot.port, hint="set onebot.port in config.yaml to another port")
    except OSError as e:  # another program has the port: maybe for a while (the last run still stopping)
        raise PlatformDown(f"onebot: {e}") from None
    # Our logging, not uvicorn's own (its handlers would bypass the format springfest run set up).
    config = uvicorn.Config(nonebot.get_asgi(), log_config=None, log_level="warning", access_log=False,
                            lifespan="on", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="onebot-server")
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            host, port = sock.getsockname()[:2]
            print(f"SpringFestQA QQ (OneBot v11): ws://{host}:{port}{WS_PATH}", flush=True)
            if not _clients():
                HEALTH.down(PLATFORM, f"no OneBot client connected yet (it connects to ws://{host}:{port}{WS_PATH})")
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, GRACEFUL_SHUTDOWN_S + 2)
        raise
    except SystemExit as e:  # uvicorn exits the process when start-up fails: fail this platform instead
        raise RuntimeError(f"the OneBot server could not start (exit code {e.code})") from None
    finally:
        if not task.done():
            server.force_exit = True
            task.cancel()
        sock.close()
    raise RuntimeError("the OneBot server stopped by itself")
