"""What an incoming message asks of the bot: a command, a question, a follow-up, or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.types import IncomingMessage

# "/cmd", "/cmd@SomeBot", "/cmd argument text"; the argument may span lines.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)
# @username mentions and Discord's <@123> / <@!123> mentions.
_MENTION = re.compile(r"<@!?\d+>|(?<![\w.])@[A-Za-z0-9_]+")

# Chinese names for commands, as QQ users type them ("/阴阳", "/委婉 你工资多少"). Chinese has no spaces, so
# the longer names come first: "/委婉认真" is the tactful command, not "/委婉" asking "认真".
ALIASES: dict[str, str] = {
    "委婉认真": "tactful", "委婉": "tactful",
    "转换话题": "deflect", "转移": "deflect",
    "阴阳怪气": "sarcastic", "阴阳": "sarcastic",
    "诙谐幽默": "humorous", "幽默": "humorous",
    "故作深沉": "mysterious", "深沉": "mysterious",
    "换一个": "another", "帮助": "help",
}
_ALIAS = re.compile(r"^/?(" + "|".join(sorted(ALIASES, key=len, reverse=True)) + r")(.*)$", re.S)


@dataclass(frozen=True)
class Trigger:
    kind: str  # "command" | "ask" | "followup" | "ignore"
    command: str = ""
    arg: str = ""  # the command's argument or the question text


IGNORE = Trigger("ignore")


def without_mentions(text: str) -> str:
    return _MENTION.sub(" ", text).strip()


def alias_of(command: str) -> str:
    """The shortest Chinese name of a command (the command itself when it has none), for hints."""
    names = [name for name, target in ALIASES.items() if target == command]
    return min(names, key=len) if names else command


def _command(text: str, *, bare: bool) -> Trigger | None:
    """The command `text` is: "/cmd arg", "/阴阳 arg", or (when `bare`) the alias alone, "换一个"."""
    m = _COMMAND.match(text)
    if m:
        return Trigger("command", m.group(1).lower(), (m.group(2) or "").strip())
    m = _ALIAS.match(text)
    if m and (text.startswith("/") or (bare and not m.group(2).strip())):
        return Trigger("command", ALIASES[m.group(1)], m.group(2).strip())
    return None


def classify(msg: IncomingMessage) -> Trigger:
    """Decide what a message wants; anything not addressed to the bot is ignored."""
    if msg.user.is_bot or msg.edited:  # edits would answer twice; other bots could loop with us
        return IGNORE
    text = (msg.text or "").strip()
    if msg.command is not None:  # structured by the platform: never parsed out of the text
        return Trigger("command", msg.command.lower(), text)
    # A bare "换一个" or "阴阳" counts only as a reply to the bot's own answer: elsewhere it is just chat.
    command = _command(text, bare=msg.reply_to_bot)
    if command:
        return command
    if msg.reply_to_bot:
        return Trigger("followup", arg=text)
    if msg.mentions_bot or msg.is_private:
        return Trigger("ask", arg=text)
    return IGNORE
