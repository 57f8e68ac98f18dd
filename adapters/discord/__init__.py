"""Discord (discord.py): mentions, slash commands, buttons that survive restarts."""

from adapters.discord.client import serve, wanted

__all__ = ["serve", "wanted"]
