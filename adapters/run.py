"""`springfest run`: build the engine, store and BotApp once, then serve every enabled platform.

Each platform runs as a supervised task: one that fails or cannot reach its servers is logged and restarted
with backoff, never stopping the others; one that cannot run at all (a rejected token) says why and stays
stopped. When no platform is left running the command exits with status 1 and one line naming what to fix,
so a supervisor (systemd, Docker) sees it. SIGINT/SIGTERM cancel everything and close the engine and the
store cleanly (status 0). /healthz and /metrics run beside them (adapters/ops_server.py).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType

from adapters.errors import PlatformDown, PlatformFatal
from adapters.health import HEALTH
from adapters.ops_server import ops_server
from adapters.redact import redact
from bot.app import BotApp
from bot.config import Config
from bot.store import Store
from bot.wiring import build_engine

log = logging.getLogger(__name__)

# Imported lazily: a missing optional library only disables its platform.
PLATFORMS = {"telegram": "adapters.telegram", "discord": "adapters.discord", "web": "adapters.web",
             "onebot": "adapters.nonebot"}
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
    """The platform modules that import, by name (not even imported when `cfg` turns them off: gradio alone
    takes seconds)."""
    modules = {}
    for name, path in PLATFORMS.items():
        if (only and name not in only) or (cfg is not None and not getattr(cfg, name).enabled):
            continue
        try:
            modules[name] = importlib.import_module(path)
        except ImportError as e:
            log.warning("%s is unavailable: %s", name, e)
    return modules


async def serve_all(cfg: Config, only: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM (0), or until every platform gave up (1, with one line saying why); 1 when
    there is nothing to run."""
    platforms = {name: m for name, m in load_platforms(only, cfg).items() if m.wanted(cfg)}
    if not platforms:
        print(
            "springfest: no platform to run: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN, or enable web "
            "or onebot in config.yaml",
            file=sys.stderr,
        )
        return 1
    HEALTH.expect(platforms)
    async with ops_server(cfg):  # /healthz answers from the start: the first build of the index takes a while
        engine = await asyncio.to_thread(build_engine, cfg, progress=sys.stderr.isatty())
        HEALTH.engine_ready()
        app = BotApp(engine, cfg, Store(cfg.path(cfg.state.path)))
        try:
            gave_up = await _serve(app, platforms, cfg)
        finally:
            await app.aclose()
            await engine.aclose()
    if gave_up is None:
        log.info("stopped")
        return 0
    print(redact("springfest: no platform left running: " + "; ".join(f"{n}: {why}" for n, why in gave_up.items())),
          file=sys.stderr)
    return 1


async def _serve(app: BotApp, platforms: dict[str, ModuleType], cfg: Config) -> dict[str, str] | None:
    """Supervise every platform until a signal (None) or until each gave up ({platform: why})."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = {
        name: asyncio.create_task(supervise(name, m.serve, app, cfg), name=name) for name, m in platforms.items()
    }
    log.info("running: %s", ", ".join(platforms))
    everything_done = asyncio.create_task(asyncio.wait(tasks.values()))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([everything_done, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [*tasks.values(), stopping]:
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if stop.is_set() or not everything_done.done():
        return None
    return {name: _outcome(task) for name, task in tasks.items()}


def _outcome(task: asyncio.Task) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return task.result() if error is None else f"its supervisor failed: {error!r}"


async def supervise(
    name: str,
    serve: Callable[[BotApp, Config], Awaitable[None]],
    app: BotApp,
    cfg: Config,
    backoff: tuple[float, ...] = BACKOFF_S,
) -> str:
    """Keep one platform running: restart it with growing delays after it fails or cannot reach its servers.
    Returns (why) only when it cannot run at all (PlatformFatal): a restart would fail the same way."""
    failures = 0
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await serve(app, cfg)
            why = "stopped by itself"
            log.warning("%s %s", name, why)
        except asyncio.CancelledError:
            raise
        except PlatformFatal as e:
            why = redact(str(e))
            log.error("%s cannot run: %s", name, why)
            HEALTH.down(name, f"cannot run: {why}")
            return why
        except PlatformDown as e:  # expected now and then: one line, no traceback
            why = redact(str(e))
        except Exception as e:
            log.exception("%s failed", name)
            why = redact(f"failed: {type(e).__name__}: {e}")
        if loop.time() - started > HEALTHY_AFTER_S:
            failures = 0
        delay = backoff[min(failures, len(backoff) - 1)]
        failures += 1
        HEALTH.down(name, f"{why} (trying again in {delay}s)")
        log.warning("%s: %s; trying again in %ss", name, why, delay)
        await asyncio.sleep(delay)
