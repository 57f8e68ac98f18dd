"""Secrets never reach a log, a message or an error: each configured secret's value is replaced by the name of
its variable (`<$TELEGRAM_BOT_TOKEN>`).

Libraries put secrets into text we do not control: python-telegram-bot's InvalidToken says "The token `…` was
rejected", Bot API URLs carry the token in their path, an HTTP error may echo a request header. So the
redaction sits in the one place every log record passes through, whoever logs it and whichever handler
writes it (ours, a library's own, logging's last resort, pytest's): the log record factory. It rewrites the
message (with its arguments), the formatted traceback and the stack of each record as it is created.
What logging prints when a handler fails, and uncaught exceptions (sys.excepthook, threading.excepthook),
are redacted too; `redact()` is for texts we print or put into our own exceptions.

`install(cfg)` runs at start-up: in the `springfest` command (every sub-command) and in app.py.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterable
from urllib.parse import quote

from pydantic import BaseModel


def secret_variables(cfg: BaseModel) -> dict[str, str]:
    """{variable: value} for every `*_env` key in the config whose environment variable is set."""
    found: dict[str, str] = {}

    def walk(model: BaseModel) -> None:
        for key, value in model:
            if isinstance(value, BaseModel):
                walk(value)
            elif key.endswith("_env") and isinstance(value, str) and os.environ.get(value):
                found[value] = os.environ[value]

    walk(cfg)
    return found


class Redactor:
    """Replaces known secret values in text; one process-wide instance (REDACTOR) holds them."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}  # every spelling of a secret -> what replaces it
        self._ordered: list[tuple[str, str]] = []

    def add(self, variable: str, value: str) -> None:
        # The value as set, without surrounding blanks, and URL-quoted (as it appears inside a request URL).
        for spelling in {value, value.strip(), quote(value), quote(value, safe="")}:
            if spelling:
                self._by_value[spelling] = f"<${variable}>"
        self._ordered = sorted(self._by_value.items(), key=lambda kv: -len(kv[0]))  # longest first

    def forget(self) -> None:
        self._by_value.clear()
        self._ordered = []

    def __bool__(self) -> bool:
        return bool(self._ordered)

    def __call__(self, text: str) -> str:
        for value, name in self._ordered:
            if value in text:
                text = text.replace(value, name)
        return text

    def scrub(self, record: logging.LogRecord) -> None:
        """Redact one log record in place: its message with arguments, its traceback, its stack."""
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging would print them raw
            message = f"{record.msg} (arguments: {record.args!r})"
        clean = self(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            clean = self(text)
            if clean != text:
                # Formatters use exc_text when it is set; exc_info goes, so no handler can render the raw one.
                record.exc_text, record.exc_info = clean, None
        elif record.exc_text:
            record.exc_text = self(record.exc_text)
        if record.stack_info:
            record.stack_info = self(record.stack_info)


REDACTOR = Redactor()
_installed = False


def redact(text: str) -> str:
    """`text` with every configured secret replaced by its variable's name."""
    return REDACTOR(text)


def install(*configs: BaseModel) -> None:
    """Redact the secrets of these configs from now on, in every log record and uncaught exception."""
    global _installed
    for cfg in configs:
        for variable, value in secret_variables(cfg).items():
            REDACTOR.add(variable, value)
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if REDACTOR:
            REDACTOR.scrub(record)
        return record

    logging.setLogRecordFactory(factory)
    # A handler that fails prints the exception being handled to stderr, and that may be the one just logged.
    logging.Handler.handleError = _redacting_handle_error(logging.Handler.handleError)
    sys.excepthook = _redacting_excepthook
    threading.excepthook = _redacting_thread_excepthook


def _redacting_handle_error(handle_error):
    def handleError(self: logging.Handler, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        real, sys.stderr = sys.stderr, io.StringIO()
        try:
            handle_error(self, record)
        finally:
            printed, sys.stderr = sys.stderr.getvalue(), real
        if printed:
            _write_exception([printed])

    return handleError


def _write_exception(lines: Iterable[str]) -> None:
    sys.stderr.write(redact("".join(lines)))
    sys.stderr.flush()


def _redacting_excepthook(kind, value, tb) -> None:
    _write_exception(traceback.format_exception(kind, value, tb))


def _redacting_thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    _write_exception([f"Exception in thread {name}:\n",
                      *traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)])
