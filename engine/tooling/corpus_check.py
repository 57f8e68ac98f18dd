"""`springfest data check`: validate the corpus and name the file and item of every problem."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.corpus import SHAPES, TOPICS, CorpusError, every_shape, item_files, read_item_file, read_topic_file, shaped
from engine.parents import parents_asked, parents_named
from engine.safety import SafetyFilter
from engine.traditional import is_traditional


@dataclass(frozen=True)
class Rules:
    """The counts a corpus must meet. `CURATED` for data/qa; imported files are checked with `LOOSE`."""

    questions: int = 12
    traditional_questions: int = 2
    answers_enabled: int = 4  # per enabled (default) style
    answers_other: int = 2  # per other known style
    topic_answers_enabled: int = 6
    topic_answers_other: int = 2
    topic_answers_per_shape: int = 5  # when a style's topic answers are split into question and remark
    fallbacks_enabled: int = 5
    unique_answers: bool = True  # no answer text in two items (imports repeat answers across questions)


CURATED = Rules()
LOOSE = Rules(questions=3, traditional_questions=0, answers_enabled=2, answers_other=0, unique_answers=False)
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

# Kinship terms that name a particular relative. An answer that says 二姨 does not fit a question
# asked by an uncle, so an answer may only use a term that one of its item's phrasings uses.
# 我妈/我爸/爸妈 (the speaker's own parents) fit every asker and are not listed; 姑娘 is a girl.
_RELATIVE = re.compile(
    r"(?:大|二|三|四|五|小|老)?(?:舅舅|舅妈|舅|姨妈|姨父|姨夫|阿姨|姨|姑妈|姑父|姑夫|姑(?!娘)|叔叔|婶婶|婶|"
    r"伯伯|伯母|伯(?!乐)|姥姥|姥爷|奶奶|爷爷|外公|外婆|嫂子|嫂|姐夫|妹夫|"
    r"表哥|表姐|表弟|表妹|堂哥|堂姐|堂弟|堂妹|侄子|侄女|外甥)"
)


def banned_reason(text: str) -> str | None:
    for pattern, reason in BANNED_PATTERNS:
        if pattern.search(text):
            return reason
    return None


_SAME = {"舅舅": "舅", "姨妈": "姨", "阿姨": "姨", "姑妈": "姑", "叔叔": "叔", "伯伯": "伯", "婶婶": "婶",
         "嫂子": "嫂", "姨夫": "姨父", "姑夫": "姑父"}


def relatives_named(text: str) -> set[str]:
    """The kinship terms in a text, reduced to one spelling each (二姨, 阿姨 -> 姨)."""
    out = set()
    for m in _RELATIVE.findall(text):
        term = re.sub(r"^(?:大|二|三|四|五|小|老)(?=.)", "", m)
        out.add(_SAME.get(term, term))
    return out


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


def _answer_key(text: str) -> str:
    return re.sub(r"\W", "", text)


def _check_counts(where: str, answers: dict, styles: list[str], enabled: list[str], at_least_enabled: int,
                  at_least_other: int, per_shape: int | None = None) -> list[str]:
    """`per_shape`: answers may be split by the shape of the line (a topic file); each shape needs this many."""
    errors = []
    for style in styles:
        least = at_least_enabled if style in enabled else at_least_other
        got = answers.get(style)
        if isinstance(got, dict) and per_shape is not None:
            errors += [f"{where}: {style}: unknown shape {k!r} (question | remark)" for k in got if k not in SHAPES]
            errors += [f"{where}: needs at least {per_shape} {style} answers for a {shape} (has {len(texts)})"
                       for shape, texts in shaped(got).items() if len(texts) < per_shape]
            got = list(every_shape(shaped(got)))
        n = len(got) if isinstance(got, list) else 0
        if n < least:
            errors.append(f"{where}: needs at least {least} {style} answers (has {n})")
    return errors


def check_corpus(qa_dirs: list[Path], fallbacks_path: Path, styles: list[str], enabled: list[str],
                 safety: SafetyFilter, topics_dir: Path | None = None, rules: Rules = CURATED,
                 not_questions: Path | None = None) -> list[str]:
    """Every problem found, one line each, naming the file and the item. Empty means valid."""
    errors: list[str] = []
    seen_ids: dict[str, Path] = {}
    seen_questions: dict[str, str] = {}
    seen_answers: dict[str, str] = {}
    topics_used: set[str] = set()
    for path in item_files(qa_dirs):
        try:
            entries = read_item_file(path)
        except (CorpusError, yaml.YAMLError, OSError, UnicodeDecodeError) as e:  # name the file, not crash
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
            else:
                topics_used.add(topic)
            questions = entry.get("questions")
            questions = [str(q) for q in questions] if isinstance(questions, list) else []
            if len(questions) < rules.questions:
                errors.append(f"{where}: needs at least {rules.questions} questions (has {len(questions)})")
            trad = sum(1 for q in questions if is_traditional(q))
            if trad < rules.traditional_questions:
                errors.append(f"{where}: needs at least {rules.traditional_questions} questions in traditional "
                              f"characters (has {trad})")
            for q in questions:
                key = _answer_key(q)
                if key in seen_questions:
                    errors.append(f"{where}: duplicate question {q!r} (also in {seen_questions[key]})")
                seen_questions[key] = item_id
            answers = entry.get("answers")
            if not isinstance(answers, dict):
                errors.append(f"{where}: answers must map style ids to lists")
                continue
            asked_relatives = set().union(*(relatives_named(q) for q in questions)) if questions else set()
            # An item whose phrasings never bring up the parents is asked by anyone, the parents included.
            asked_parents = any(map(parents_asked, questions))
            for style, texts in answers.items():
                if style not in styles:
                    errors.append(f"{where}: unknown style {style!r}")
                    continue
                for text in texts if isinstance(texts, list) else []:
                    text = str(text)
                    errors.extend(_check_text(text, f"{where}: {style}", safety))
                    if extra := relatives_named(text) - asked_relatives:
                        errors.append(f"{where}: {style}: names a relative no phrasing names "
                                      f"({'、'.join(sorted(extra))}): {text!r}")
                    if not asked_parents and (parent := parents_named(text)):
                        errors.append(f"{where}: {style}: speaks of the parents ({parent}), which no phrasing "
                                      f"does, and the asker may be one: {text!r}")
                    key = _answer_key(text)
                    if rules.unique_answers and key in seen_answers and seen_answers[key] != item_id:
                        errors.append(f"{where}: {style}: answer also in {seen_answers[key]}: {text!r}")
                    seen_answers.setdefault(key, item_id)
            errors.extend(_check_counts(where, answers, styles, enabled, rules.answers_enabled, rules.answers_other))
    if topics_dir is not None:
        errors.extend(_check_topics(Path(topics_dir), topics_used, styles, enabled, safety, rules))
    errors.extend(_check_fallbacks(fallbacks_path, styles, enabled, safety, rules))
    if not_questions is not None:
        errors.extend(_check_not_questions(not_questions, seen_questions))
    return errors


def _check_not_questions(path: Path, seen_questions: dict[str, str]) -> list[str]:
    """Chat lines teach the model what is not a question: one that is also a phrasing teaches both."""
    if not path.is_file():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as e:
        return [f"{path}: cannot read: {e}"]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        return [f"{path.name}: expected a list of strings"]
    errors, seen = [], set()
    for line in raw:
        key = _answer_key(line)
        if key in seen_questions:
            errors.append(f"{path.name}: {line!r} is also a phrasing of {seen_questions[key]}")
        if key in seen:
            errors.append(f"{path.name}: {line!r} is listed twice")
        seen.add(key)
    return errors


def _check_topics(topics_dir: Path, topics_used: set[str], styles: list[str], enabled: list[str],
                  safety: SafetyFilter, rules: Rules) -> list[str]:
    """Every topic with items has a file of answers that fit any of its questions: they name no relative."""
    errors: list[str] = []
    found = set()
    for path in sorted(topics_dir.glob("*.yaml")) if topics_dir.is_dir() else []:
        try:
            raw = read_topic_file(path)
        except (CorpusError, yaml.YAMLError, OSError, UnicodeDecodeError) as e:
            errors.append(f"{path}: cannot read: {e}")
            continue
        topic = raw.get("topic")
        where = f"topics/{path.name}"
        if topic not in TOPICS or topic != path.stem:
            errors.append(f"{where}: topic must be one of the topic ids and match the file name, got {topic!r}")
        found.add(topic)
        for style, texts in raw["answers"].items():
            if style not in styles:
                errors.append(f"{where}: unknown style {style!r}")
                continue
            for text in every_shape(shaped(texts)):
                errors.extend(_check_general(text, f"{where}: {style}", safety))
        errors.extend(_check_counts(where, raw["answers"], styles, enabled, rules.topic_answers_enabled,
                                    rules.topic_answers_other, rules.topic_answers_per_shape))
    if rules.topic_answers_enabled:
        errors.extend(f"topics/: no answers file for topic {t!r} ({t}.yaml)" for t in sorted(topics_used - found))
    return errors


def _strings(value: object) -> Iterable[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _check_fallbacks(path: Path, styles: list[str], enabled: list[str], safety: SafetyFilter,
                     rules: Rules) -> list[str]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as e:
        return [f"{path}: cannot read: {e}"]
    if not isinstance(raw, dict):
        return [f"{path}: expected a mapping from style id to a list of replies"]
    errors = [f"{path.name}: unknown style {s!r}" for s in raw if s not in styles]
    n = rules.fallbacks_enabled  # the enabled styles' fallbacks, per shape when split; the others may have none
    errors += _check_counts(path.name, raw, styles, enabled, n, 0, per_shape=n)
    for style, value in raw.items():
        for text in every_shape(shaped(value)):
            errors.extend(_check_general(text, f"{path.name}: {style}", safety))
    return errors


def _check_general(text: str, where: str, safety: SafetyFilter) -> list[str]:
    """A general reply (a topic's answers, the fallbacks) is said to any asker: no relative, no parents."""
    errors = _check_text(text, where, safety)
    if named := relatives_named(text):
        errors.append(f"{where}: names a relative ({'、'.join(sorted(named))}): {text!r}")
    if parent := parents_named(text):
        errors.append(f"{where}: speaks of the parents ({parent}), but the asker may be one: {text!r}")
    return errors
