"""HTTP clients left open: aiohttp sessions and httpx clients still alive and not closed.

Snapshot before the code under test runs, then ask which clients created since are still open. A client
that nobody references any more is gone from this list but is reported by aiohttp itself ("Unclosed client
session", logged at ERROR through asyncio once collected): check both.
"""

from __future__ import annotations

import gc

import aiohttp
import httpx


def _open_clients() -> dict[int, object]:
    found = {}
    for obj in gc.get_objects():
        if isinstance(obj, aiohttp.ClientSession) and not obj.closed:
            found[id(obj)] = obj
        # An httpx client holds sockets only once opened (by its first request); `_state` is httpx 0.28's.
        elif isinstance(obj, httpx.AsyncClient) and getattr(obj, "_state", None) is not None \
                and obj._state.name == "OPENED":
            found[id(obj)] = obj
    return found


class OpenClients:
    def __init__(self) -> None:
        self.before = set(_open_clients())

    def new(self) -> list[object]:
        """Clients opened since the snapshot and not closed yet."""
        return [c for i, c in _open_clients().items() if i not in self.before]
