"""Everything a test run logged or printed, for asserting a secret appears nowhere.

`Everything` attaches a plain logging.StreamHandler on stderr to the root logger at DEBUG before the
redaction is installed (libraries may log through handlers that exist before ours), and collects pytest's
caplog records and text plus what reached the real stdout and stderr file descriptors (capfd).
"""

from __future__ import annotations

import logging
import sys


class StderrHandler(logging.StreamHandler):
    """A plain StreamHandler on whatever sys.stderr is when it writes (pytest swaps it between phases)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class Everything:
    def __init__(self, caplog, capfd) -> None:
        self.caplog, self.capfd = caplog, capfd
        self.handler = StderrHandler()
        self.handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.handler.setLevel(logging.DEBUG)
        caplog.set_level(logging.DEBUG)  # every library's debug lines too
        logging.getLogger().addHandler(self.handler)
        self.printed = ""
        self.extra: list[str] = []  # exception texts and such that the test adds

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)

    def text(self) -> str:
        out, err = self.capfd.readouterr()
        self.printed += out + err
        parts = [self.caplog.text, self.printed, *self.extra]
        for r in self.caplog.records:
            parts += [r.getMessage(), r.exc_text or "", r.stack_info or ""]
        return "\n".join(parts)

    def records(self, level: int = logging.WARNING) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if r.levelno >= level]
