"""The same knowledge-base code against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
from conftest import write_config

from bot.config import load_config
from bot.wiring import build_engine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(chroma_process):
    return chroma_process[0]


@pytest.fixture
def chroma_process(tmp_path):
    """(port, process) of a `chroma run` server on 127.0.0.1."""
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = _free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield port, proc
    proc.terminate()
    proc.wait(timeout=20)


async def test_http_client_against_a_real_server(tmp_path, mini_data, chroma_server):
    cfg = load_config(write_config(tmp_path, mini_data,
                                   knowledge={"server": {"host": "127.0.0.1", "port": chroma_server}}))
    engine = build_engine(cfg)
    assert engine.kb.stats()["phrasings"] == 24
    assert not (tmp_path / "chroma").exists(), "the embedded database must not be used"
    answer = await engine.answer("你啥时候结婚啊", "deflect")
    assert (await answer.collect()) in engine.corpus.items["marriage-when"].answers["deflect"]
    # Reopened through a new client: the index is found up to date, nothing is embedded again.
    assert build_engine(cfg).kb.status(engine.corpus) == "ready"


def test_a_failed_delete_on_rebuild_is_reported_as_the_delete(tmp_path, mini_data, chroma_process):
    """H6: `--rebuild` swallowed any delete_collection failure, which then surfaced later as an unrelated
    error from get_or_create_collection. Only "no such collection" may be passed over."""
    port, proc = chroma_process
    cfg = load_config(write_config(tmp_path, mini_data, knowledge={"server": {"host": "127.0.0.1", "port": port}}))
    engine = build_engine(cfg)
    engine.kb.client.delete_collection(engine.kb.name)
    engine.kb.build(engine.corpus, rebuild=True)  # nothing to delete: fine
    proc.terminate()
    proc.wait(timeout=20)
    with pytest.raises(Exception) as raised:  # noqa: B017 - whatever the client raises for a server that is gone
        engine.kb.build(engine.corpus, rebuild=True)
    steps = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert "delete_collection" in steps and "get_or_create_collection" not in steps
