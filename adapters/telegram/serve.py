"""Running the Telegram bot: start-up, long polling or a webhook, and shutdown, each step exception-safe.

Start-up failures are sorted for `springfest run` (adapters/run.py): a rejected token or a webhook without
its server library cannot be fixed by trying again (PlatformFatal, one line naming what to fix); an
unreachable Bot API, a 5xx or a 429 can (PlatformDown: retried with backoff). Whatever fails, the steps that
did start are stopped in reverse order and every HTTP client is closed; a failing clean-up step is logged,
never allowed to replace the error that ended the run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import urlparse

from telegram import Bot, BotCommand
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from adapters.errors import PlatformDown, PlatformFatal
from adapters.health import HEALTH
from adapters.redact import redact
from adapters.telegram.handlers import ALLOWED_UPDATES, POOL_SIZE, build_application
from adapters.telegram.inbox import UpdateInbox
from adapters.telegram.limits import call, retry_after_seconds
from adapters.telegram.request import AiohttpRequest
from adapters.telegram.watch import WatchedRequest
from bot.app import BotApp
from bot.config import Config

log = logging.getLogger(__name__)
PLATFORM = "telegram"


def wanted(cfg: Config) -> bool:
    return cfg.telegram.enabled and bool(cfg.secret(cfg.telegram.token_env))


async def serve(app: BotApp, cfg: Config, **build) -> None:
    """Run the bot until cancelled; `build` goes to build_application (tests pass base_url)."""
    # httpx logs every request URL at INFO: noise, and Bot API URLs hold the token (adapters.redact hides it).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    variable = cfg.telegram.token_env
    token = cfg.secret(variable)
    if not token:
        raise PlatformFatal(f"${variable} is not set")
    # getUpdates is the heartbeat: its outcomes say whether Telegram is reachable (and whether the token holds);
    # its results are written to the inbox before PTB can ask past them.
    inbox = UpdateInbox(app.inbox)
    updates = WatchedRequest(build.pop("updates_request", None) or HTTPXRequest(connection_pool_size=1),
                             heartbeat=True, on_result=inbox.arrived)
    requests = WatchedRequest(build.pop("request", None)
                              or AiohttpRequest(POOL_SIZE, read_timeout=cfg.telegram.read_timeout_s))
    application = build_application(app, cfg, token, request=requests, updates_request=updates, inbox=inbox,
                                    **build)
    try:
        with _sorted_errors(cfg):
            await application.initialize()  # getMe: checks the token
            app.set_bot_name("telegram", application.bot.username)
            await register_commands(application.bot, app)
        await application.start()
        try:
            # What was still unanswered when the bot last stopped goes first, before polling brings new updates.
            await inbox.replay(application, app.inbox_max_age_s)
            with _sorted_errors(cfg):
                await _start_updates(application, cfg)
            HEALTH.up(PLATFORM)
            log.info("telegram: running as @%s", application.bot.username)
            await updates.rejected.wait()  # until cancelled, or until the token is revoked while we run
            raise PlatformFatal(_rejected(cfg))
        finally:
            if application.updater.running:
                await _quietly(application.updater.stop, "stopping the updates")
            await _quietly(application.stop, "stopping the handlers")
            inbox.release_unstarted()
    finally:
        await _quietly(application.shutdown, "shutting down")
        # After a failed initialize() Application.shutdown() does nothing; the bot's HTTP clients still
        # need closing (a no-op when shutdown() closed them).
        await _quietly(application.bot.shutdown, "closing the Bot API clients")


async def register_commands(bot: Bot, app: BotApp) -> None:
    """The command menu, in Chinese (the default) and English."""
    for lang, code in (("zh", None), ("zh", "zh"), ("en", "en")):
        commands = [BotCommand(c, d[:256]) for c, d in app.command_list(lang)]
        await call(
            lambda c=commands, code=code: bot.set_my_commands(c, language_code=code), what="setMyCommands"
        )


def _rejected(cfg: Config) -> str:
    return f"Telegram rejected the token in ${cfg.telegram.token_env}: set it to the token @BotFather gave you"


@contextlib.contextmanager
def _sorted_errors(cfg: Config) -> Iterator[None]:
    """Start-up errors as PlatformFatal (trying again cannot help) or PlatformDown (it can)."""
    try:
        yield
    except InvalidToken as e:
        # PTB's message holds the token: never pass it on. A 404 means a wrong base_url as often as a bad token.
        cause = str(e.__cause__ or "")
        if "not found" in cause.lower() and cfg.telegram.base_url:
            raise PlatformFatal(f"the Bot API at telegram.base_url answers 404 Not Found: check telegram.base_url "
                                f"and the token in ${cfg.telegram.token_env}") from None
        raise PlatformFatal(_rejected(cfg)) from None
    except RetryAfter as e:
        raise PlatformDown(f"Telegram asks to wait {retry_after_seconds(e):.0f}s (flood control)") from None
    except NetworkError as e:  # TimedOut, connection refused, a 5xx
        raise PlatformDown(redact(f"cannot reach the Telegram Bot API: {e}")) from e


async def _quietly(step: Callable[[], Awaitable[object]], what: str) -> None:
    """One clean-up step: its failure is logged, so it never masks the error that ended the run."""
    try:
        await step()
    except Exception:
        log.warning("telegram: %s failed", what, exc_info=True)


def _log_polling_error(exc: TelegramError) -> None:
    # PTB retries getUpdates by itself; a network blip is not an error of ours (/healthz shows it meanwhile).
    log.warning("polling Telegram: %s", exc)


async def _start_updates(application: Application, cfg: Config) -> None:
    tg = cfg.telegram
    if not tg.webhook_url:
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, error_callback=_log_polling_error
        )
        return
    try:
        import tornado  # noqa: F401 - PTB's webhook server
    except ImportError:
        raise PlatformFatal(
            "webhook mode (telegram.webhook_url) needs pip install '.[telegram]' (tornado); or remove "
            "telegram.webhook_url to use long polling"
        ) from None
    await application.updater.start_webhook(
        listen=tg.webhook_listen,
        port=tg.webhook_port,
        url_path=urlparse(tg.webhook_url).path.lstrip("/"),
        webhook_url=tg.webhook_url,
        allowed_updates=ALLOWED_UPDATES,
        secret_token=cfg.secret(tg.webhook_secret_env),
    )
