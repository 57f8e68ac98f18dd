"""One log, whichever side runs the show: NoneBot logs with loguru, this project with the logging module.

Embedded in `springfest run`, NoneBot's records go into the logging module (the same format and handlers as
everything else, and whatever filters `springfest run` installs, such as the one removing secrets). As a
plugin in a NoneBot2 project, ours go to loguru, where that project's log already is.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

OUR_LOGGERS = ("adapters", "bot", "engine")
_LEVELS = {"TRACE": logging.DEBUG, "SUCCESS": logging.INFO}  # loguru's levels the logging module lacks
_bridged = {"from": False, "to": False}


def _to_logging(message: Any) -> None:
    record = message.record
    level = _LEVELS.get(record["level"].name, record["level"].no)
    exc = record["exception"]
    exc_info = (exc.type, exc.value, exc.traceback) if exc and exc.type else None
    logging.getLogger(record["name"] or "nonebot").log(level, "%s", record["message"], exc_info=exc_info)


def from_loguru() -> None:
    """Send NoneBot's loguru records to the logging module instead of NoneBot's own stdout handler."""
    if _bridged["from"]:
        return
    from nonebot.log import default_filter, logger, logger_id

    with contextlib.suppress(ValueError):  # already removed by someone else
        logger.remove(logger_id)
    logger.add(_to_logging, level=0, filter=default_filter, format="{message}")
    _bridged["from"] = True


def to_loguru() -> None:
    """Send our loggers' records to loguru (NoneBot's log), unless the logging module is already set up."""
    if _bridged["to"] or logging.getLogger().handlers:
        return
    from nonebot.log import LoguruHandler

    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(LoguruHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False
    _bridged["to"] = True
