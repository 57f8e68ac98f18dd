"""What an incoming message asks of the bot: a command, a question, a follow-up, or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.types import IncomingMessage

# "/cmd", "/cmd@SomeBot", "/cmd argument text"; the argument may span lines.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)
# @username mentions and Discord's <@123> / <@!123> mentions.
_MENTION = re.compile(r"<@!?\d+>|(?<![\w.])@[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Trigger:
    kind: str  # "command" | "ask" | "followup" | "ignore"
    command: str = ""
    arg: str = ""  # the command's argument or the question text


IGNORE = Trigger("ignore")


def without_mentions(text: str) -> str:
    return _MENTION.sub(" ", text).strip()


def classify(msg: IncomingMessage) -> Trigger:
    """Decide what a message wants; anything not addressed to the bot is ignored."""
    if msg.user.is_bot or msg.edited:  # edits would answer twice; other bots could loop with us
        return IGNORE
    text = (msg.text or "").strip()
    if msg.command is not None:  # structured by the platform: never parsed out of the text
        return Trigger("command", msg.command.lower(), text)
    m = _COMMAND.match(text)
    if m:
        return Trigger("command", m.group(1).lower(), (m.group(2) or "").strip())
    if msg.reply_to_bot:
        return Trigger("followup", arg=text)
    if msg.mentions_bot or msg.is_private:
        return Trigger("ask", arg=text)
    return IGNORE
