"""The local web page (Gradio) as a platform of `springfest run`: wanted() and serve().

The page is mounted on a uvicorn server that runs inside the caller's event loop (not Gradio's own
launch thread), so BotApp, the store and the engine are used from one loop only, and cancelling
serve() shuts the server down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from starlette.routing import Mount

from adapters.errors import PlatformDown
from adapters.health import HEALTH
from adapters.listen import Server, bind
from adapters.web.page import CSS, THEME, build_page
from bot.app import BotApp
from bot.config import Config

__all__ = ["build_page", "serve", "url", "wanted"]

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 3  # open pages hold event streams: wait this long for them, then close them

# No usage statistics sent to Gradio (the page must work offline, and visitors are not ours to report).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def wanted(cfg: Config) -> bool:
    """The page needs no token: it runs whenever web.enabled is on."""
    return cfg.web.enabled


def url(cfg: Config, port: int | None = None) -> str:
    """Where a browser on this machine opens the page."""
    host = cfg.web.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # listening on every interface; this machine reaches it on loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or cfg.web.port}/"


def mount(app: BotApp, cfg: Config) -> tuple[FastAPI, Callable[[], None]]:
    """An ASGI app serving the page at /, and a function that ends its open event streams."""
    import gradio as gr

    page = build_page(app, cfg)
    asgi = gr.mount_gradio_app(FastAPI(), page, path="/", server_name=cfg.web.host, server_port=cfg.web.port,
                               theme=THEME, css=CSS, footer_links=[], run_history=False, ssr_mode=False,
                               show_error=False)
    gradio_app = next(r.app for r in asgi.routes if isinstance(r, Mount))

    def end_streams() -> None:
        # What Blocks.close() does for a launched page: without it every open tab (and API client) would
        # hold the shutdown for the whole graceful timeout.
        page._queue.close()
        gradio_app.stop_event.set()

    return asgi, end_streams


async def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as e:  # uvicorn exits the process when the app's startup fails: fail this task instead
        raise RuntimeError(f"the web server could not start (exit code {e.code})") from None


def _print(line: str) -> None:
    print(line, flush=True)  # at once, even when stdout is a pipe (a service log, a platform's console)


async def serve(app: BotApp, cfg: Config, *, announce: Callable[[str], None] = _print) -> None:
    """Serve the page at web.host:web.port until cancelled; `announce` gets the line with the URL."""
    asgi, end_streams = mount(app, cfg)
    try:
        sock = bind(cfg.web.host, cfg.web.port,
                    hint="is the page already running? Set web.port in config.yaml to use another port.")
    except OSError as e:  # one line, tried again later: the other process may be on its way out
        raise PlatformDown(str(e)) from None
    config = uvicorn.Config(asgi, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                            proxy_headers=True, forwarded_allow_ips="*" if cfg.web.behind_proxy else None)
    server = Server(config)
    task = asyncio.create_task(_run(server, sock), name="web-server")
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            where = " (listening on every interface)" if cfg.web.host in ("0.0.0.0", "::") else ""
            announce(f"SpringFestQA 网页 / web page: {url(cfg, sock.getsockname()[1])}{where}")
            HEALTH.up("web")
        await asyncio.shield(task)
    except asyncio.CancelledError:
        end_streams()
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, GRACEFUL_SHUTDOWN_S + 2)
        raise
    finally:
        if not task.done():
            server.force_exit = True
            task.cancel()
        sock.close()
    raise RuntimeError("the web server stopped by itself")
