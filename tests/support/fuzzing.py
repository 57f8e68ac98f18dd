"""What the Telegram and Discord fuzz tests share: hypothesis settings, the example-count scale, and a log
handler that fails each example on its own ERROR records."""

from __future__ import annotations

import logging
import os

from hypothesis import HealthCheck

# Derandomized (CI sees the same examples every run), no example database, no deadline: one example is a
# round trip through a real library and a fake server.
FUZZ = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                   HealthCheck.data_too_large, HealthCheck.large_base_example])
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))  # e.g. 0.05 for a quick local run


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


class Errors(logging.Handler):
    """ERROR records, per example (so each example fails on its own and hypothesis can shrink it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        out = [f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
               for r in self.records]
        self.records.clear()
        return out
