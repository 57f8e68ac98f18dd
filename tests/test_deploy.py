"""The deployment files agree with the code: the container configs validate, every file a Dockerfile copies
exists, and the health checks ask the port /healthz is served on. (Docker itself is not run here.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import MetricsConfig, load_config

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


@pytest.mark.parametrize("name", ["docker.yaml", "docker-gpu.yaml"])
def test_the_container_configs_validate(name):
    cfg = load_config(DEPLOY / name)
    assert cfg.state.path.is_absolute() and str(cfg.state.path).startswith("/var/lib/springfest/")
    assert cfg.knowledge.path.is_absolute() and str(cfg.knowledge.path).startswith("/var/lib/springfest/")
    assert cfg.llm.backend == ("turbomind" if "gpu" in name else "none")


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_dockerfiles_copy_what_exists_and_check_the_health_port(name):
    text = (DEPLOY / name).read_text(encoding="utf-8")
    sources = [src for line in re.findall(r"^COPY (.+)$", text, re.M) for src in line.split()[:-1]]
    assert sources and all((REPO / src).exists() for src in sources), sources
    config = re.search(r"SPRINGFEST_CONFIG=(\S+)", text).group(1)
    assert (REPO / config.removeprefix("/app/")).is_file()
    assert f"127.0.0.1:{MetricsConfig().port}/healthz" in text
