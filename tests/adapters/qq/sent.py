"""`Sent`: what a message the bot sends should look like, for NoneBug's `should_call_api` data.

NoneBug compares an API call's data with the expected dict by `==`, so an expected `message` may be an
object that checks the shape (a reply segment first, one text among the allowed ones, the hint or not, no
segment but reply and text) and keeps what it saw. Answers are drawn at random from the corpus, so a test
names the answers allowed rather than one."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

HINT = "💡 回复本条"


class Sent:
    def __init__(self, *, reply_to: int | str | None = None, texts: Collection[str] | None = None,
                 contains: str | None = None, hint: bool | None = False) -> None:
        self.reply_to = None if reply_to is None else str(reply_to)
        self.texts, self.contains, self.hint = texts, contains, hint
        self.seen: Any = None
        self.why = ""

    def __eq__(self, message: object) -> bool:
        self.seen = message
        self.why = self._mismatch(message)
        return not self.why

    __hash__ = None  # type: ignore[assignment]

    @property
    def text(self) -> str:
        """The answer text of the message seen (the hint line not included)."""
        return self._parts(self.seen)[0]

    def _parts(self, message: Any) -> tuple[str, str | None]:
        texts = [s.data["text"] for s in message if s.type == "text"]
        hint = texts[-1].strip() if len(texts) > 1 else None
        return (texts[0] if texts else ""), hint

    def _mismatch(self, message: Any) -> str:
        segments = list(message)
        kinds = [s.type for s in segments]
        if any(kind not in ("reply", "text") for kind in kinds):
            return f"segments other than reply and text: {kinds}"
        quoted = [s.data["id"] for s in segments if s.type == "reply"]
        if quoted != ([self.reply_to] if self.reply_to else []):
            return f"quotes {quoted}, not {self.reply_to}"
        if kinds.index("text") != len(quoted):
            return "the reply segment is not first"
        text, hint = self._parts(segments)
        if self.texts is not None and text not in self.texts:
            return f"text {text!r} is none of the allowed"
        if self.contains is not None and self.contains not in text:
            return f"text {text!r} lacks {self.contains!r}"
        if self.hint is not None and bool(hint and hint.startswith(HINT)) != self.hint:
            return f"hint {hint!r}, wanted {'one' if self.hint else 'none'}"
        return ""

    def __repr__(self) -> str:
        why = f": {self.why}" if self.why else ""
        return f"Sent(reply_to={self.reply_to}, texts={self.texts}, hint={self.hint}){why}"
