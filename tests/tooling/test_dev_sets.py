"""The development sets stay apart from the corpus, and their labels are real topic and item ids."""

from __future__ import annotations

import re

import yaml
from conftest import REPO

from bot.config import load_config
from bot.wiring import load_data
from engine.corpus import TOPICS
from engine.normalize import normalize

EVAL = REPO / "bench" / "eval"


def key(text: str) -> str:
    """Script, width, punctuation and spaces folded: the same question written twice."""
    return re.sub(r"[\W_]+", "", normalize(text)[0])


def dev_rows() -> list[dict]:
    rows = [q for page in yaml.safe_load((EVAL / "real.yaml").read_text("utf-8")) for q in page["questions"]]
    for topic, qs in yaml.safe_load((EVAL / "written.yaml").read_text("utf-8")).items():
        rows += [{"text": q, "topic": topic} if isinstance(q, str) else {**q, "topic": topic} for q in qs]
    rows += yaml.safe_load((EVAL / "followups.yaml").read_text("utf-8"))
    return rows


def test_no_development_question_is_in_the_corpus():
    _, _, corpus = load_data(load_config(REPO / "config.yaml"))
    in_corpus = {key(q): i.id for i in corpus.items.values() for q in i.questions}
    in_corpus.update((key(line), "not_questions.yaml") for line in corpus.not_questions)
    dev = [r["text"] for r in dev_rows()]
    dev += yaml.safe_load((EVAL / "chat_lines.yaml").read_text("utf-8"))
    copied = [(t, in_corpus[key(t)]) for t in dev if key(t) in in_corpus]
    assert not copied, f"development questions copied into the corpus: {copied[:10]}"


def test_labels_are_topic_and_item_ids():
    _, _, corpus = load_data(load_config(REPO / "config.yaml"))
    rows = dev_rows()
    assert {r["topic"] for r in rows} <= set(TOPICS)
    unknown = [r for r in rows if r.get("item") and r["item"] not in corpus.items]
    assert not unknown, unknown[:5]
    wrong_topic = [r for r in rows if r.get("item") and corpus.items[r["item"]].topic != r["topic"]]
    assert not wrong_topic, wrong_topic[:5]


def test_every_real_row_names_its_page():
    pages = yaml.safe_load((EVAL / "real.yaml").read_text("utf-8"))
    assert sum(len(p["questions"]) for p in pages) >= 150
    assert all(str(p["source"]).startswith(("http://", "https://")) for p in pages)
