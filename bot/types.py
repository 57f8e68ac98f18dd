"""Neutral types between adapters and the bot. Adapters translate platform events into these and back;
all policy (triggers, styles, buttons, access, limits) lives in bot/."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""
    lang: str = "zh"  # "en" for users whose client language is English
    is_bot: bool = False


@dataclass(frozen=True)
class IncomingMessage:
    platform: str  # "telegram" | "discord" | "web" | "onebot" | "qqbot"
    chat: str
    message_id: str
    user: User
    text: str
    is_private: bool
    mentions_bot: bool = False
    reply_to_text: str | None = None  # text of the message this one replies to
    reply_to_bot: bool = False  # ...and whether that message is the bot's own
    reply_to_message_id: str | None = None
    edited: bool = False
    # A command the platform hands over structured (a slash command, a page's style button): its name
    # without "/", and `text` is then its argument, taken as it is. None: `text` is what the user typed,
    # and a leading "/cmd" in it is read as a command (Telegram, a typed command anywhere).
    command: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)  # the platform's object, for adapters only


@dataclass(frozen=True)
class ButtonPress:
    platform: str
    chat: str
    user: User
    message_id: str  # the message the button sits on
    data: str = ""  # the payload of the pressed Button, passed back untouched (BotApp.restyle/another: none)
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Regenerate:
    """Answer the question of an answer on screen again, where the platform has no buttons (a reaction on it).

    `message_id` is the message showing the answer; `style` None means another answer in the same style."""

    platform: str
    chat: str
    user: User
    message_id: str
    style: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # packed payload, ids only
    selected: bool = False


@dataclass(frozen=True)
class Reply:
    """What the bot wants shown. A stream of these carries the full text so far, not deltas.

    The adapter sends the first, edits the same message with later ones (throttled), and attaches
    `buttons` when `done`. `notice` is a short toast for a button press (or a one-line note to send).
    `record_id` names the answer record the buttons refer to; the adapter reports the id of the platform
    message carrying them back with BotApp.sent() once it exists.
    """

    text: str
    done: bool = True
    buttons: tuple[tuple[Button, ...], ...] = ()
    notice: str | None = None
    record_id: str | None = None
    source: str | None = None  # curated | generated | fallback, for front ends that show it
    matched: str | None = None  # the corpus question the answer matched
    replaces: str | None = None  # a new answer to an earlier one's question: the message showing that one
