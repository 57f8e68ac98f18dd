"""Who the bot answers: owners in private, owner-approved groups; everyone when open or on the web."""

from __future__ import annotations

from enum import Enum

from bot.config import AccessConfig
from bot.store import Store


class Verdict(Enum):
    ALLOW = "allow"
    REFUSE = "refuse"  # the one polite refusal for this chat
    OWNER_HINT = "owner_hint"  # an owner in a group not yet approved: tell them how
    SILENT = "silent"  # refused before: say nothing


class Access:
    def __init__(self, cfg: AccessConfig, store: Store) -> None:
        self.owners = {str(o) for o in cfg.owners}
        self.open, self.store = cfg.open, store

    def is_owner(self, user_id: str) -> bool:
        return str(user_id) in self.owners

    def decide(self, platform: str, chat: str, user_id: str, is_private: bool) -> Verdict:
        """Whether to answer a message from `user_id` in `chat` (a platform:chat key)."""
        if self.open or platform == "web":  # the local page is trusted: whoever can open it may ask
            return Verdict.ALLOW
        if is_private and self.is_owner(user_id):
            return Verdict.ALLOW
        if not is_private and self.store.chat(chat).approved:
            return Verdict.ALLOW
        if not is_private and self.is_owner(user_id):
            return Verdict.OWNER_HINT
        return Verdict.REFUSE if self.store.claim_refusal(chat) else Verdict.SILENT

    def may_press(self, platform: str, chat: str, user_id: str) -> bool:
        """Buttons: owners anywhere, everyone in approved chats (a refusal is only a toast here)."""
        return self.open or platform == "web" or self.is_owner(user_id) or self.store.chat(chat).approved

    def may_inline(self, user_id: str) -> bool:
        """Inline queries have no chat: only owners (or everyone when open)."""
        return self.open or self.is_owner(user_id)
