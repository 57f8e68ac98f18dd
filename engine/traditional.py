"""Traditional to simplified Chinese with OpenCC, built once per process."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # the official OpenCC binding: dictionaries ship inside the wheel, no download

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def is_traditional(text: str) -> bool:
    """True when OpenCC would change any character: the text uses traditional forms."""
    return to_simplified(text) != text
