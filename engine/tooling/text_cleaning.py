"""Cleaning generated text (imported rows, LLM candidates) into corpus-ready answers or questions.

The cleaners repair what can be repaired: generator framing, commentary after the answer, wrapping
quotes, slash alternatives. Whether the result may enter the corpus is decided by the rules of
`springfest data check` (engine.tooling.corpus_check), never by a second copy of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.safety import SafetyFilter
from engine.tooling.corpus_check import ANSWER_CHARS, banned_reason

QUESTION_CHARS = (4, 80)
_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’", "'": "'"}
_SENTENCE_END = "。！？!?～~…"

# “我可能会微笑着回答：”, “我可以说：”, “可以这样回答：”, “回答：” — the answer follows the colon.
_FRAMING = re.compile(
    r"(?:我(?:可能|也许|大概|应该)?(?:会|可以|就)?[^，。！？：:“”\"]{0,8}?(?:回答|说|回应|回复)"
    r"|可以(?:这样)?(?:回答|说)|^(?:回答|答|回复))\s*[:：]\s*")
# A sentence that talks about the answer instead of being part of it.
_COMMENTARY = re.compile(
    r"这样(?:的)?(?:回答|回复|说法|回应)?(?:既|不仅|可以|能够|能|一来)"
    r"|这种(?:回答|回复|说法|方式|回应)"
    r"|(?:转移话题|幽默|委婉|反问)(?:也)?是(?:一种|一个)")
_PAREN_COMMENTARY = re.compile(r"[（(][^（）()]*(?:回答|话题|策略|尴尬|隐私|幽默感)[^（）()]*[）)]\s*$")
# Slash or bracket alternatives left for the reader to pick: keep the first one.
# Equal-length alternatives are only resolved when the second one visibly ends (小帅哥/小美女是… stays,
# and is dropped by the placeholder rule, rather than becoming 小帅哥女是…).
_ALTERNATIVES = [
    (re.compile(r"([他她它])/[他她它]"), r"\1"),
    (re.compile(r"([男女])/[男女]"), r"\1"),
    *[(re.compile(rf"([\u4e00-\u9fff]{{{n}}})/[\u4e00-\u9fff]{{{n}}}(?![\u4e00-\u9fff])"), r"\1")
      for n in (4, 3, 2, 1)],
    (re.compile(r"([\u4e00-\u9fff]{2})/[\u4e00-\u9fff]{2}(?=[中上里的])"), r"\1"),
    (re.compile(r"([\u4e00-\u9fff]{2})[（(][\u4e00-\u9fff]{2}[）)]"), r"\1"),
]
# Tail sentences that carry no content; dropped only when the answer is too long.
_FILLER = re.compile(r"^(?:[哈嘿嘻呵]{2,}|您说(?:是不是|对吧|呢|是吧|对不对)|对吧|是吧|不急不急|慢慢来)?"
                     r"[，,。！？!?～~…\s]*$")
# Openers such as 哦，这个问题啊， that carry no content; dropped only when the answer is too long.
_OPENER = re.compile(r"^(?:[哦哎啊嗯哈呀]{1,2}|哈哈|哎呀|嘿嘿)?[，,、]?"
                     r"(?:这个问题|这个话题|这个|这事儿?)(?:啊|嘛|呀|呢|吧)?[，,]")
_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\ufe0f\ufffd]+")


@dataclass
class Cleaned:
    text: str | None  # None: dropped
    fixes: list[str] = field(default_factory=list)  # what was repaired, e.g. "wrapping quotes"
    reason: str | None = None  # why it was dropped


def _strip_wrapping_quotes(text: str) -> str:
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        inner = text[1:-1]
        if text[0] not in inner and text[-1] not in inner:
            return inner.strip()
    return text


def _quoted_prefix(text: str) -> tuple[str, str] | None:
    """(quoted part, rest) when text opens with a quote that closes later."""
    close = _QUOTES.get(text[:1])
    if not close:
        return None
    end = text.find(close, 1)
    return (text[1:end].strip(), text[end + 1:].strip()) if end > 0 else None


def _cut_commentary(text: str) -> str:
    """Cut from the first sentence that comments on the answer; only at a sentence start."""
    for m in _COMMENTARY.finditer(text):
        start = m.start()
        if start > 0 and (text[start - 1] in _SENTENCE_END or text[start - 1] in "”」』\"' "):
            return text[:start].strip()
    return text


def _sentences(text: str) -> list[str]:
    return [s for s in re.findall(rf"[^{_SENTENCE_END}]*[{_SENTENCE_END}]*", text) if s]


def _trim_filler(text: str, limit: int) -> str:
    parts = _sentences(_EMOJI.sub("", text).strip())
    while len("".join(parts)) > limit and len(parts) > 1 and _FILLER.match(parts[-1].strip()):
        parts.pop()
    text = "".join(parts).strip()
    return _OPENER.sub("", text, count=1) if len(text) > limit else text


def repair(raw: str) -> tuple[str, list[str]]:
    """The text with generator leftovers removed, and the names of the repairs made."""
    fixes: list[str] = []
    text = re.sub(r"\s*\n\s*", "", str(raw)).strip()
    text = re.sub(r"\[\]|（）|\(\)", "", text).strip()  # emptied placeholders
    if (cut := _PAREN_COMMENTARY.sub("", text).strip()) != text:
        text, fixes = cut, [*fixes, "trailing commentary"]
    if m := _FRAMING.search(text):
        text = text[m.end():].strip()
        fixes.append("generator framing")
        if quoted := _quoted_prefix(text):
            text, rest = quoted
            if rest:
                fixes.append("trailing commentary")
    if (cut := _cut_commentary(text)) != text:
        text = cut
        fixes.append("trailing commentary")
    if text[-1:] in "）)" and not re.search(r"[（(]", text):  # the closer of a cut-off comment
        text = text[:-1].strip()
    if (unq := _strip_wrapping_quotes(text)) != text:
        text = unq
        fixes.append("wrapping quotes")
    for pattern, repl in _ALTERNATIVES:
        if (new := pattern.sub(repl, text)) != text:
            text = new
            if "slash placeholder" not in fixes:
                fixes.append("slash placeholder")
    return text.strip(), fixes


def clean_answer(raw: str, safety: SafetyFilter | None = None) -> Cleaned:
    """Repair one generated answer, or drop it with the data-check rule it breaks."""
    text, fixes = repair(raw)
    lo, hi = ANSWER_CHARS
    if len(text) > hi and (short := _trim_filler(text, hi)) != text and len(short) >= lo:
        text, fixes = short, [*fixes, "filler trimmed"]
    return _verdict(text, fixes, (lo, hi), safety)


def clean_question(raw: str, safety: SafetyFilter | None = None) -> Cleaned:
    """Repair one generated question phrasing, or drop it."""
    text, fixes = repair(raw)
    return _verdict(text, fixes, QUESTION_CHARS, safety)


def _verdict(text: str, fixes: list[str], bounds: tuple[int, int], safety: SafetyFilter | None) -> Cleaned:
    lo, hi = bounds
    if not text:
        return Cleaned(None, fixes, "empty")
    if reason := banned_reason(text):
        return Cleaned(None, fixes, reason)
    if len(text) > hi:
        return Cleaned(None, fixes, f"too long (over {hi} characters)")
    if len(text) < lo:
        return Cleaned(None, fixes, f"too short (under {lo} characters)")
    if safety and (word := safety.first_hit(text)):
        return Cleaned(None, fixes, f"banned word {word!r}")
    return Cleaned(text, fixes)


def dedup_key(text: str) -> str:
    """The key under which `data check` calls two texts duplicates: letters and digits only."""
    return re.sub(r"\W", "", text)


def rule_problem(text: str, kind: str, safety: SafetyFilter | None = None) -> str | None:
    """Why `text` (as it stands, no repairs) may not enter the corpus as a question or answer."""
    bounds = QUESTION_CHARS if kind == "questions" else ANSWER_CHARS
    return _verdict(text.strip(), [], bounds, safety).reason
