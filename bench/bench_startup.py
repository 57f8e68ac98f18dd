"""First start: how long until the web page answers after `springfest run` on a fresh checkout.

    python bench/bench_startup.py [--runs 2]

Copies the working tree's files (what a clone would have, nothing of .springfest/) into a temporary
folder, runs `python -m adapters.cli run --only web` there on a free port and polls the page until it
answers. Then stops it and starts it again (the second start reuses the index and the intent model).
The target is the page up within 30 s of the first start on two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402

TIMEOUT_S = 300


def fresh_checkout(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_and_wait(checkout: Path, port: int) -> tuple[float, subprocess.Popen]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "TELEGRAM_BOT_TOKEN": "", "DISCORD_BOT_TOKEN": ""}
    cfg = checkout / "bench-config.yaml"
    cfg.write_text((checkout / "config.yaml").read_text("utf-8") + f"\nweb:\n  port: {port}\n", encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "--config", str(cfg), "run", "--only", "web"],
                            cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - t0 < TIMEOUT_S:
        if proc.poll() is not None:
            raise SystemExit(f"springfest run exited with {proc.returncode} before the page came up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0, proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the page was not up after {TIMEOUT_S}s")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=2, help="fresh checkouts to time (each followed by a restart)")
    args = ap.parse_args()
    rows = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            checkout = Path(tmp) / "springfestqa"
            fresh_checkout(checkout)
            port = free_port()
            first, proc = start_and_wait(checkout, port)
            stop(proc)
            again, proc = start_and_wait(checkout, port)
            stop(proc)
            rows.append((first, again))
    print(machine())
    print("| run | first start: page up (s) | restart: page up (s) |")
    print("|---|---|---|")
    for n, (first, again) in enumerate(rows, 1):
        print(f"| {n} | {first:.1f} | {again:.1f} |")


if __name__ == "__main__":
    main()
