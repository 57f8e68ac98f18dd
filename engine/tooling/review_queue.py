"""The review queue: candidates waiting for a person, one JSON object per line.

Every decision rewrites the file at once (atomically), so a review can stop anywhere and resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

STATUSES = ("pending", "accepted", "rejected")


@dataclass
class Candidate:
    id: str
    kind: str  # "questions" | "answers"
    item: str  # the corpus item it extends
    topic: str
    style: str | None  # answers only
    text: str
    status: str = "pending"
    note: str = ""  # for the reviewer, e.g. which item retrieval would pick instead
    created: str = ""
    decided: str = ""
    original: str = ""  # the model's text, when the reviewer edited it

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def new_candidate(kind: str, item: str, topic: str, style: str | None, text: str) -> Candidate:
    digest = hashlib.sha1("\x1f".join((kind, item, style or "", text)).encode()).hexdigest()[:10]
    return Candidate(digest, kind, item, topic, style, text,
                     created=datetime.now(UTC).isoformat(timespec="seconds"))


def load_queue(path: Path) -> list[Candidate]:
    """All candidates in the file (none if it does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return []
    names = {f.name for f in fields(Candidate)}
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(Candidate(**{k: v for k, v in raw.items() if k in names}))
        except (json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"{path}:{n}: not a queue entry: {e}") from None
    return out


def save_queue(path: Path, candidates: list[Candidate]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(c.to_json() + "\n" for c in candidates)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_queue(path: Path, candidates: list[Candidate]) -> int:
    """Add candidates not already queued (by id); how many were added."""
    queue = load_queue(path)
    known = {c.id for c in queue}
    new = [c for c in candidates if c.id not in known]
    save_queue(path, queue + new)
    return len(new)
