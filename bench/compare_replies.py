"""Two corpora's (or two settings', or two backends') replies to the same held-out lines, side by side, read blind.

    python bench/compare_replies.py --before HEAD --out bench/eval/compare-sheet.yaml   # write sheet and key
    python bench/compare_replies.py --score bench/eval/compare-sheet.yaml               # count the verdicts
    python bench/compare_replies.py --before HEAD --before-item-threshold 0 --tiers topic --out ...
                                                          # one corpus: the best item's answer against the topic's
    python bench/compare_replies.py --after-llm gpu-config.yaml --out ...
                                                          # generated (that config's llm section) against curated

A blind read of 30 replies per style (bench/sample_replies.py) moves by ±3 from the lines drawn alone, so it
cannot show whether a rewrite of the general answers helped. Here every line gets both replies: the reader
marks each `send: yes/no` without knowing which is which (the order is shuffled per line, the key is written
to a separate `.key.yaml` the reader never sees), and the two are counted on the same lines.

Lines are drawn (seeded) from the held-out real wording (bench/eval/real.yaml, split `test`) that the
current corpus answers from the tiers `--tiers` names (default `topic` and `none`: the answers a rewrite of
data/topics/ and data/fallbacks.yaml changes). "before" is the engine on the corpus of git revision `--before`,
with `--before-item-threshold` if given; "after" is the working tree's. Two corpora may differ in their
answers, not in what the intent model learns from (data/qa phrasings), or the lines would be understood
differently by the two.

With `--after-llm CONFIG`, both sides are the working tree's corpus: "before" answers with `llm.backend: none`
(what a machine without a GPU sends), "after" with the `llm` section of CONFIG (turbomind in-process, or an
OpenAI-compatible server such as `lmdeploy serve api_server`), and lines are drawn from every tier by default.
The key records each reply's source, so the score also counts the "after" replies by where they came from
(generated, or curated when the model was not asked or failed). It needs a running model: on this project's
machine (no GPU) it has only been run against a fake server in the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_retrieval import Judge, load_sets, open_engine  # noqa: E402
from bench.sample_replies import is_yes  # noqa: E402
from bot.config import load_config  # noqa: E402


def corpus_at(revision: str, into: Path) -> Path:
    """data/ as of a git revision, unpacked under `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "data"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "data"


async def sheet(before: str | None, n: int, seed: str, styles: list[str] | None = None,
                tiers: tuple[str, ...] | None = None, before_item_threshold: float | None = None,
                after_llm: dict | None = None, data: Path = ROOT / "data",
                cache: Path | None = None) -> tuple[list[dict], list[dict]]:
    rows = [r for r in load_sets() if r.kind == "real" and r.split == "test"]
    tiers = tiers or (("item", "topic", "none") if after_llm else ("topic", "none"))
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = data if after_llm else corpus_at(before or "HEAD", Path(tmp))
        for sub in ("new", "old"):
            Path(tmp, sub).mkdir()
        new = open_engine(data, f"{tmp}/new", {"llm": after_llm} if after_llm else None, cache)
        old = open_engine(old_dir, f"{tmp}/old", None, cache)
        if before_item_threshold is not None:  # the other engine answers from an item from this confidence on
            old.retrieval = replace(old.retrieval, item_threshold=before_item_threshold)
        judge = Judge(new, "intent")
        general = [r for r in rows if judge.understand(r.text).tier in tiers]
        out, key = [], []
        for style in styles or new.styles:
            rng = random.Random(f"{seed}-{style}")
            for row in rng.sample(general, min(n, len(general))):
                # The same seed for both: where a pool did not change, both pick the same reply.
                new.rng, old.rng = (random.Random(f"{seed}-{style}-{row.text}") for _ in range(2))
                replies, sources = {}, {}
                for side, engine in (("before", old), ("after", new)):
                    answer = await engine.answer(row.text, style)
                    replies[side] = await answer.collect()
                    sources[side] = answer.source  # known once collected: a failed generation falls back
                order = ["before", "after"]
                rng.shuffle(order)
                out.append({"style": style, "question": row.text,
                            "replies": [{"reply": replies[o], "send": None, "why": None} for o in order]})
                key.append({"style": style, "question": row.text, "order": order, "sources": sources})
        await new.aclose()
        await old.aclose()
    return out, key


def score(path: Path) -> None:
    rows = yaml.safe_load(path.read_text("utf-8"))
    keys = {(k["style"], k["question"]): k for k in yaml.safe_load(key_path(path).read_text("utf-8"))}
    by: Counter = Counter()
    by_source: Counter = Counter()  # (source of the "after" reply, sent?) over the lines read
    for row in rows:
        entry = keys[(row["style"], row["question"])]
        order = entry["order"]
        verdicts = {o: r.get("send") for o, r in zip(order, row["replies"], strict=True)}
        if any(v is None for v in verdicts.values()):
            continue  # not read
        if "sources" in entry:  # older keys (corpus comparisons before 2026-12-03) have none
            by_source[(entry["sources"]["after"], is_yes(verdicts["after"]))] += 1
        same = row["replies"][0]["reply"] == row["replies"][1]["reply"]
        by[(row["style"], "read")] += 1
        by[(row["style"], "same")] += same
        for o, v in verdicts.items():
            by[(row["style"], o)] += is_yes(v)
        if is_yes(verdicts["before"]) != is_yes(verdicts["after"]):  # the lines that tell the two apart
            by[(row["style"], "only " + ("before" if is_yes(verdicts["before"]) else "after"))] += 1
    print(f"verdicts from {path} (key {key_path(path).name})")
    print("| style | lines read | same reply both times | before: would send | after: would send "
          "| sent only before | sent only after |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in [*sorted({r["style"] for r in rows}), "all"]:
        got = Counter()
        for (style, what), v in by.items():
            if s in ("all", style):
                got[what] += v
        read = got["read"]
        print(f"| {s} | {read} | {got['same']} | {got['before']}/{read} | {got['after']}/{read} "
              f"| {got['only before']} | {got['only after']} |")
    if by_source:
        print("\n| source of the after reply | lines read | after: would send |")
        print("|---|---:|---:|")
        for source in sorted({src for src, _ in by_source}):
            sent, total = by_source[(source, True)], by_source[(source, True)] + by_source[(source, False)]
            print(f"| {source} | {total} | {sent}/{total} |")


def key_path(sheet_path: Path) -> Path:
    return sheet_path.with_suffix(".key.yaml")


def llm_section(config: Path) -> dict | None:
    """CONFIG's `llm` section, to be written into a config file in a temporary folder: a model directory
    CONFIG gives relative to itself (./models/x) is made absolute first, or it would be looked for there."""
    llm = (yaml.safe_load(config.read_text("utf-8")) or {}).get("llm")
    if llm and llm.get("backend") == "turbomind" and llm.get("model"):
        llm = {**llm, "model": load_config(config).model_location(llm["model"])}
    return llm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", help="git revision of the corpus to compare with (default HEAD)")
    ap.add_argument("--after-llm", type=Path, metavar="CONFIG", help="the after side answers with the llm section "
                    "of this config file, the before side without a model, both on the working tree's corpus")
    ap.add_argument("--n", type=int, default=30, help="lines per style")
    ap.add_argument("--seed", default="2026")
    ap.add_argument("--styles", nargs="*", help="only these styles (default: every enabled one); leave out a style "
                    "whose answers did not change, its two replies would be the same")
    ap.add_argument("--tiers", nargs="*", help="draw lines the current corpus answers from these tiers "
                    "(default: topic none; with --after-llm: item topic none)")
    ap.add_argument("--before-item-threshold", type=float, help="the other engine answers from an item from this "
                    "confidence on (with --before HEAD: the best item's answer against the topic's, on one corpus)")
    ap.add_argument("--out", type=Path, help="write the sheet here (and its key next to it)")
    ap.add_argument("--score", type=Path, help="count the verdicts of a filled-in sheet")
    args = ap.parse_args()
    if args.score:
        score(args.score)
        return
    if not args.out:
        ap.error("--out or --score is required")
    if args.after_llm and args.before:
        ap.error("--after-llm compares two backends on the working tree's corpus: leave out --before")
    after_llm = llm_section(args.after_llm) if args.after_llm else None
    if args.after_llm and (not after_llm or after_llm.get("backend", "none") == "none"):
        ap.error(f"{args.after_llm} names no language model (llm.backend: turbomind or openai)")
    rows, key = asyncio.run(sheet(args.before, args.n, args.seed, args.styles,
                                  tuple(args.tiers) if args.tiers else None, args.before_item_threshold, after_llm))
    dump = dict(allow_unicode=True, sort_keys=False, width=200)
    args.out.write_text(yaml.safe_dump(rows, **dump), encoding="utf-8")
    key_path(args.out).write_text(yaml.safe_dump(key, **dump), encoding="utf-8")
    print(f"wrote {len(rows)} lines with two replies each to {args.out}, the key to {key_path(args.out)}")


if __name__ == "__main__":
    main()
