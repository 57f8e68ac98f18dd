"""Errors shared by every platform.

Expected delivery failures (the bot was removed, a message is gone, the network is down) are warnings,
not crashes: the chat goes on, and the log says where delivery failed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

log = logging.getLogger(__name__)


class PlatformFatal(Exception):
    """Raised by a platform's serve() for errors a restart cannot fix (e.g. a rejected token)."""


@contextlib.contextmanager
def delivery_errors(where: str, expected: tuple[type[BaseException], ...],
                    unless: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Log `expected` exceptions (but not `unless` ones) raised inside the block as warnings and go on."""
    try:
        yield
    except expected as e:
        if isinstance(e, unless):
            raise
        log.warning("could not deliver to %s: %s", where, e)
