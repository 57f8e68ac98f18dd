"""`springfest run`: build the engine, store and BotApp once, then serve every enabled platform.

Each platform runs as a supervised task: one that fails is logged and restarted with backoff, never stopping
the others. SIGINT/SIGTERM cancel everything and close the engine and the store cleanly.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType

from adapters.errors import PlatformFatal
from bot.app import BotApp
from bot.config import Config
from bot.store import Store
from bot.wiring import build_engine

log = logging.getLogger(__name__)

# Imported lazily: a missing optional library only disables its platform.
PLATFORMS = {"telegram": "adapters.telegram", "discord": "adapters.discord", "web": "adapters.web",
             "onebot": "adapters.nonebot"}
# Platforms from an optional extra: imported only when switched on, so a base install does not warn about them.
OPTIONAL = {"onebot": lambda cfg: cfg.onebot.enabled}
BACKOFF_S = (1, 2, 5, 10, 30, 60)
HEALTHY_AFTER_S = 60  # a platform that ran this long before failing starts its backoff afresh


def register(sub) -> None:
    p = sub.add_parser("run", help="run the bot on every enabled platform until interrupted")
    p.add_argument(
        "--only", action="append", choices=sorted(PLATFORMS), help="run only this platform (repeatable)"
    )
    p.set_defaults(func=run)


def run(cfg: Config, args) -> int:
    # uvloop (installed with chromadb's uvicorn[standard]) cuts the event loop's share of every update.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serve_all(cfg, only=args.only))
    return uvloop.run(serve_all(cfg, only=args.only))


def load_platforms(only: list[str] | None = None, cfg: Config | None = None) -> dict[str, ModuleType]:
    """The platform modules that import, by name."""
    modules = {}
    for name, path in PLATFORMS.items():
        if only and name not in only:
            continue
        if name in OPTIONAL and cfg is not None and not OPTIONAL[name](cfg):
            continue
        try:
            modules[name] = importlib.import_module(path)
        except ImportError as e:
            log.warning("%s is unavailable: %s", name, e)
    return modules


async def serve_all(cfg: Config, only: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM (or until every platform gave up); 1 when there is nothing to run."""
    platforms = {name: m for name, m in load_platforms(only, cfg).items() if m.wanted(cfg)}
    if not platforms:
        print(
            "springfest: no platform to run: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN, or enable web "
            "or onebot in config.yaml",
            file=sys.stderr,
        )
        return 1
    engine = await asyncio.to_thread(build_engine, cfg, progress=sys.stderr.isatty())
    app = BotApp(engine, cfg, Store(cfg.path(cfg.state.path)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(supervise(name, m.serve, app, cfg), name=name) for name, m in platforms.items()
    ]
    log.info("running: %s", ", ".join(platforms))
    everything_done = asyncio.create_task(asyncio.wait(tasks))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([everything_done, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [*tasks, stopping]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.aclose()
        await engine.aclose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0


async def supervise(
    name: str,
    serve: Callable[[BotApp, Config], Awaitable[None]],
    app: BotApp,
    cfg: Config,
    backoff: tuple[float, ...] = BACKOFF_S,
) -> None:
    """Keep one platform running: restart it with growing delays after it fails."""
    failures = 0
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await serve(app, cfg)
            log.warning("%s stopped by itself", name)
        except asyncio.CancelledError:
            raise
        except PlatformFatal as e:
            log.error("%s cannot run: %s", name, e)
            return
        except Exception:
            log.exception("%s failed", name)
        if loop.time() - started > HEALTHY_AFTER_S:
            failures = 0
        delay = backoff[min(failures, len(backoff) - 1)]
        failures += 1
        log.warning("restarting %s in %ss", name, delay)
        await asyncio.sleep(delay)
