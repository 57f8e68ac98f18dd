"""Turning a model's raw stream into an answer fit to send, one sentence at a time.

Text is released a whole sentence at a time, so nothing is sent before it has been checked: special
tokens and role markers are stripped, generator framing (“我会这样回答：”) and wrapping quotes dropped,
commentary about the answer cut off, the length capped at a sentence boundary, and every sentence
passes the safety filter before it goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.safety import SafetyFilter

_END = "。！？!?…～~"
_CLOSERS = "”’」』\"')）"
# A sentence: text up to a run of terminators and any closing quotes right after them, or a line.
_SENTENCE = re.compile(rf"[^{_END}\n]*[{_END}]+[{_CLOSERS}]*|[^\n]*\n")
_CLAUSE_END = "，,；;：:、"
# The model starting another turn means its answer is over.
_TURN_END = re.compile(r"<\|im_end\|>|<\|im_start\|>|<\|endoftext\|>|</s>|<eoa>")
_SPECIAL = re.compile(r"<\|[a-z_]{1,20}\|>|<s>|\[UNUSED_TOKEN_\d+\]|\ufffd")
_ROLE = re.compile(r"^\s*(?:assistant|Assistant|ASSISTANT|助手|我)\s*[:：\n]\s*")
_LEAD = re.compile(r"^(?:好的|嗯|当然)[，,。！!]\s*(?=我|可以|回答)")
_FRAMING = re.compile(
    r"^(?:我(?:可能|也许|大概|应该)?(?:会|可以|就)?[^，。！？：:“”\"\n]{0,10}?(?:回答|说|回应|回复)(?:道|他|她|对方|亲戚)?"
    r"|可以(?:这样)?(?:回答|说)|(?:回答|答|回复)(?:如下)?)\s*[:：]\s*")
_OPENERS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’"}
# A sentence about the answer rather than part of it ends the answer.
_COMMENTARY = re.compile(r"^(?:这样(?:的)?(?:回答|回复|说法|回应)?(?:既|不仅|可以|能够|能|一来|就)"
                         r"|这种(?:回答|回复|说法|方式|回应)|(?:注|备注|解释|说明)[:：]|（注)")
_STAGE = re.compile(r"[（(][^（）()]{1,12}[）)]")  # stage directions such as （笑）
_OUT_OF_CHARACTER = re.compile(r"(?:作为|我是)(?:一个|一名)?(?:AI|ai|人工智能|语言模型)")


@dataclass
class Shaper:
    """Feed raw model text in; get back sentences that may be sent.

    `stopped` turns true once no more text will be accepted (limit reached, end of turn, a rejected
    sentence): the caller can stop the model. `problem` says why a sentence was rejected; when
    nothing was accepted (`text` empty) the answer failed and a curated one should go out instead.
    """

    max_chars: int
    safety: SafetyFilter | None = None
    text: str = ""
    stopped: bool = False
    problem: str | None = None
    _raw: str = ""
    _quote: str | None = None  # closing quote owed when the answer came wrapped in quotes
    _started: bool = False
    _fixes: list[str] = field(default_factory=list)

    def feed(self, delta: str) -> list[str]:
        """Sentences completed by this piece of raw text, cleaned and accepted."""
        if self.stopped:
            return []
        self._raw += delta
        # A turn marker before any answer text is the model opening its own turn, not ending it.
        if m := _TURN_END.search(self._raw, 0 if self._started else 1):
            self._raw = self._raw[:m.start()]
            return self._drain(final=True)
        return self._drain(final=False)

    def finish(self) -> list[str]:
        """The model is done: whatever remains, cleaned and accepted."""
        return [] if self.stopped else self._drain(final=True)

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        pos = 0
        for m in _SENTENCE.finditer(self._raw):
            if self.stopped or (not final and m.end() == len(self._raw)):
                break  # more terminators or a closing quote may still follow
            pos = m.end()
            if piece := self._accept(m.group()):
                out.append(piece)
        rest, self._raw = self._raw[pos:], ""
        if not self.stopped:
            if final:
                if piece := self._accept(rest):
                    out.append(piece)
                self.stopped = True
            else:
                self._raw = rest
        return out

    def _accept(self, sentence: str) -> str:
        sentence = _SPECIAL.sub("", sentence)
        if not self._started:
            sentence = self._strip_opening(sentence)
        sentence = sentence.replace("\n", "").strip()
        sentence = _STAGE.sub("", sentence).strip()
        if not sentence:
            return ""
        if self._quote and self._quote in sentence:
            # The wrapped answer closes here; what follows the quote talks about it.
            sentence = sentence[:sentence.index(self._quote)].strip()
            self._stop("closing quote")
            if not sentence:
                return ""
        if _COMMENTARY.match(sentence):
            return self._stop("commentary")
        if _OUT_OF_CHARACTER.search(sentence):
            return self._stop("out of character")
        if self.safety and (word := self.safety.first_hit(self.text + sentence)):
            return self._stop(f"banned word {word!r}")
        room = self.max_chars - len(self.text)
        if len(sentence) > room:
            if self.text:  # the answer so far already ends at a sentence boundary
                return self._stop("length")
            sentence = _cut(sentence, self.max_chars)
            self.stopped = True
        self.text += sentence
        return sentence

    def _strip_opening(self, sentence: str) -> str:
        for pattern in (_ROLE, _LEAD, _FRAMING):
            sentence = pattern.sub("", sentence.lstrip(), count=1)
        sentence = sentence.replace("\n", "").strip()
        if sentence[:1] in _OPENERS:
            self._quote = _OPENERS[sentence[0]]
            sentence = sentence[1:].strip()
        if sentence:
            self._started = True
        return sentence

    def _stop(self, why: str) -> str:
        self.stopped, self.problem = True, why
        return ""


def _cut(sentence: str, limit: int) -> str:
    """One over-long sentence cut at its last clause boundary within the limit, else hard with …"""
    head = sentence[:limit]
    cut = max(head.rfind(c) for c in _CLAUSE_END)
    if cut >= limit // 3:
        return head[:cut] + "…"
    return head[:limit - 1] + "…"


def shape(raw: str, max_chars: int, safety: SafetyFilter | None = None) -> tuple[str, str | None]:
    """A whole raw reply at once: (answer text, problem or None)."""
    s = Shaper(max_chars, safety)
    s.feed(raw)
    s.finish()
    return s.text, s.problem
