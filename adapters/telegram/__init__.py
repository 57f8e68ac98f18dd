"""Telegram (python-telegram-bot): long polling or a webhook."""

from adapters.telegram.serve import serve, wanted

__all__ = ["serve", "wanted"]
