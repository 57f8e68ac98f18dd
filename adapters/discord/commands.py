"""The application commands: one slash command per enabled style and /answer (each with a `question` option),
/style, /help, the owners' /approve and /revoke, and the message context menu 用 SpringFest 回复.

Each reaches the bot layer as a structured command (IncomingMessage.command, its option as the text), never
as a "/cmd text" string to parse back; descriptions are Chinese, with English for English clients (Discord
localisations).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.app import BotApp
from bot.texts import lang_of, t

log = logging.getLogger(__name__)
# A command as Discord still has it registered, not as this version defines it (the sync after an upgrade
# has not reached Discord yet, or a client sent an option without checking it): no bug of ours.
STALE = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch, app_commands.TransformerError)

CONTEXT_MENU = locale_str("用 SpringFest 回复", en="Reply with SpringFest")
QUESTION = locale_str("要回答的问题", en="the question to answer")
STYLE = locale_str("风格（不填则显示当前风格）", en="the style (leave empty to see the current one)")
OWNER_COMMANDS = {
    "approve": locale_str("（主人）在本频道开通机器人", en="(owners) let the bot answer in this channel"),
    "revoke": locale_str("（主人）在本频道关闭机器人", en="(owners) stop the bot answering in this channel"),
}
_REMARK = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")
ENGLISH = {discord.Locale.american_english, discord.Locale.british_english}

# (interaction, command name, its argument, the message the context menu was used on)
Handler = Callable[[discord.Interaction, str, str, discord.Message | None], Awaitable[None]]


class Translator(app_commands.Translator):
    """English names and descriptions for English clients; everything else stays Chinese."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: app_commands.TranslationContext
    ) -> str | None:
        return string.extras.get("en") if locale in ENGLISH else None


def build_commands(tree: app_commands.CommandTree, app: BotApp, handle: Handler) -> None:
    """Add every command to `tree` (the caller syncs it to Discord)."""
    english = dict(app.command_list("en"))
    for name, description in app.command_list("zh"):
        text = locale_str(_discord(description), en=_discord(english.get(name, description)))
        if name == "help":
            tree.add_command(_plain(name, text, handle))
        elif name == "style":
            tree.add_command(_style(text, app, handle))
        else:  # a style command or /answer
            tree.add_command(_ask(name, text, handle))
    for name, text in OWNER_COMMANDS.items():
        command = _plain(name, text, handle)
        command.default_permissions = discord.Permissions(manage_guild=True)
        tree.add_command(command)
    tree.add_command(_context_menu(handle))
    tree.on_error = lambda interaction, error: _on_error(tree, interaction, error)


async def _on_error(tree: app_commands.CommandTree, interaction: discord.Interaction,
                    error: app_commands.AppCommandError) -> None:
    """A stale command gets a warning and a short note to the one who used it; anything else is logged as
    discord.py logs it (an ERROR with the traceback)."""
    if not isinstance(error, STALE):
        await app_commands.CommandTree.on_error(tree, interaction, error)
        return
    name = (interaction.data or {}).get("name")
    log.warning("discord: command %r does not fit this version's commands (%s)", name, type(error).__name__)
    if interaction.type is discord.InteractionType.application_command and not interaction.response.is_done():
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(t(lang_of(str(interaction.locale)), "unknown_command"),
                                                    ephemeral=True)


def _discord(description: str) -> str:
    """Without the "(works as a reply)" remark: a slash command cannot be a reply (the context menu is)."""
    return _REMARK.sub("", description).strip()[:100] or description[:100]


def _ask(name: str, description: locale_str, handle: Handler) -> app_commands.Command:
    @app_commands.describe(question=QUESTION)
    async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000]) -> None:
        if not isinstance(question, str):  # discord.py passes an option of another type through unchecked
            raise app_commands.CommandSignatureMismatch(command)
        await handle(interaction, name, question, None)

    command = app_commands.Command(name=name, description=description, callback=ask)
    return command


def _style(description: locale_str, app: BotApp, handle: Handler) -> app_commands.Command:
    choices = [
        app_commands.Choice(
            name=locale_str(f"{s.emoji} {s.label_zh}", en=f"{s.emoji} {s.label_en}"), value=s.id
        )
        for s in app.styles.values()
    ]

    @app_commands.describe(style=STYLE)
    @app_commands.choices(style=choices)
    async def style(interaction: discord.Interaction, style: str | None = None) -> None:
        if style is not None and not isinstance(style, str):  # as in _ask
            raise app_commands.CommandSignatureMismatch(command)
        await handle(interaction, "style", style or "", None)

    command = app_commands.Command(name="style", description=description, callback=style)
    return command


def _plain(name: str, description: locale_str, handle: Handler) -> app_commands.Command:
    async def plain(interaction: discord.Interaction) -> None:
        await handle(interaction, name, "", None)

    return app_commands.Command(name=name, description=description, callback=plain)


def _context_menu(handle: Handler) -> app_commands.ContextMenu:
    async def reply_with(interaction: discord.Interaction, message: discord.Message) -> None:
        await handle(interaction, "answer", "", message)

    return app_commands.ContextMenu(name=CONTEXT_MENU, callback=reply_with)
