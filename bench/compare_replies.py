"""Two corpora's (or two settings') replies to the same held-out lines, side by side, read blind.

    python bench/compare_replies.py --before HEAD --out bench/eval/compare-sheet.yaml   # write sheet and key
    python bench/compare_replies.py --score bench/eval/compare-sheet.yaml               # count the verdicts
    python bench/compare_replies.py --before HEAD --before-item-threshold 0 --tiers topic --out ...
                                                          # one corpus: the best item's answer against the topic's

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


def corpus_at(revision: str, into: Path) -> Path:
    """data/ as of a git revision, unpacked under `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "data"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "data"


async def sheet(before: str, n: int, seed: str, styles: list[str] | None = None,
                tiers: tuple[str, ...] = ("topic", "none"),
                before_item_threshold: float | None = None) -> tuple[list[dict], list[dict]]:
    rows = [r for r in load_sets() if r.kind == "real" and r.split == "test"]
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = corpus_at(before, Path(tmp))
        for sub in ("new", "old"):
            Path(tmp, sub).mkdir()
        new = open_engine(ROOT / "data", f"{tmp}/new")
        old = open_engine(old_dir, f"{tmp}/old")
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
                replies = {"before": await (await old.answer(row.text, style)).collect(),
                           "after": await (await new.answer(row.text, style)).collect()}
                order = ["before", "after"]
                rng.shuffle(order)
                out.append({"style": style, "question": row.text,
                            "replies": [{"reply": replies[o], "send": None, "why": None} for o in order]})
                key.append({"style": style, "question": row.text, "order": order})
        await new.aclose()
        await old.aclose()
    return out, key


def score(path: Path) -> None:
    rows = yaml.safe_load(path.read_text("utf-8"))
    keys = {(k["style"], k["question"]): k["order"]
            for k in yaml.safe_load(key_path(path).read_text("utf-8"))}
    by: Counter = Counter()
    for row in rows:
        order = keys[(row["style"], row["question"])]
        verdicts = {o: r.get("send") for o, r in zip(order, row["replies"], strict=True)}
        if any(v is None for v in verdicts.values()):
            continue  # not read
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


def key_path(sheet_path: Path) -> Path:
    return sheet_path.with_suffix(".key.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default="HEAD", help="git revision of the corpus to compare with (default HEAD)")
    ap.add_argument("--n", type=int, default=30, help="lines per style")
    ap.add_argument("--seed", default="2026")
    ap.add_argument("--styles", nargs="*", help="only these styles (default: every enabled one); leave out a style "
                    "whose answers did not change, its two replies would be the same")
    ap.add_argument("--tiers", nargs="*", default=["topic", "none"], help="draw lines the current corpus answers "
                    "from these tiers (default: topic none)")
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
    rows, key = asyncio.run(sheet(args.before, args.n, args.seed, args.styles, tuple(args.tiers),
                                  args.before_item_threshold))
    dump = dict(allow_unicode=True, sort_keys=False, width=200)
    args.out.write_text(yaml.safe_dump(rows, **dump), encoding="utf-8")
    key_path(args.out).write_text(yaml.safe_dump(key, **dump), encoding="utf-8")
    print(f"wrote {len(rows)} lines with two replies each to {args.out}, the key to {key_path(args.out)}")


if __name__ == "__main__":
    main()
