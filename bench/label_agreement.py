"""Would a second reader label the held-out lines as we did? Blind labels against the sets' own.

    python bench/label_agreement.py bench/eval/second-reader.yaml        # agreement only (no engine)
    python bench/label_agreement.py bench/eval/second-reader.yaml --bot  # and the bot on the lines both agree on

The second reader's file is a list of `{n, text, label}`: `label` is a topic id or `chat` (not an awkward
question). It was filled in by a reader who saw only the lines and the topic table of data/README.md, never our
labels. The targets of issue 10 (top-1 topic >= 0.92 on real wording) only mean something if two readers agree
on a line's topic well above 92% of the time; where they do not, this script says how far the bot gets on the
lines they agree on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_retrieval import Judge, Row, answered, chat_ok, load_sets, open_engine, pct  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHAT = "chat"


def ours(row: Row) -> str:
    return row.topic or CHAT


def agree(a: str, b: str, lenient: bool) -> bool:
    """Strict: the same label. Lenient: `chat` and `smalltalk` are one class, because for both the bot is right
    to give a plain friendly reply or the fallback (`chat_ok` in eval_retrieval)."""
    if lenient:
        a, b = (CHAT if x == "smalltalk" else x for x in (a, b))
    return a == b


def kappa(pairs: list[tuple[str, str]]) -> str:
    """Cohen's kappa: agreement beyond what two readers with these label frequencies would reach by chance.
    Undefined ("–") where our side has one label only (the chat lines)."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if len(ca) == 1:
        return "–"
    return f"{(observed - chance) / (1 - chance):.2f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("labels", type=Path, help="the second reader's file")
    p.add_argument("--bot", action="store_true", help="also run the bot on the lines both readers agree on")
    p.add_argument("--data", type=Path, default=ROOT / "data", help="corpus directory (default: data/)")
    args = p.parse_args()
    by_text = {r.text: r for r in load_sets() if r.kind in ("real", "chat")}
    second = yaml.safe_load(args.labels.read_text("utf-8"))
    missing = [e["text"] for e in second if e["text"] not in by_text]
    if missing:
        sys.exit(f"{len(missing)} lines are in none of the sets, e.g. {missing[0]!r}")
    unlabelled = sum(not e.get("label") for e in second)
    pairs = [(by_text[e["text"]], e["label"]) for e in second if e.get("label")]
    print(f"{len(pairs)} lines labelled by the second reader ({unlabelled} left blank)\n")

    groups = [("all lines", pairs),
              ("real questions", [(r, b) for r, b in pairs if r.kind == "real"]),
              *((f"real, collection {n}", [(r, b) for r, b in pairs if r.kind == "real" and r.collection == n])
                for n in sorted({r.collection for r, _ in pairs if r.kind == "real"})),
              ("chat lines", [(r, b) for r, b in pairs if r.kind == "chat"])]
    print("| lines | n | same label | same, chat = smalltalk | Cohen's kappa (strict) |")
    print("|---|---:|---:|---:|---:|")
    for name, g in groups:
        if g:
            print(f"| {name} | {len(g)} | {pct(sum(agree(ours(r), b, False) for r, b in g), len(g))} | "
                  f"{pct(sum(agree(ours(r), b, True) for r, b in g), len(g))} | "
                  f"{kappa([(ours(r), b) for r, b in g])} |")

    differ = Counter((ours(r), b) for r, b in pairs if not agree(ours(r), b, True))
    print("\n| our label | second reader | lines |")
    print("|---|---|---:|")
    for (a, b), n in differ.most_common(20):
        print(f"| {a} | {b} | {n} |")

    if args.bot:
        with tempfile.TemporaryDirectory() as tmp:
            judge = Judge(open_engine(args.data, tmp), "intent")
            bot_on_agreed(judge, pairs)
    return 0


def bot_on_agreed(judge: Judge, pairs: list[tuple[Row, str]]) -> None:
    """The issue's targets restated on the lines both readers label alike (lenient), next to all lines."""
    print("\n| held-out lines | n | top-1 topic | answered by item or topic | chat: fallback or smalltalk |")
    print("|---|---:|---:|---:|---:|")
    for name, keep in (("all", lambda r, b: True), ("both readers agree", lambda r, b: agree(ours(r), b, True))):
        real = [r for r, b in pairs if r.kind == "real" and keep(r, b)]
        chat = [r for r, b in pairs if r.kind == "chat" and keep(r, b)]
        top1 = sum(judge.best_topic(r.text) == r.topic for r in real)
        ans = sum(answered(judge.understand(r.text), r) for r in real)
        ok = sum(chat_ok(judge.understand(r.text)) for r in chat)
        print(f"| {name}: real {len(real)}, chat {len(chat)} | {len(real) + len(chat)} | {pct(top1, len(real))} | "
              f"{pct(ans, len(real))} | {pct(ok, len(chat))} |")


if __name__ == "__main__":
    sys.exit(main())
