"""The `springfest` console script: the bot's CLI plus the commands that need adapters (`run`)."""

from __future__ import annotations

import sys

from adapters import run
from bot import cli


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, extra_commands=[run])


if __name__ == "__main__":
    sys.exit(main())
