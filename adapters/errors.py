"""Errors shared by every platform.

Expected delivery failures (the bot was removed, a message is gone, the network is down) are warnings,
not crashes: the chat goes on, and the log says where delivery failed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

log = logging.getLogger(__name__)


class PlatformFatal(Exception):
    """Raised by a platform's serve() for errors a restart cannot fix (a rejected token, a refused intent).

    The message is one line saying what to fix; it names a secret's variable, never its value."""


class PlatformDown(Exception):
    """Raised by a platform's serve() when the platform cannot be reached for now (network down, a 5xx, a
    429 at start-up): `springfest run` tries again with backoff."""


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
