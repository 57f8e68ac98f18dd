"""Button payloads: short ids only, packed into at most 64 bytes (Telegram's callback_data limit).

A payload is `s:<record>:<style>` (answer this record's question in another style) or `a:<record>`
(another answer in the record's current style). What a record id points to lives in the store.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

MAX_BYTES = 64
_ALPHABET = string.ascii_lowercase + string.digits
_RECORD = r"[a-z0-9]{10}"
_PATTERN = re.compile(rf"(?:(s):({_RECORD}):([a-z0-9_]{{1,32}})|(a):({_RECORD}))")


def new_record_id() -> str:
    """A random 10-character id (~52 bits): unguessable, so a forged payload finds no record."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class Action:
    kind: str  # "style" | "another"
    record_id: str
    style: str | None = None

    def pack(self) -> str:
        data = f"s:{self.record_id}:{self.style}" if self.kind == "style" else f"a:{self.record_id}"
        if len(data.encode()) > MAX_BYTES or unpack(data) != self:
            raise ValueError(f"cannot pack {self!r} into a button payload")
        return data


def unpack(data: str | None) -> Action | None:
    """The action a payload names, or None for anything this bot did not produce."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    m = _PATTERN.fullmatch(data)
    if not m:
        return None
    if m.group(1):
        return Action("style", m.group(2), m.group(3))
    return Action("another", m.group(5))
