"""Replies to real relatives' questions, for a person to read blind: would you send this one?

    python bench/sample_replies.py --n 30 --out bench/eval/review-sheet.yaml     # write a sheet to fill in
    python bench/sample_replies.py --score bench/eval/review.yaml                 # count the verdicts
    python bench/sample_replies.py --split dev --out /tmp/dev-sheet.yaml          # to look for what to fix
    python bench/sample_replies.py --seed 2028 --avoid bench/eval/review*.yaml --out ...  # a fresh read
    python bench/sample_replies.py --score bench/eval/review.yaml --by-tier       # which tier the refusals came from

The sheet holds, per default style, `n` questions drawn (seeded) from the held-out real wording
(bench/eval/real.yaml, split `test`) with the reply the bot gives on the shipped corpus and
`llm.backend: none`, and an empty `send:` for the reader (yes / no, and `why:` for a no). The style
name is in the sheet so the reader knows what was asked for; the source tier is left out so it does
not colour the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_retrieval import Judge, load_sets, open_engine  # noqa: E402


async def sheet(n: int, seed: str, split: str = "test", avoid: tuple[Path, ...] = ()) -> list[dict]:
    # A question already read on an earlier sheet (per style) is not drawn again: a later sheet is a fresh read.
    seen = {(r["style"], r["question"]) for path in avoid for r in yaml.safe_load(path.read_text("utf-8"))}
    rows = [r for r in load_sets() if r.kind == "real" and r.split == split]
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(ROOT / "data", tmp)  # the cache it shares is keyed by corpus: a sheet sees the shipped one
        out = []
        for style in engine.styles:
            rng = random.Random(f"{seed}-{style}")
            fresh = [r for r in rows if (style, r.text) not in seen]
            for row in rng.sample(fresh, min(n, len(fresh))):
                answer = await engine.answer(row.text, style)
                out.append({"style": style, "question": row.text, "reply": await answer.collect(),
                            "send": None, "why": None})
        await engine.aclose()
    return out


def is_yes(verdict: object) -> bool:
    # A reader may write `send: 'no'` (a string, as yaml.safe_dump quotes it): bool('no') would count it a yes.
    return str(verdict).lower() in ("true", "yes")


def score(path: Path) -> None:
    rows = yaml.safe_load(path.read_text("utf-8"))
    by = Counter((r["style"], is_yes(r["send"])) for r in rows if r.get("send") is not None)
    styles = sorted({r["style"] for r in rows})
    print(f"verdicts from {path}")
    print("| style | read | would send | share |")
    print("|---|---:|---:|---:|")
    for s in styles:
        yes, no = by[(s, True)], by[(s, False)]
        print(f"| {s} | {yes + no} | {yes} | {100 * yes / max(1, yes + no):.0f}% |")
    yes = sum(v for (_, ok), v in by.items() if ok)
    total = sum(by.values())
    print(f"| all | {total} | {yes} | {100 * yes / max(1, total):.0f}% |")


def score_by_tier(path: Path, judge: Judge | None = None) -> None:
    """The verdicts per style and answer tier (item, topic, none = general reply). The sheet does not hold the
    tier (it would colour the reader's verdict), so each question is understood again here, on the shipped
    corpus: that is the sheet's tier as long as data/qa (what understanding is trained on) has not changed
    since the sheet was written."""
    rows = [r for r in yaml.safe_load(path.read_text("utf-8")) if r.get("send") is not None]
    if judge is None:
        with tempfile.TemporaryDirectory() as tmp:
            return score_by_tier(path, Judge(open_engine(ROOT / "data", tmp), "intent"))
    by = Counter((r["style"], judge.understand(r["question"]).tier, is_yes(r["send"])) for r in rows)
    print(f"verdicts from {path}, by the tier that answered (understood on the shipped corpus)")
    print("| style | item | topic | general (none) |")
    print("|---|---:|---:|---:|")
    for s in sorted({r["style"] for r in rows}):
        cells = [f"{by[(s, t, True)]}/{by[(s, t, True)] + by[(s, t, False)]}" for t in ("item", "topic", "none")]
        print(f"| {s} | {' | '.join(cells)} |")
    cells = [f"{sum(v for (_, tt, ok), v in by.items() if tt == t and ok)}/"
             f"{sum(v for (_, tt, _ok), v in by.items() if tt == t)}" for t in ("item", "topic", "none")]
    print(f"| all | {' | '.join(cells)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=30, help="questions per style")
    ap.add_argument("--seed", default="2026")
    ap.add_argument("--split", choices=("test", "dev"), default="test",
                    help="held-out questions (test) for a measurement; dev ones to look for what to fix")
    ap.add_argument("--avoid", type=Path, nargs="*", default=(), help="sheets whose questions are not drawn again")
    ap.add_argument("--out", type=Path, help="write the sheet here")
    ap.add_argument("--score", type=Path, help="count the verdicts of a filled-in sheet")
    ap.add_argument("--by-tier", action="store_true", help="with --score: also per answer tier (loads the engine)")
    args = ap.parse_args()
    if args.score:
        score(args.score)
        if args.by_tier:
            score_by_tier(args.score)
        return
    rows = asyncio.run(sheet(args.n, args.seed, args.split, tuple(args.avoid)))
    text = yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=200)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {len(rows)} replies to {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
