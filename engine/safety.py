"""A small word-list safety filter: answers containing slurs or profanity never go out."""

from __future__ import annotations

from pathlib import Path


class SafetyFilter:
    def __init__(self, words: list[str]):
        self.words = [w.lower() for w in words if w]

    @classmethod
    def from_file(cls, path: Path) -> SafetyFilter:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls([ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()])

    def first_hit(self, text: str) -> str | None:
        """The first banned word found in text (spaces ignored, case-insensitive), or None."""
        flat = "".join(text.split()).lower()
        return next((w for w in self.words if w in flat), None)

    def is_safe(self, text: str) -> bool:
        return self.first_hit(text) is None
