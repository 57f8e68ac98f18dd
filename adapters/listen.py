"""Listening for HTTP inside `springfest run`'s event loop: a uvicorn server that leaves the signals to us, and
a listening socket bound up front so a busy port is a clear error (the web page and /healthz use both)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `springfest run` owns SIGINT/SIGTERM and cancels us."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int, *, hint: str) -> socket.socket:
    """The listening socket, bound here so a busy port is a clear error instead of uvicorn's sys.exit;
    `hint` says which config key moves it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({e.strerror}): {hint}") from None
    sock.set_inheritable(True)
    return sock
