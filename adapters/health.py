"""Is the bot healthy? The engine is loaded and every enabled platform is connected.

`springfest run` says which platforms it runs (expect) and when the engine is ready; each platform reports
itself connected (up) or not (down, with the reason) as it happens, and the supervisor reports failures.
/healthz (adapters/ops_server.py) reads the result. One process-wide instance, HEALTH, like the metrics
registry it feeds (springfest_platform_connected, springfest_engine_ready).
"""

from __future__ import annotations

import logging

from bot.metrics import ENGINE_READY, PLATFORM_CONNECTED

log = logging.getLogger(__name__)

LOADING = "loading the corpus and the knowledge base"


class Health:
    def __init__(self) -> None:
        self.engine: str | None = LOADING  # None once ready, else why not
        self.platforms: dict[str, str | None] = {}  # name -> None when connected, else why not

    def expect(self, platforms) -> None:
        """Start afresh: these platforms should connect, and the engine is still loading."""
        self.engine = LOADING
        ENGINE_READY.set(0)
        self.platforms = {}
        for name in platforms:
            self.down(name, "starting")

    def engine_ready(self) -> None:
        self.engine = None
        ENGINE_READY.set(1)

    def up(self, platform: str) -> None:
        if self.platforms.get(platform, "") is not None:
            log.info("%s: connected", platform)
        self.platforms[platform] = None
        PLATFORM_CONNECTED.labels(platform).set(1)

    def down(self, platform: str, reason: str) -> None:
        self.platforms[platform] = reason
        PLATFORM_CONNECTED.labels(platform).set(0)

    def problems(self) -> list[str]:
        """Why the bot is not healthy, one line each; [] when it is."""
        found = [f"engine: {self.engine}"] if self.engine else []
        return found + [f"{name}: {why}" for name, why in sorted(self.platforms.items()) if why is not None]


HEALTH = Health()
