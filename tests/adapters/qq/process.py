"""A process under test, as an operator runs it (`springfest run`, or a NoneBot project's `python bot.py`),
with its log in a file the test reads, stopped with SIGTERM (or killed) by the test."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, args: list[str], *, log: Path, cwd: Path | None = None, env: dict[str, str] | None = None):
        self.args, self.log_path, self.cwd = args, log, cwd
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen | None = None

    @classmethod
    def springfest(cls, config: Path, log: Path, **kw) -> Process:
        return cls([sys.executable, "-m", "adapters.cli", "-v", "--config", str(config), "run", "--only", "onebot"],
                   log=log, **kw)

    def start(self) -> Process:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as systemd stops it; its exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_log(self, text: str, timeout: float = 30) -> None:
        """Until `text` is in the log (the event loop keeps running meanwhile: the fake client answers)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline or not self.alive():
                raise AssertionError(f"{text!r} not in the log:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.1)
