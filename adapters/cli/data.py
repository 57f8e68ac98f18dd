"""`springfest data check|import|export|augment|review`: corpus tools."""

from __future__ import annotations

import sys
from pathlib import Path

from adapters.cli import data_review
from bot.config import Config
from bot.wiring import data_paths, load_data, open_knowledge
from engine.corpus import TOPICS, load_corpus
from engine.safety import SafetyFilter
from engine.styles import load_styles
from engine.tooling.corpus_check import check_corpus
from engine.tooling.data_import import (
    SEED_STYLES,
    ImportFormatError,
    assign_topics,
    clean_rows,
    read_rows,
    to_items,
    validate_items,
)
from engine.tooling.export import FORMATS, export
from engine.tooling.yaml_text import dump_items

IMPORT_DIR = Path(".springfest/imported")


def register(sub) -> None:
    data = sub.add_parser("data", help="corpus tools")
    dsub = data.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="validate the corpus")
    c.set_defaults(func=check)

    i = dsub.add_parser("import", help="turn question/answer rows (CSV or Alpaca JSON) into corpus items")
    i.add_argument("file", type=Path, help="CSV (index, question, answer) or Alpaca JSON")
    i.add_argument("--style", help="style of the answers (default for bg1..bg5 files: from the name)")
    i.add_argument("--topic", choices=TOPICS, help="topic of every question (default: by retrieval)")
    i.add_argument("--out", type=Path, help=f"items file to write (default: {IMPORT_DIR}/NAME-STYLE.yaml)")
    i.set_defaults(func=import_file)

    e = dsub.add_parser("export", help="write fine-tuning files, one per style and one with all styles")
    e.add_argument("--format", required=True, choices=FORMATS)
    e.add_argument("--out", required=True, type=Path, help="directory to write into")
    e.add_argument("--extra", nargs="*", type=Path, default=[], help="more item files (e.g. imported ones)")
    e.set_defaults(func=export_files)
    data_review.register(dsub)


def check(cfg: Config, args) -> int:
    paths = data_paths(cfg)
    styles = load_styles(paths.styles)
    errors = check_corpus(paths.qa_dirs, paths.fallbacks, list(styles), cfg.styles.enabled,
                          SafetyFilter.from_file(paths.safety_words), paths.topics,
                          not_questions=paths.not_questions)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    print("corpus OK")
    return 0


def import_file(cfg: Config, args) -> int:
    all_styles, _, corpus = load_data(cfg)
    style = args.style or SEED_STYLES.get(args.file.stem)
    if style not in all_styles:
        print(f"springfest: --style must be one of {', '.join(all_styles)}", file=sys.stderr)
        return 2
    safety = SafetyFilter.from_file(data_paths(cfg).safety_words)
    try:
        rows = read_rows(args.file)
        report = clean_rows(rows, style, args.file, safety)
        kb = None
        if not args.topic:
            kb = open_knowledge(cfg, download=True)
            kb.ensure(corpus)
        assign_topics(report.groups, kb, args.topic)
    except (ImportFormatError, OSError, UnicodeDecodeError) as e:
        print(f"springfest: {e}", file=sys.stderr)
        return 1
    items = to_items(report.groups, style)
    check = validate_items(items, list(all_styles), cfg.styles.enabled, safety, corpus)
    for line in report.lines():
        print(line)
    for line in check.errors:
        print(f"  invalid: {line}", file=sys.stderr)
    if check.errors:
        print(f"{len(check.errors)} item(s) break the corpus rules; nothing written", file=sys.stderr)
        return 1
    out = args.out or cfg.path(IMPORT_DIR) / f"{args.file.stem}-{style}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (f"Imported by `springfest data import` from {args.file.name} (style {style}).\n"
              "Every answer passes the corpus rules; each item has one phrasing and one style, so merge\n"
              "answers into corpus items (or add phrasings and styles) before it joins data/qa.")
    out.write_text(dump_items(items, header), encoding="utf-8")
    print(f"wrote {len(items)} items with {report.kept} answers to {out}")
    if check.notes:
        print(f"before these items can join the corpus ({len(check.notes)} notes):")
        for note in check.notes[:8]:
            print(f"  {note}")
        if len(check.notes) > 8:
            print(f"  … and {len(check.notes) - 8} more")
    return 0


def export_files(cfg: Config, args) -> int:
    all_styles, _, corpus = load_data(cfg)
    if args.extra:
        paths = data_paths(cfg)
        corpus = load_corpus([*paths.qa_dirs, *args.extra], paths.fallbacks, paths.topics, paths.not_questions)
    written = export(corpus, all_styles, args.format, args.out)
    for path, n in written.items():
        print(f"{n:>7} examples  {path}")
    return 0
