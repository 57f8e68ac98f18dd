"""Discord messages and users as the bot layer's neutral types."""

from __future__ import annotations

import re

import discord

from bot.types import IncomingMessage, User

_LEADING_MENTION = re.compile(r"^\s*<@!?(\d+)>\s*(?=/)")
ANSWERED_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def chat_key(channel: object, channel_id: int | None = None) -> str:
    """The chat the bot layer keys settings, approval and limits by: the channel (a thread's parent)."""
    if isinstance(channel, discord.Thread) and channel.parent_id:
        return str(channel.parent_id)
    return str(getattr(channel, "id", None) or channel_id)


def to_user(user: discord.abc.User, locale: str | None = None) -> User:
    """`locale` is the client's language, known for interactions only (messages: Chinese)."""
    return User(id=str(user.id), name=user.display_name, lang=locale or "zh", is_bot=user.bot)


def mentions_bot(message: discord.Message, me: discord.abc.User) -> bool:
    """The bot itself, or its own managed role, is mentioned."""
    if any(u.id == me.id for u in message.mentions):
        return True
    return any(r.tags is not None and r.tags.bot_id == me.id for r in message.role_mentions)


def to_incoming(message: discord.Message, me: discord.abc.User) -> IncomingMessage | None:
    """The message for the bot layer; None when never for us (ours, other bots', system messages)."""
    if message.author.id == me.id or message.author.bot or message.webhook_id is not None:
        return None
    if message.type not in ANSWERED_TYPES or not message.content:
        return None  # without the message-content intent, content is empty unless we are mentioned
    mentioned = mentions_bot(message, me)
    ref = message.reference.resolved if message.reference else None
    replied = ref if isinstance(ref, discord.Message) else None
    return IncomingMessage(
        platform="discord",
        chat=chat_key(message.channel),
        message_id=str(message.id),
        user=to_user(message.author),
        text=_command_after_mention(_as_user_mention(message, me), me) if mentioned else message.content,
        is_private=message.guild is None,
        mentions_bot=mentioned,
        reply_to_text=(replied.content or None) if replied else None,
        reply_to_bot=bool(replied and replied.author.id == me.id),
        reply_to_message_id=str(replied.id) if replied else None,
        raw=message,
    )


def _as_user_mention(message: discord.Message, me: discord.abc.User) -> str:
    """The content with the bot's role mention written as a bot mention (which the bot layer strips)."""
    text = message.content
    for role in message.role_mentions:
        if role.tags is not None and role.tags.bot_id == me.id:
            text = text.replace(f"<@&{role.id}>", f"<@{me.id}>")
    return text


def _command_after_mention(text: str, me: discord.abc.User) -> str:
    """`@bot /sarcastic …` is the command `/sarcastic …` (the bot layer reads commands at the start)."""
    m = _LEADING_MENTION.match(text)
    return text[m.end() :] if m and int(m.group(1)) == me.id else text
