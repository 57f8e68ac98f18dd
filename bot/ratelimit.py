"""Per-user and per-chat rate limits over the store's token buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.config import RateLimitConfig
from bot.store import Store


@dataclass(frozen=True)
class Limited:
    """A request over the limit: which limit, how long to wait, and whether to say so (once per episode)."""

    scope: str  # "user" | "chat"
    seconds: int
    notify: bool


class RateLimiter:
    def __init__(self, cfg: RateLimitConfig, store: Store) -> None:
        self.cfg, self.store = cfg, store

    def check(self, platform: str, chat: str, user_id: str) -> Limited | None:
        """None when the request may go ahead (and spend a token of each), else why not."""
        took = self.store.take(f"u:{platform}:{user_id}", self.cfg.per_user_per_minute)
        if not took.ok:
            return Limited("user", max(1, math.ceil(took.wait_s)), took.notify)
        took = self.store.take(f"c:{chat}", self.cfg.per_chat_per_minute)
        if not took.ok:
            return Limited("chat", max(1, math.ceil(took.wait_s)), took.notify)
        return None
