"""Style buttons that keep working after a restart: a discord.ui.DynamicItem whose custom_id carries the bot
layer's payload (`sfq:<payload>`, at most 100 characters), so any process can handle a press on any old
message.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.types import Button

PREFIX = "sfq:"
MAX_CUSTOM_ID = 100  # Discord's limit
MAX_PER_ROW, MAX_ROWS = 5, 5
# The payload is opaque here (the bot layer packs and checks it); it only has to fit.
TEMPLATE = re.compile(re.escape(PREFIX) + rf"(?P<data>\S{{1,{MAX_CUSTOM_ID - len(PREFIX)}}})")

PressHandler = Callable[[discord.Interaction, str], Awaitable[None]]


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """One button under an answer; its press goes to the client's `on_press(interaction, payload)`."""

    def __init__(self, data: str, label: str = "…", selected: bool = False, row: int | None = None) -> None:
        custom_id = PREFIX + data
        if len(custom_id) > MAX_CUSTOM_ID:
            raise ValueError(f"button payload too long for a custom_id: {data!r}")
        style = discord.ButtonStyle.primary if selected else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label[:80], style=style, custom_id=custom_id), row=row)
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["data"], label=getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        handler: PressHandler = interaction.client.on_press  # type: ignore[attr-defined]
        await handler(interaction, self.data)


def answer_view(buttons: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """The bot's buttons as a view that never times out (None when there are none)."""
    rows = _discord_rows(buttons)
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for n, row in enumerate(rows):
        for b in row:
            view.add_item(AnswerButton(b.data, b.label, b.selected, row=n))
    return view


def _discord_rows(rows: tuple[tuple[Button, ...], ...]) -> list[tuple[Button, ...]]:
    """The bot's rows, each cut into rows of at most 5 buttons; at most 5 rows (Discord's limits)."""
    out = [row[i : i + MAX_PER_ROW] for row in rows for i in range(0, len(row), MAX_PER_ROW)]
    return [r for r in out if r][:MAX_ROWS]
