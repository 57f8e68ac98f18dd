"""Splitting long replies for platforms with a per-message limit: never truncate, cut where it reads well."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space near the end when there is one."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", limit * 3 // 4, limit), text.rfind(" ", limit * 3 // 4, limit))
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    return [*pieces, text] if text or not pieces else pieces
