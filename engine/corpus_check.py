"""`springfest data check`: validate the corpus and name the file and item of every problem."""

from __future__ import annotations

import re
from pathlib import Path

from engine.corpus import TOPICS, CorpusError, item_files, read_item_file
from engine.safety import SafetyFilter

MIN_QUESTIONS = 3
MIN_ANSWERS_PER_ENABLED_STYLE = 2
MIN_FALLBACKS_PER_ENABLED_STYLE = 5
ANSWER_CHARS = (10, 80)
ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Leftovers of text generators that must never reach a relative.
BANNED_PATTERNS = [
    (re.compile(r"我(可能|也许|大概)?会(这样|微笑着|笑着|礼貌地|委婉地)?(回答|说|回应)[:：]"), "generator framing"),
    (re.compile(r"^(回答|答|回复)[:：]"), "generator framing"),
    (re.compile(r"这样(既|不仅)[^。！？]*[又也还]"), "trailing commentary"),
    (re.compile(r"^[\"“「『'‘].*[\"”」』'’]$"), "wrapping quotes"),
    (re.compile(r"[\u4e00-\u9fff]/[\u4e00-\u9fff]"), "slash placeholder (e.g. 工作/学习)"),
    (re.compile(r"XX|xx|某某|\[[^\]]*\]|\{[^}]*\}|<[^>]*>"), "placeholder"),
    (re.compile(r"作为(一个)?(AI|人工智能|语言模型)", re.I), "breaks character"),
]


def banned_reason(text: str) -> str | None:
    for pattern, reason in BANNED_PATTERNS:
        if pattern.search(text):
            return reason
    return None


def _check_text(text: str, where: str, safety: SafetyFilter) -> list[str]:
    errors = []
    lo, hi = ANSWER_CHARS
    if not lo <= len(text) <= hi:
        errors.append(f"{where}: {len(text)} characters, outside {lo}..{hi}: {text!r}")
    if reason := banned_reason(text):
        errors.append(f"{where}: {reason}: {text!r}")
    if word := safety.first_hit(text):
        errors.append(f"{where}: contains banned word {word!r}: {text!r}")
    return errors


def check_corpus(qa_dirs: list[Path], fallbacks_path: Path, styles: list[str], enabled: list[str],
                 safety: SafetyFilter) -> list[str]:
    """Every problem found, one line each, naming the file and the item. Empty means valid."""
    errors: list[str] = []
    seen_ids: dict[str, Path] = {}
    seen_questions: dict[str, str] = {}
    for path in item_files(qa_dirs):
        try:
            entries = read_item_file(path)
        except (CorpusError, Exception) as e:  # a YAML syntax error must name the file, not crash
            errors.append(f"{path}: cannot read: {e}")
            continue
        for n, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                errors.append(f"{path}: entry #{n}: not a mapping")
                continue
            item_id = str(entry.get("id", f"#{n}"))
            where = f"{path.name}: {item_id}"
            unknown_keys = set(entry) - {"id", "topic", "questions", "answers"}
            if unknown_keys:
                errors.append(f"{where}: unknown field(s) {sorted(unknown_keys)}")
            if not ID_RE.fullmatch(item_id):
                errors.append(f"{where}: id must be ascii kebab-case")
            if item_id in seen_ids:
                errors.append(f"{where}: duplicate id (also in {seen_ids[item_id].name})")
            seen_ids[item_id] = path
            topic = entry.get("topic")
            if topic not in TOPICS:
                errors.append(f"{where}: unknown topic {topic!r}")
            questions = entry.get("questions")
            if not isinstance(questions, list) or len(questions) < MIN_QUESTIONS:
                errors.append(f"{where}: needs at least {MIN_QUESTIONS} questions")
                questions = questions if isinstance(questions, list) else []
            for q in questions:
                key = re.sub(r"\W", "", str(q))
                if key in seen_questions:
                    errors.append(f"{where}: duplicate question {q!r} (also in {seen_questions[key]})")
                seen_questions[key] = item_id
            answers = entry.get("answers")
            if not isinstance(answers, dict):
                errors.append(f"{where}: answers must map style ids to lists")
                continue
            for style, texts in answers.items():
                if style not in styles:
                    errors.append(f"{where}: unknown style {style!r}")
                    continue
                for text in texts if isinstance(texts, list) else []:
                    errors.extend(_check_text(str(text), f"{where}: {style}", safety))
            for style in enabled:
                got = answers.get(style)
                if not isinstance(got, list) or len(got) < MIN_ANSWERS_PER_ENABLED_STYLE:
                    errors.append(f"{where}: needs at least {MIN_ANSWERS_PER_ENABLED_STYLE} {style} answers")
    errors.extend(_check_fallbacks(fallbacks_path, styles, enabled, safety))
    return errors


def _check_fallbacks(path: Path, styles: list[str], enabled: list[str], safety: SafetyFilter) -> list[str]:
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except Exception as e:
        return [f"{path}: cannot read: {e}"]
    if not isinstance(raw, dict):
        return [f"{path}: expected a mapping from style id to a list of replies"]
    errors = [f"{path.name}: unknown style {s!r}" for s in raw if s not in styles]
    for style in enabled:
        texts = raw.get(style) or []
        if len(texts) < MIN_FALLBACKS_PER_ENABLED_STYLE:
            errors.append(f"{path.name}: needs at least {MIN_FALLBACKS_PER_ENABLED_STYLE} {style} fallbacks")
    for style, texts in raw.items():
        for text in texts or []:
            errors.extend(_check_text(str(text), f"{path.name}: {style}", safety))
    return errors
