"""Telegram (python-telegram-bot): long polling or a webhook."""

from adapters.telegram.handlers import serve, wanted

__all__ = ["serve", "wanted"]
