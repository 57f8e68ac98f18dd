"""Import question-answer rows (the original SpringFestQA CSV or Alpaca JSON) as corpus items.

Rows are grouped by question; every answer is cleaned (engine.tooling.text_cleaning) or dropped with the
reason; each question gets a topic from retrieval against the existing corpus unless one is given.
The result is a list of items in the data/qa format plus a report of what happened to every row.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from engine.corpus import TOPICS, Corpus
from engine.retrieval.index import KnowledgeBase
from engine.safety import SafetyFilter
from engine.tooling.corpus_check import CURATED, ID_RE, _check_text
from engine.tooling.text_cleaning import clean_answer, dedup_key

# The original project's files, one style each.
SEED_STYLES = {"bg1": "humorous", "bg2": "deflect", "bg3": "tactful", "bg4": "sarcastic", "bg5": "mysterious"}


class ImportFormatError(ValueError):
    """The file is neither the CSV nor the Alpaca JSON layout."""


@dataclass(frozen=True)
class Row:
    line: int  # CSV line or JSON record number, for messages
    question: str
    answer: str


@dataclass
class Group:
    question: str
    answers: list[str] = field(default_factory=list)
    topic: str = ""
    topic_source: str = ""  # "given", or the corpus item retrieval matched, with its score


@dataclass
class ImportReport:
    source: Path
    style: str
    rows: int = 0
    kept: int = 0
    cleaned: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> rows
    fixes: Counter = field(default_factory=Counter)  # repair -> rows
    groups: list[Group] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The printed report."""
        out = [f"{self.source.name} ({self.style}): {self.rows} rows read, {self.kept} kept "
               f"({self.cleaned} of them cleaned), {sum(self.dropped.values())} dropped"]
        out += [f"  cleaned  {n:>5}  {fix}" for fix, n in self.fixes.most_common()]
        out += [f"  dropped  {n:>5}  {reason}" for reason, n in self.dropped.most_common()]
        for g in self.groups:
            out.append(f"  {g.topic:<13} {len(g.answers):>4} answers  {g.question}  [{g.topic_source}]")
        return out


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV (index, question, answer; a BOM is fine) or an Alpaca JSON/JSONL file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".json", ".jsonl") or text.lstrip()[:1] in "[{":
        return _alpaca_rows(text, path)
    return _csv_rows(text, path)


def _csv_rows(text: str, path: Path) -> list[Row]:
    records = list(csv.reader(text.splitlines()))
    if not records:
        return []
    header = [h.strip().lower() for h in records[0]]
    if "question" in header and "answer" in header:
        q_col, a_col, body, first = header.index("question"), header.index("answer"), records[1:], 2
    elif len(records[0]) in (2, 3):  # no header: [index,] question, answer
        q_col, a_col, body, first = len(records[0]) - 2, len(records[0]) - 1, records, 1
    else:
        raise ImportFormatError(f"{path}: expected CSV columns (index, question, answer)")
    rows = []
    for n, rec in enumerate(body, first):
        question, answer = (rec[i].strip() if i < len(rec) else "" for i in (q_col, a_col))
        rows.append(Row(n, question, answer))
    return rows


def _alpaca_rows(text: str, path: Path) -> list[Row]:
    try:
        data = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise ImportFormatError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, list):
        raise ImportFormatError(f"{path}: expected a list of Alpaca records (instruction, input, output)")
    rows = []
    for n, rec in enumerate(data, 1):
        if not isinstance(rec, dict):
            rows.append(Row(n, "", ""))
            continue
        # In this data the instruction is the relative's question; an input, if any, continues it.
        question = "".join(str(rec.get(k) or "").strip() for k in ("instruction", "input"))
        rows.append(Row(n, question, str(rec.get("output") or "").strip()))
    return rows


def clean_rows(rows: list[Row], style: str, source: Path, safety: SafetyFilter | None) -> ImportReport:
    """Group rows by question and clean every answer; the report counts each row exactly once."""
    report = ImportReport(source=Path(source), style=style, rows=len(rows))
    groups: dict[str, Group] = {}
    seen: dict[str, set[str]] = {}
    for row in rows:
        if not row.question or not row.answer:
            report.dropped["empty question or answer"] += 1
            continue
        result = clean_answer(row.answer, safety)
        if result.text is None:
            report.dropped[result.reason or "invalid"] += 1
            continue
        key = dedup_key(result.text)
        if key in seen.setdefault(row.question, set()):
            report.dropped["duplicate answer"] += 1
            continue
        seen[row.question].add(key)
        groups.setdefault(row.question, Group(row.question)).answers.append(result.text)
        report.kept += 1
        if result.fixes:
            report.cleaned += 1
            report.fixes.update(result.fixes)
    report.groups = list(groups.values())
    return report


def assign_topics(groups: list[Group], kb: KnowledgeBase | None, topic: str | None = None) -> None:
    """Set each group's topic: the given one, or that of the corpus item retrieval ranks first."""
    for g in groups:
        if topic:
            g.topic, g.topic_source = topic, "given"
            continue
        matches = kb.search(g.question, k=1) if kb else []
        if not matches:
            raise ImportFormatError(f"no corpus item to take a topic from for {g.question!r}; "
                                    "build the knowledge base or pass --topic")
        best = matches[0]
        g.topic, g.topic_source = best.topic, f"like {best.id} {best.score:.2f}"


def item_id(topic: str, style: str, question: str) -> str:
    """Stable and unique per (topic, style, question), so re-imports do not multiply ids."""
    digest = hashlib.sha1(f"{style}\x1f{question}".encode()).hexdigest()[:8]
    return f"{topic}-import-{style}-{digest}"


def to_items(groups: list[Group], style: str) -> list[dict]:
    """The groups as data/qa items (kept in first-seen order)."""
    return [{"id": item_id(g.topic, style, g.question), "topic": g.topic, "questions": [g.question],
             "answers": {style: list(g.answers)}} for g in groups if g.answers]


@dataclass
class Validation:
    errors: list[str]  # broken `data check` rules: the file must not be used as it is
    notes: list[str]  # whole-item rules an import cannot meet alone (more phrasings, other styles)


def validate_items(items: list[dict], styles: list[str], enabled: list[str], safety: SafetyFilter,
                   corpus: Corpus | None = None) -> Validation:
    """The `data check` rules applied to imported items, split into errors and merge notes."""
    errors, notes = [], []
    ids: set[str] = set()
    items_in_corpus = corpus.items.values() if corpus else ()
    corpus_questions = {dedup_key(q): i.id for i in items_in_corpus for q in i.questions}
    for item in items:
        where = item["id"]
        if not ID_RE.fullmatch(where) or where in ids:
            errors.append(f"{where}: id is not ascii kebab-case or not unique")
        ids.add(where)
        if item["topic"] not in TOPICS:
            errors.append(f"{where}: unknown topic {item['topic']!r}")
        for style, texts in item["answers"].items():
            if style not in styles:
                errors.append(f"{where}: unknown style {style!r}")
            for text in texts:
                errors.extend(_check_text(text, f"{where}: {style}", safety))
        if len(item["questions"]) < CURATED.questions:
            notes.append(f"{where}: {len(item['questions'])} question(s); the corpus wants {CURATED.questions}")
        missing = [s for s in enabled if len(item["answers"].get(s, ())) < CURATED.answers_enabled]
        if missing:
            notes.append(f"{where}: under {CURATED.answers_enabled} answers in {', '.join(missing)}")
        for q in item["questions"]:
            if (other := corpus_questions.get(dedup_key(q))) is not None:
                notes.append(f"{where}: question {q!r} is already in corpus item {other}")
    return Validation(errors, notes)
