"""The terminal review walk: accept, edit, reject, skip or quit; accepted text goes into the corpus.

Accepted candidates are inserted into their item's YAML file as one line (engine.tooling.yaml_text), so
the rest of the hand-written file keeps its layout. The queue is saved after every decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.corpus import Corpus
from engine.safety import SafetyFilter
from engine.styles import Style
from engine.tooling.review_queue import Candidate, load_queue, save_queue
from engine.tooling.text_cleaning import dedup_key, rule_problem
from engine.tooling.yaml_text import YamlEditError, insert_entry

PROMPT = "accept [a] / edit [e] / reject [r] / skip [s] / quit [q] > "
HELP = "a: add it to the corpus   e: change the text first   r: drop it   s: decide later   q: stop here"


@dataclass
class ReviewReport:
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    pending: int = 0  # still pending in the queue afterwards
    files: set[Path] | None = None  # corpus files changed


def _describe(c: Candidate, n: int, total: int, corpus: Corpus, styles: dict[str, Style]) -> list[str]:
    item = corpus.items[c.item]
    if c.kind == "answers":
        style = styles.get(c.style or "")
        label = f"{style.label_zh} {c.style}" if style else c.style
        what, have = f"new {label} answer", len(item.answers.get(c.style or "", ()))
    else:
        what, have = "new phrasing", len(item.questions)
    lines = [f"[{n}/{total}] {what} for {item.id} ({item.topic}), which has {have}",
             f"  question:  {item.canonical}", f"  candidate: {c.text}"]
    if c.original and c.original != c.text:
        lines.append(f"  (model wrote: {c.original})")
    if c.note:
        lines.append(f"  note: {c.note}")
    return lines


def _accept(c: Candidate, corpus: Corpus, safety: SafetyFilter | None) -> Path:
    """Insert the candidate into its item's file; raises ValueError with the reason it cannot."""
    item = corpus.items[c.item]
    if problem := rule_problem(c.text, c.kind, safety):
        raise ValueError(f"breaks the corpus rules: {problem}")
    if c.kind == "questions":
        taken = {dedup_key(q): i.id for i in corpus.items.values() for q in i.questions}
        if (other := taken.get(dedup_key(c.text))) is not None:
            raise ValueError(f"item {other} already has this question")
        keys: tuple[str, ...] = ("questions",)
    else:
        if dedup_key(c.text) in {dedup_key(a) for a in item.answers.get(c.style or "", ())}:
            raise ValueError("the item already has this answer")
        keys = ("answers", str(c.style))
    insert_entry(item.source, item.id, keys, c.text)
    return item.source


def review(queue_path: Path, load_corpus: Callable[[], Corpus], styles: dict[str, Style], *,
           safety: SafetyFilter | None = None, read: Callable[[str], str] = input,
           write: Callable[[str], None] = print) -> ReviewReport:
    """Walk the pending candidates; EOF on input counts as quit."""
    queue = load_queue(queue_path)
    pending = [c for c in queue if c.status == "pending"]
    report = ReviewReport(files=set())
    corpus = load_corpus()
    for n, cand in enumerate(pending, 1):
        if cand.item not in corpus.items:
            write(f"[{n}/{len(pending)}] item {cand.item} is no longer in the corpus: skipped")
            report.skipped += 1
            continue
        for line in _describe(cand, n, len(pending), corpus, styles):
            write(line)
        decision = _decide(cand, corpus, styles, safety, read, write, report)
        if decision in ("accepted", "rejected"):
            cand.status, cand.decided = decision, datetime.now(UTC).isoformat(timespec="seconds")
        save_queue(queue_path, queue)  # also keeps an edit made before skip or quit
        if decision == "quit":
            break
        if decision == "accepted":
            corpus = load_corpus()  # the next duplicate check must see what was just added
    report.pending = sum(1 for c in queue if c.status == "pending")
    return report


def _decide(cand: Candidate, corpus: Corpus, styles: dict[str, Style], safety: SafetyFilter | None,
            read: Callable[[str], str], write: Callable[[str], None], report: ReviewReport) -> str:
    """One candidate's decision: 'accepted', 'rejected', 'skipped' or 'quit'."""
    while True:
        try:
            answer = read(PROMPT).strip().lower()
        except EOFError:
            write("")
            return "quit"
        if answer in ("a", "accept"):
            try:
                report.files.add(_accept(cand, corpus, safety))
            except (ValueError, YamlEditError) as e:
                write(f"  cannot add it: {e}")
                continue
            report.accepted += 1
            write(f"  added to {corpus.items[cand.item].source.name}")
            return "accepted"
        if answer in ("e", "edit"):
            _edit(cand, safety, read, write)
            continue
        if answer in ("r", "reject"):
            report.rejected += 1
            return "rejected"
        if answer in ("s", "skip", ""):
            report.skipped += 1
            return "skipped"
        if answer in ("q", "quit"):
            return "quit"
        write(HELP)


def _edit(cand: Candidate, safety: SafetyFilter | None, read: Callable[[str], str],
          write: Callable[[str], None]) -> None:
    try:
        text = read("  new text (empty keeps it): ").strip()
    except EOFError:
        return
    if not text:
        return
    if problem := rule_problem(text, cand.kind, safety):
        write(f"  not usable: {problem}")
        return
    cand.original = cand.original or cand.text
    cand.text = text
    write(f"  candidate: {text}")
