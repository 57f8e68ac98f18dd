"""/healthz and /metrics for supervisors and Prometheus: a small FastAPI app (no Gradio) on its own port.

`springfest run` starts it before anything else, so a supervisor sees the whole start-up (the first build
of the knowledge base takes a while), and it runs whether or not the web page does.

- GET /healthz: 200 {"ok": true} when the engine is loaded and every enabled platform is connected; else
  503 {"ok": false, "problems": ["telegram: cannot reach the Bot API: …", …]}.
- GET /metrics: every metric in bot/metrics.py plus prometheus_client's process metrics, in the Prometheus
  text format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from adapters.health import HEALTH, Health
from adapters.listen import Server, bind
from bot.config import Config

log = logging.getLogger(__name__)

STOP_WITHIN_S = 3.0


def build_app(health: Health = HEALTH) -> FastAPI:
    api = FastAPI(title="SpringFestQA health", openapi_url=None, docs_url=None, redoc_url=None)

    @api.get("/healthz")
    def healthz() -> JSONResponse:
        problems = health.problems()
        if problems:
            return JSONResponse({"ok": False, "problems": problems}, status_code=503)
        return JSONResponse({"ok": True})

    @api.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return api


@contextlib.asynccontextmanager
async def ops_server(cfg: Config, health: Health = HEALTH) -> AsyncIterator[str | None]:
    """Serve /healthz and /metrics at metrics.host:metrics.port while the block runs; yields the base URL
    (None when metrics.enabled is off or the port is taken: the bot runs on without them, with an error)."""
    m = cfg.metrics
    if not m.enabled:
        yield None
        return
    try:
        sock = bind(m.host, m.port, hint="set metrics.port in config.yaml to another port (or metrics.enabled: "
                                         "false)")
    except OSError as e:
        log.error("/healthz and /metrics are off: %s", e)
        yield None
        return
    config = uvicorn.Config(build_app(health), log_config=None, log_level="warning", access_log=False,
                            lifespan="off")
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="ops-server")
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        host = f"[{m.host}]" if ":" in m.host else m.host
        base = f"http://{host}:{sock.getsockname()[1]}"
        log.info("health and metrics: %s/healthz %s/metrics", base, base)
        yield base
    finally:
        server.should_exit = True
        try:
            done, _ = await asyncio.wait({task}, timeout=STOP_WITHIN_S)
            if not done:
                task.cancel()
            elif not task.cancelled() and task.exception() is not None:  # logged, never masking the block's own
                log.warning("the health server ended with %r", task.exception())
        finally:
            sock.close()
