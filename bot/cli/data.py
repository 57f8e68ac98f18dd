"""`springfest data check`: corpus tools."""

from __future__ import annotations

import sys

from bot.config import Config
from bot.wiring import data_paths
from engine.corpus_check import check_corpus
from engine.safety import SafetyFilter
from engine.styles import load_styles


def register(sub) -> None:
    data = sub.add_parser("data", help="corpus tools")
    dsub = data.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="validate the corpus")
    c.set_defaults(func=check)


def check(cfg: Config, args) -> int:
    paths = data_paths(cfg)
    styles = load_styles(paths.styles)
    errors = check_corpus(paths.qa_dirs, paths.fallbacks, list(styles), cfg.styles.enabled,
                          SafetyFilter.from_file(paths.safety_words))
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    print("corpus OK")
    return 0
