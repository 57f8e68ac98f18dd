"""The `springfest` command line. Each sub-command group lives in its own module with `register()`."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli import ask, data, finetune, kb, model
from bot.config import ConfigError, load_config
from engine.corpus import CorpusError
from engine.engine import EmptyQuestion, UnknownStyle
from engine.knowledge import EmbedderMismatch
from engine.models import ModelMissing
from engine.styles import StyleError

# Command modules; later features append theirs here.
COMMANDS = [ask, kb, data, finetune, model]
USER_ERRORS = (ConfigError, CorpusError, StyleError, EmbedderMismatch, ModelMissing, EmptyQuestion,
               UnknownStyle)


def parser(extra_commands=()) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="springfest", description="SpringFestQA: answer relatives' questions in style.")
    p.add_argument("--config", help="config file (default: $SPRINGFEST_CONFIG or ./config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    for module in [*COMMANDS, *extra_commands]:
        module.register(sub)
    return p


def main(argv: list[str] | None = None, extra_commands=()) -> int:
    """Run the CLI; `extra_commands` are modules with register() that live outside bot/ (e.g. `run`)."""
    # Chinese text must survive any terminal or pipe encoding.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    args = parser(extra_commands).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
        return int(args.func(cfg, args) or 0)
    except USER_ERRORS as e:
        print(f"springfest: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
