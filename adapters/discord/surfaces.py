"""Where an answer is shown on Discord: a channel message replying to a mention, or an interaction's response.

An interaction must be answered within 3 s, once: `acknowledge` defers it, and a response Discord refuses
because the interaction was already acknowledged (error 40060, e.g. a retried request whose first attempt
did arrive) is carried on by editing the original response instead.
"""

from __future__ import annotations

import logging

import discord
from discord.utils import MISSING

from adapters.discord.limits import call

log = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = 40060


def already_acknowledged(e: Exception) -> bool:
    """Discord's 40060 (or discord.py's own check): this interaction has a response already."""
    if isinstance(e, discord.InteractionResponded):
        return True
    return isinstance(e, discord.HTTPException) and e.code == ALREADY_ACKNOWLEDGED


class ChannelSurface:
    """A reply in the channel, quoting the message that asked (without pinging its author)."""

    def __init__(self, channel: discord.abc.Messageable, reply_to: discord.Message | None) -> None:
        self.channel, self.reply_to = channel, reply_to
        self.channel_id: int = channel.id  # type: ignore[attr-defined]
        self.message: discord.Message | None = None

    async def show(self, text: str, view: discord.ui.View | None) -> str:
        if self.message is None:
            ref = self.reply_to.to_reference(fail_if_not_exists=False) if self.reply_to else None
            self.message = await call(
                lambda: self.channel.send(text, view=view or MISSING, reference=ref, mention_author=False),
                what="send message",
            )
        else:
            message = self.message
            await call(lambda: message.edit(content=text, view=view), what="edit message")
        return str(self.message.id)

    async def extra(self, text: str, view: discord.ui.View | None) -> str:
        message = await call(lambda: self.channel.send(text, view=view or MISSING), what="send message")
        return str(message.id)


class InteractionSurface:
    """The response to a slash command or context menu (a new message) or to a button press (the pressed
    message, edited in place)."""

    def __init__(self, interaction: discord.Interaction, *, press: bool) -> None:
        self.interaction, self.press = interaction, press
        self.channel_id: int = interaction.channel_id or 0
        self.message_id: str | None = None

    async def show(self, text: str, view: discord.ui.View | None) -> str:
        if self.message_id is None and not self.interaction.response.is_done():
            try:
                self.message_id = await self._respond(text, view)
                return self.message_id
            except discord.HTTPException as e:
                if not already_acknowledged(e):
                    raise
                log.warning(
                    "interaction %s was already acknowledged: editing its response", self.interaction.id
                )
        message = await call(
            lambda: self.interaction.edit_original_response(content=text, view=view),
            what="edit interaction response",
        )
        self.message_id = str(message.id)
        return self.message_id

    async def _respond(self, text: str, view: discord.ui.View | None) -> str:
        response = self.interaction.response
        if self.press:
            await call(lambda: response.edit_message(content=text, view=view), what="interaction response")
            return str(self.interaction.message.id)  # type: ignore[union-attr]
        sent = await call(
            lambda: response.send_message(text, view=view or MISSING), what="interaction response"
        )
        if sent.message_id is not None:
            return str(sent.message_id)
        return str((await self.interaction.original_response()).id)

    async def extra(self, text: str, view: discord.ui.View | None) -> str:
        message = await call(
            lambda: self.interaction.followup.send(text, view=view or MISSING, wait=True),
            what="follow-up message",
        )
        return str(message.id)


async def acknowledge(interaction: discord.Interaction, *, press: bool, ephemeral: bool = False) -> None:
    """Defer: a press keeps its message as it is for now, a command shows "thinking…"."""
    if interaction.response.is_done():
        return
    try:
        await call(lambda: interaction.response.defer(thinking=not press, ephemeral=ephemeral), what="defer")
    except discord.HTTPException as e:
        if not already_acknowledged(e):
            raise
        log.warning("interaction %s was already acknowledged", interaction.id)


async def send_note(interaction: discord.Interaction, text: str) -> None:
    """A note only the user who interacted sees (a refusal, an expired button, help)."""
    if not interaction.response.is_done():
        try:
            await call(
                lambda: interaction.response.send_message(text, ephemeral=True), what="interaction response"
            )
            return
        except discord.HTTPException as e:
            if not already_acknowledged(e):
                raise
            log.warning("interaction %s was already acknowledged: sending a follow-up", interaction.id)
    await call(lambda: interaction.followup.send(text, ephemeral=True), what="follow-up message")
