"""SQLite state: answer records (what buttons point to), chat settings, rate-limit buckets, daily marks.

One embedded file at `state.path`, so buttons keep working across restarts. Every call is a single short
statement (well under a millisecond in WAL mode), so it runs on the event loop without a thread hop.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    chat TEXT NOT NULL,            -- platform:chat
    message_id TEXT,               -- the platform message that shows this answer (set by sent())
    question TEXT NOT NULL,
    style TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'zh',
    shown TEXT NOT NULL DEFAULT '{}',    -- {style: [answer ids already shown]}
    context TEXT NOT NULL DEFAULT '[]',  -- earlier [question, answer] turns of a follow-up
    truncated INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    topic TEXT                     -- the topic the engine understood (a follow-up leans to it)
);
CREATE INDEX IF NOT EXISTS records_by_message ON records (chat, message_id);
CREATE INDEX IF NOT EXISTS records_by_age ON records (updated);
CREATE TABLE IF NOT EXISTS chats (
    chat TEXT PRIMARY KEY,
    default_style TEXT,
    approved INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,  -- the one polite refusal was sent
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS daily (
    chat TEXT NOT NULL,
    what TEXT NOT NULL,            -- e.g. "hint": the line saying how to switch style without buttons
    day TEXT NOT NULL,             -- the local date it was last done in this chat
    ts REAL NOT NULL,
    PRIMARY KEY (chat, what)
);
CREATE TABLE IF NOT EXISTS buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    ts REAL NOT NULL,
    noticed INTEGER NOT NULL DEFAULT 0   -- the "too fast" notice went out for this empty bucket
);
"""


_RECORD_COLUMNS = "id, chat, message_id, question, style, text, lang, shown, context, truncated, topic"


@dataclass
class Record:
    """One answer on screen: what its buttons refer to."""

    id: str
    chat: str
    question: str
    style: str
    text: str
    lang: str = "zh"
    shown: dict[str, list[str]] = field(default_factory=dict)
    context: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False
    message_id: str | None = None
    topic: str | None = None  # what the engine understood the question to be about


@dataclass(frozen=True)
class ChatSettings:
    default_style: str | None = None
    approved: bool = False
    refused: bool = False


@dataclass(frozen=True)
class Take:
    """The result of taking one token from a rate-limit bucket."""

    ok: bool
    wait_s: float = 0.0
    notify: bool = False  # first refusal since the bucket ran dry: tell the user once


