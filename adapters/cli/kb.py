"""`springfest kb build|search|stats`: the knowledge base."""

from __future__ import annotations

import json
import sys
from collections import Counter

from tqdm import tqdm

from bot.config import Config
from bot.wiring import data_paths, load_data, open_knowledge
from engine.normalize import normalize
from engine.retrieval.training import training_rows
from engine.retrieval.vectors import cache_name


def register(sub) -> None:
    kb = sub.add_parser("kb", help="build, search and inspect the knowledge base")
    ksub = kb.add_subparsers(dest="kb_command", required=True)
    b = ksub.add_parser("build", help="build or update the index from the corpus")
    b.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    b.set_defaults(func=build)
    s = ksub.add_parser("search", help="nearest corpus items for queries")
    s.add_argument("queries", nargs="+", help="queries, or - to read one per line from stdin")
    s.add_argument("-k", type=int, default=5, help="items per query")
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(func=search)
    v = ksub.add_parser("vectors", help="write the vector cache shipped with the corpus (data/vectors/)")
    v.set_defaults(func=vectors)
    st = ksub.add_parser("stats", help="items, phrasings, answers per style, items per topic")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=stats)


def build(cfg: Config, args) -> int:
    _, _, corpus = load_data(cfg)
    report = open_knowledge(cfg, download=True).build(corpus, rebuild=args.rebuild, progress=True)
    print(f"added {report.added}, removed {report.removed}, unchanged {report.kept} phrasings "
          f"in {report.seconds:.1f}s")
    return 0


def vectors(cfg: Config, args) -> int:
    """Embed every phrasing and chat line of the corpus (reusing what is cached) and write exactly those to
    the shipped cache, so a fresh checkout starts without embedding. Run it after changing the corpus."""
    _, _, corpus = load_data(cfg)
    kb = open_knowledge(cfg, download=True)
    texts, _, _, negatives = training_rows(corpus)
    wanted = [*texts, *negatives]
    missing = kb.vectors.missing(wanted)
    bar = tqdm(total=missing, unit="phrasing", desc="embedding") if missing else None
    kb.vectors.vectors(wanted, kb.embedder, progress=bar.update if bar else None)
    if bar:
        bar.close()
    kb.vectors.save()
    out = kb.vectors.save(data_paths(cfg).vectors / cache_name(kb.embedder.name), only=wanted)
    print(f"wrote {len(set(wanted))} vectors ({missing} newly embedded) to {out}")
    return 0


def _queries(args) -> list[str]:
    if args.queries == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return args.queries


def search(cfg: Config, args) -> int:
    _, _, corpus = load_data(cfg)
    kb = open_knowledge(cfg, download=True)
    kb.ensure(corpus, progress=sys.stderr.isatty())
    for query in _queries(args):
        question, _ = normalize(query, cfg.question.max_chars)
        matches = kb.search(question or query, args.k)
        if args.json:
            print(json.dumps({"query": query, "matches": [m.to_json() for m in matches]}, ensure_ascii=False))
        else:
            print(query)
            for m in matches:
                print(f"  {m.score:.3f}  {m.topic:<13} {m.id:<28} {m.question}")
    return 0


def stats(cfg: Config, args) -> int:
    all_styles, enabled, corpus = load_data(cfg)
    kb = open_knowledge(cfg, download=True)
    kb.ensure(corpus, progress=sys.stderr.isatty())
    answers = Counter(s for item in corpus.items.values() for s, texts in item.answers.items() for _ in texts)
    info = {
        "items": len(corpus.items),
        "phrasings": sum(len(i.questions) for i in corpus.items.values()),
        "answers_per_style": {s: answers.get(s, 0) for s in all_styles},
        "enabled_styles": list(enabled),
        "items_per_topic": dict(sorted(Counter(i.topic for i in corpus.items.values()).items())),
        "fallbacks_per_style": {s: len(v) for s, v in corpus.fallbacks.items()},
        "index": kb.stats(),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return 0
