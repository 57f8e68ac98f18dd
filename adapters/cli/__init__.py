"""The `springfest` command line (the console script). Each sub-command group lives in a module with
`register()`; `run` (serve every platform) is adapters/run.py."""

from __future__ import annotations

import argparse
import logging
import sys

from adapters import redact, run
from adapters.cli import ask, data, finetune, kb, model
from bot.config import Config, ConfigError, load_config
from engine.corpus import CorpusError
from engine.engine import EmptyQuestion, UnknownStyle
from engine.retrieval.index import EmbedderMismatch
from engine.retrieval.model_files import ModelMissing
from engine.styles import StyleError

COMMANDS = [ask, kb, data, finetune, model, run]
USER_ERRORS = (ConfigError, CorpusError, StyleError, EmbedderMismatch, ModelMissing, EmptyQuestion,
               UnknownStyle)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="springfest", description="SpringFestQA: answer relatives' questions in style.")
    p.add_argument("--config", help="config file (default: $SPRINGFEST_CONFIG or ./config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    # Chinese text must survive any terminal or pipe encoding.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    args = parser().parse_args(argv)
    # Secrets out of every log line and error from here on: the default variables at once (loading the
    # config may fail), then the ones the config names.
    redact.install(Config())
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
        redact.install(cfg)
        return int(args.func(cfg, args) or 0)
    except USER_ERRORS as e:
        print(redact.redact(f"springfest: {e}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
