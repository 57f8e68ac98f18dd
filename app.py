"""Entry point for Gradio app platforms (Hugging Face Spaces, ModelScope Studio): `python app.py`.

It runs what `springfest run` runs (the engine, the store, BotApp and the web page; Telegram and Discord
too if their token variables are set as secrets), but listens where the platform expects: on every
interface at port 7860, or at $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT when the platform sets them, and
behind the platform's proxy. On your own machine use `springfest run`, which keeps the page on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

# The platforms run this file from a checkout without `pip install -e .`: make the packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from adapters.redact import install as install_redaction  # noqa: E402
from adapters.run import serve_all  # noqa: E402
from bot.config import Config, load_config  # noqa: E402


def platform_config(cfg: Config, env: dict[str, str] | os._Environ = os.environ) -> Config:
    """The config with the web page where an app platform's proxy looks for it."""
    web = cfg.web.model_copy(update={
        "enabled": True,
        "host": env.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        "port": int(env.get("GRADIO_SERVER_PORT", "7860")),
        "behind_proxy": True,
    })
    return cfg.model_copy(update={"web": web})


def main() -> int:
    install_redaction(Config())  # the default secret variables, before anything can log
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config()
    install_redaction(cfg)
    return asyncio.run(serve_all(platform_config(cfg)))


if __name__ == "__main__":
    sys.exit(main())
