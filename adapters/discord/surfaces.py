"""Where an answer is shown on Discord: a channel message replying to a mention, or an interaction's response.

An interaction must be answered within 3 s, once: `acknowledge` defers it, and a response Discord refuses
because the interaction was already acknowledged (error 40060, e.g. a retried request whose first attempt
did arrive) is carried on by editing the original response instead.

A channel message is sent with a nonce made of the question's message id and the piece number, the same on
every try: Discord keeps one message per nonce for a few minutes (discord.py always sends enforce_nonce), so
a send tried again after a timeout or a 5xx that did create the message gets that message back, not a copy
in the chat; so does answering the same question again (a redelivered event) within those minutes.
Follow-up messages of an interaction take no nonce: those are not sent again after an unconfirmed try.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord.utils import MISSING

from adapters.delivery import Buttons, Surface
from adapters.discord.buttons import answer_view
from adapters.discord.limits import MAX_CHARS, call
from adapters.discord.limits import classify as classify_error

log = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = 40060
TYPING_AFTER_S = 0.3  # answers faster than this (the curated path) need no "typing…"
TYPING_EVERY_S = 8.0  # Discord shows typing for 10 s


def already_acknowledged(e: Exception) -> bool:
    """Discord's 40060 (or discord.py's own check): this interaction has a response already."""
    if isinstance(e, discord.InteractionResponded):
        return True
    return isinstance(e, discord.HTTPException) and e.code == ALREADY_ACKNOWLEDGED


class ChannelSurface(Surface):
    """Messages in a channel; the first quotes the message that asked (without pinging its author).

    `asked`: the id of the message being answered (the nonces' base, module docstring), when not `reply_to`'s."""

    limit = MAX_CHARS
    typing_after_s = TYPING_AFTER_S
    typing_every_s = TYPING_EVERY_S
    classify = staticmethod(classify_error)
    repeatable_sends = True  # the nonce: Discord drops the copy

    def __init__(self, channel: discord.abc.Messageable, reply_to: discord.Message | None, *,
                 asked: int | None = None) -> None:
        self.channel, self.reply_to = channel, reply_to
        self.chat: int = channel.id  # type: ignore[attr-defined]
        self._sent: dict[str, discord.Message] = {}
        if asked is None:
            asked = reply_to.id if reply_to is not None else secrets.randbits(63)  # then: this delivery's tries
        self._asked, self._pieces = asked, 0

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        ref = self.reply_to.to_reference(fail_if_not_exists=False) if first and self.reply_to else None
        nonce = f"{self._asked}.{self._pieces}"  # at most 25 characters: a snowflake has at most 20 digits
        message = await self.channel.send(text, view=answer_view(buttons) or MISSING, reference=ref,
                                          mention_author=False, nonce=nonce)
        self._pieces += 1  # only once it went out: every try of this piece carries the same nonce
        self._sent[str(message.id)] = message
        return str(message.id)

    async def edit(self, message_id: str, text: str, buttons: Buttons) -> None:
        message = self._sent.get(message_id) or self.channel.get_partial_message(int(message_id))  # type: ignore[attr-defined]
        await message.edit(content=text, view=answer_view(buttons))

    async def typing(self) -> None:
        await self.channel.typing()


class InteractionSurface(Surface):
    """The response to a slash command or context menu (a new message), or to a button press (the pressed
    message, edited in place: deliver it with existing= that message's id)."""

    limit = MAX_CHARS
    classify = staticmethod(classify_error)

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.chat: int = interaction.channel_id or 0

    async def send(self, text: str, buttons: Buttons, *, first: bool) -> str:
        view = answer_view(buttons)
        if not first:  # the rest of a long answer
            return str((await self.interaction.followup.send(text, view=view or MISSING, wait=True)).id)
        if not self.interaction.response.is_done():
            try:
                sent = await self.interaction.response.send_message(text, view=view or MISSING)
                if sent.message_id is not None:
                    return str(sent.message_id)
                return str((await self.interaction.original_response()).id)
            except discord.HTTPException as e:
                if not already_acknowledged(e):
                    raise
                log.warning("interaction %s was already acknowledged: editing its response", self.interaction.id)
        # Deferred ("thinking…"), or acknowledged elsewhere: the answer goes into the original response.
        return str((await self.interaction.edit_original_response(content=text, view=view)).id)

    async def edit(self, message_id: str, text: str, buttons: Buttons) -> None:
        view = answer_view(buttons)
        if not self.interaction.response.is_done():  # a press answered at once: update the pressed message
            try:
                await self.interaction.response.edit_message(content=text, view=view)
                return
            except discord.HTTPException as e:
                if not already_acknowledged(e):
                    raise
                log.warning("interaction %s was already acknowledged: editing its response", self.interaction.id)
        await self.interaction.edit_original_response(content=text, view=view)


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