class Store:
    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path, self.clock = str(path), clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process, fast
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(records)")}
        if "topic" not in columns:  # a state file from before topics were kept
            self.db.execute("ALTER TABLE records ADD COLUMN topic TEXT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several statements as one commit: all or nothing across a crash, and one commit's cost."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- answer records ---------------------------------------------------------------------------
    def save_record(self, r: Record) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO records (id, chat, message_id, question, style, text, lang, shown,"
            " context, truncated, updated, topic) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                r.id,
                r.chat,
                r.message_id,
                r.question,
                r.style,
                r.text,
                r.lang,
                json.dumps(r.shown, ensure_ascii=False),
                json.dumps(r.context, ensure_ascii=False),
                int(r.truncated),
                self.clock(),
                r.topic,
            ),
        )

    def record(self, record_id: str) -> Record | None:
        row = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE id = ?", (record_id,)).fetchone()
        return self._record(row) if row else None

    def record_for_message(self, chat: str, message_id: str) -> Record | None:
        row = self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE chat = ? AND message_id = ? ORDER BY updated DESC",
            (chat, message_id),
        ).fetchone()
        return self._record(row) if row else None

    def recent_topic(self, chat: str, since: float) -> str | None:
        """The topic of the chat's latest answer updated after `since` (epoch seconds), if any."""
        row = self.db.execute(
            "SELECT topic FROM records WHERE chat = ? AND updated >= ? AND topic IS NOT NULL"
            " ORDER BY updated DESC LIMIT 1", (chat, since)).fetchone()
        return row[0] if row else None

    def set_message(self, record_id: str, message_id: str) -> None:
        self.db.execute("UPDATE records SET message_id = ? WHERE id = ?", (message_id, record_id))

    def _record(self, row: tuple) -> Record:
        (rid, chat, message_id, question, style, text, lang, shown, context, truncated, topic) = row
        return Record(
            rid,
            chat,
            question,
            style,
            text,
            lang,
            json.loads(shown),
            [tuple(turn) for turn in json.loads(context)],
            bool(truncated),
            message_id,
            topic,
        )

    # -- chat settings ----------------------------------------------------------------------------
    def chat(self, chat: str) -> ChatSettings:
        row = self.db.execute(
            "SELECT default_style, approved, refused FROM chats WHERE chat = ?", (chat,)
        ).fetchone()
        return ChatSettings(row[0], bool(row[1]), bool(row[2])) if row else ChatSettings()

    def _upsert_chat(self, chat: str, column: str, value: object) -> None:
        self.db.execute(
            f"INSERT INTO chats (chat, {column}, updated) VALUES (?, ?, ?) "
            f"ON CONFLICT(chat) DO UPDATE SET {column} = excluded.{column}, "
            "updated = excluded.updated",
            (chat, value, self.clock()),
        )

    def set_default_style(self, chat: str, style: str) -> None:
        self._upsert_chat(chat, "default_style", style)

    def set_approved(self, chat: str, approved: bool) -> None:
        self._upsert_chat(chat, "approved", int(approved))
        self._upsert_chat(chat, "refused", int(not approved))  # after /revoke: silence, no new refusal

    def claim_refusal(self, chat: str) -> bool:
        """True exactly once per chat: whether to send the polite refusal now."""
        before = self.db.total_changes
        self.db.execute(
            "INSERT INTO chats (chat, refused, updated) VALUES (?, 1, ?) "
            "ON CONFLICT(chat) DO UPDATE SET refused = 1, updated = excluded.updated "
            "WHERE chats.refused = 0",
            (chat, self.clock()),
        )
        return self.db.total_changes > before

    def claim_daily(self, chat: str, what: str, day: str) -> bool:
        """True the first time `what` is claimed for `chat` on `day` (a local date), False after that."""
        before = self.db.total_changes
        self.db.execute(
            "INSERT INTO daily (chat, what, day, ts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(chat, what) DO UPDATE SET day = excluded.day, ts = excluded.ts "
            "WHERE daily.day != excluded.day",
            (chat, what, day, self.clock()),
        )
        return self.db.total_changes > before

    # -- rate-limit buckets -----------------------------------------------------------------------
    def take(self, key: str, per_minute: int) -> Take:
        """Take a token from a bucket of `per_minute` tokens that refills continuously."""
        now, rate = self.clock(), per_minute / 60.0
        row = self.db.execute("SELECT tokens, ts, noticed FROM buckets WHERE key = ?", (key,)).fetchone()
        tokens, noticed = (
            (float(per_minute), 0)
            if row is None
            else (min(float(per_minute), row[0] + (now - row[1]) * rate), row[2])
        )
        if tokens >= 1:
            self._put_bucket(key, tokens - 1, now, 0)
            return Take(True)
        self._put_bucket(key, tokens, now, 1)
        return Take(False, (1 - tokens) / rate, notify=not noticed)

    def _put_bucket(self, key: str, tokens: float, ts: float, noticed: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO buckets (key, tokens, ts, noticed) VALUES (?,?,?,?)",
            (key, tokens, ts, noticed),
        )

    # -- retention --------------------------------------------------------------------------------
    def prune(self, retention_s: float) -> int:
        """Delete answer records untouched for `retention_s` and idle buckets; the number of records gone."""
        now = self.clock()
        gone = self.db.execute("DELETE FROM records WHERE updated < ?", (now - retention_s,)).rowcount
        self.db.execute("DELETE FROM buckets WHERE ts < ?", (now - 3600,))  # refilled long ago: same as new
        self.db.execute("DELETE FROM daily WHERE ts < ?", (now - 2 * 86400,))  # yesterday's is done with
        # Chats that never chose anything: only the refusal flag, which may be sent again after this long.
        self.db.execute(
            "DELETE FROM chats WHERE approved = 0 AND default_style IS NULL AND updated < ?",
            (now - retention_s,),
        )
        return gone

    def close(self) -> None:
        self.db.close()
