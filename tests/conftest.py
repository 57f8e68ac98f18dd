"""Shared fixtures. Tests never touch the network: sockets are blocked except to 127.0.0.1."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"

# httpx honours proxies even for loopback; the fakes live on 127.0.0.1.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pytest_collection_modifyitems(config, items):
    # pytest-socket: every test may only talk to loopback.
    for item in items:
        item.add_marker(pytest.mark.allow_hosts(["127.0.0.1", "::1", "localhost"]))


def write_config(tmp_path: Path, data_dir: Path, **sections) -> Path:
    import yaml

    # /healthz and /metrics off unless a test asks: its fixed port could be taken by a parallel run.
    cfg = {"data_dir": str(data_dir),
           "knowledge": {"path": str(tmp_path / "chroma"), "cache_path": str(tmp_path / "cache")},
           "state": {"path": str(tmp_path / "state.sqlite3")}, "metrics": {"enabled": False}}
    for key, value in sections.items():
        cfg.setdefault(key, {}).update(value) if isinstance(value, dict) else cfg.__setitem__(key, value)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def copy_mini(dest: Path) -> Path:
    """dest/data: the real styles and safety words with a tiny, stable corpus (tests don't move when data/ grows)."""
    data = dest / "data"
    shutil.copytree(MINI, data)
    for name in ("styles.yaml", "safety_words.txt"):
        shutil.copy(REPO / "data" / name, data / name)
    return data


def module_engine(tmp_path_factory, seed: int):
    """(data dir, config path, engine) over the mini corpus, for a module-scoped fixture: building the
    knowledge base costs a second or two, so a test module builds it once."""
    import random

    from bot.config import load_config
    from bot.wiring import build_engine

    tmp = tmp_path_factory.mktemp("engine")
    data = copy_mini(tmp)
    path = write_config(tmp, data)
    engine = build_engine(load_config(path))
    engine.rng = random.Random(seed)
    return data, path, engine


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A data directory with the real styles and safety words and a tiny, stable corpus."""
    return copy_mini(tmp_path)


@pytest.fixture
def mini_config(tmp_path: Path, mini_data: Path):
    from bot.config import load_config

    return load_config(write_config(tmp_path, mini_data))


@pytest.fixture
def no_errors_logged(caplog):
    """Fail the test if anything logged at ERROR (platform libraries only log handler exceptions)."""
    caplog.set_level(logging.WARNING)
    yield caplog
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, "errors were logged:\n" + "\n".join(r.getMessage() for r in errors)
