"""Discord (discord.py 2): mentions, slash commands, the "reply with" context menu and style buttons, all
fed to the platform-neutral BotApp; its Replies are shown by the shared adapters.delivery on the surfaces of
adapters.discord.surfaces.

Interactions are answered within Discord's 3 seconds: when the bot layer has nothing to show by then, the
interaction is deferred first and the answer edited in afterwards.

The inbox (bot.inbox): a mention is written down before it is answered, with what it takes to answer it
again (the neutral message, its channel and message id), since the gateway never delivers an event twice.
On the first READY after a start, the ones still open are answered, replying by reference to the original
message. Interactions are written down too, but only to be counted: after a restart their token and their
3 seconds are gone, so the open ones are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.delivery import EDIT_EVERY_S, Delivered, Delivery
from adapters.discord.buttons import AnswerButton
from adapters.discord.commands import Translator, build_commands
from adapters.discord.events import chat_key, to_incoming, to_user
from adapters.discord.limits import budget, call
from adapters.discord.surfaces import ChannelSurface, InteractionSurface, acknowledge, send_note
from adapters.discord.sync import SYNC_BACKOFF_S, keep_syncing
from adapters.discord.watch import count_rate_limits, guard_parsers
from adapters.errors import PlatformDown, PlatformFatal, delivery_errors
from adapters.health import HEALTH
from adapters.redact import redact
from bot.app import BotApp
from bot.config import Config
from bot.inbox import NOT_AFTER_RESTART, Event, message_from, message_payload
from bot.types import ButtonPress, IncomingMessage, Reply

log = logging.getLogger(__name__)
GONE = (discord.Forbidden, discord.NotFound)  # expected delivery failures: no permission, message gone
# Start-up failures that trying again later can fix: Discord down or slow (5xx, 429), the network.
UNREACHABLE = (discord.DiscordServerError, discord.RateLimited, discord.GatewayNotFound, aiohttp.ClientError,
               OSError, TimeoutError)
PLATFORM = "discord"

DEFER_AFTER_S = 1.5  # leaves time for the deferral itself to reach Discord within its 3 s
MISSING_INTENT = (
    "discord: the message-content intent is not enabled for this bot, so it cannot read the message a "
    "mention replies to. Mentions with a question, slash commands and the context menu still work. To "
    "fix: Discord Developer Portal > your application > Bot > Privileged Gateway Intents > Message "
    "Content Intent (or set discord.message_content: false to silence this)."
)


class _NoMessageContent(Exception):
    """The application is not allowed the message-content intent: start again without it."""


class SpringFestClient(discord.Client):
    def __init__(self, app: BotApp, cfg: Config, *, message_content: bool,
                 sync_backoff: tuple[float, ...] = SYNC_BACKOFF_S, **options: Any) -> None:
        # Voice is not used: discord.py's warnings about missing voice libraries would only confuse.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                         http_trace=count_rate_limits(), **options)
        guard_parsers(self._connection.parsers)  # a malformed gateway event must not end client.start()
        self.app, self.cfg = app, cfg
        self.tree = app_commands.CommandTree(self)
        self.sync_backoff = sync_backoff
        self._sync: asyncio.Task | None = None
        self._replay: asyncio.Task | None = None
        self.delivery = Delivery(budget(cfg.discord.messages_per_5s), edit_every_s=EDIT_EVERY_S)

    async def setup_hook(self) -> None:
        """After login, before the gateway: check the intent, register buttons and commands."""
        flags = self.application_flags
        allowed = flags.gateway_message_content or flags.gateway_message_content_limited
        if self.intents.message_content and not allowed:
            raise _NoMessageContent
        self.add_dynamic_items(AnswerButton)  # presses on any old answer, across restarts
        build_commands(self.tree, self.app, self.on_command)
        await self.tree.set_translator(Translator())
        # In the background: the gateway (and every mention) must not wait for it, nor fail with it.
        self._sync = asyncio.create_task(keep_syncing(self.tree, self.sync_backoff), name="discord-command-sync")
        if self.user:
            self.app.set_bot_name("discord", self.user.name)

    async def close(self) -> None:
        for task in (self._sync, self._replay):
            if task is not None:
                task.cancel()
        await super().close()

    async def on_ready(self) -> None:
        HEALTH.up(PLATFORM)
        log.info("discord: running as %s in %d servers", self.user, len(self.guilds))
        if self._replay is None:  # READY comes again after a reconnect: the open ones are answered once
            self._replay = asyncio.create_task(self._answer_open(), name="discord-inbox-replay")

    async def on_resumed(self) -> None:
        HEALTH.up(PLATFORM)

    async def on_disconnect(self) -> None:
        HEALTH.down(PLATFORM, "disconnected from the gateway (discord.py reconnects)")

    # -- events -----------------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message when the bot layer wants to: a mention, a reply to our answer, a DM."""
        if self.user is None:
            return
        incoming = to_incoming(message, self.user)
        if incoming is None or not self.app.addressed(incoming):
            return
        reply_to = None if incoming.is_private else message.id
        payload = {"message": message_payload(incoming), "channel": message.channel.id, "reply_to": reply_to}
        if not self.app.inbox.claim(Event(PLATFORM, incoming.message_id, incoming.chat, "message", payload)):
            return  # a gateway replay of one answered already
        await self._answer_message(message.channel, message if reply_to else None, incoming)

    async def _answer_message(self, channel: discord.abc.Messageable,
                              reply_to: discord.Message | discord.PartialMessage | None,
                              incoming: IncomingMessage) -> None:
        # asked: the question's id, the nonce that makes a retried send leave one copy (adapters.discord.surfaces)
        surface = ChannelSurface(channel, reply_to, asked=int(incoming.message_id))  # type: ignore[arg-type]
        event = (PLATFORM, incoming.message_id)
        with self.app.inbox.answering(*event), delivery_errors(f"channel {surface.chat}", GONE):
            await self._sent(await self.delivery.deliver(surface, self.app.on_message(incoming)), event)

    async def _answer_open(self) -> None:
        """Answer the mentions left open when the bot last stopped (inbox.max_age_minutes), each channel's in
        order; drop the interactions."""
        windows = {"command": NOT_AFTER_RESTART, "press": NOT_AFTER_RESTART}
        by_channel: dict[int, list[Event]] = {}
        for event in self.app.inbox.replay(PLATFORM, self.app.inbox_max_age_s, windows):
            by_channel.setdefault(event.payload["channel"], []).append(event)

        async def answer(channel_id: int, events: list[Event]) -> None:
            channel = self.get_channel(channel_id) or self.get_partial_messageable(channel_id)
            for event in events:
                reply_to = event.payload["reply_to"]
                message = channel.get_partial_message(reply_to) if reply_to else None  # type: ignore[union-attr]
                try:
                    await self._answer_message(channel, message, message_from(event.payload["message"]))  # type: ignore[arg-type]
                except Exception:  # as discord.py's on_error would for a live event; the next one still goes
                    log.exception("discord: answering message %s again failed", event.event_id)

        await asyncio.gather(*(answer(c, events) for c, events in by_channel.items()))

    async def _sent(self, delivered: Delivered, event: tuple[str, str] | None = None) -> None:
        """Tell the bot which message now shows its answer (so presses on its buttons are recognised), and
        that the inbox event it answers is done, in one commit. last_id None: shown, its id unknown
        (adapters.delivery, Timeouts)."""
        if delivered.record_id:
            await self.app.sent(delivered.record_id, delivered.last_id, event=event)

    def _claim_interaction(self, interaction: discord.Interaction, kind: str, chat: str) -> bool:
        """Written down to be counted if a crash leaves it open (it cannot be answered after a restart)."""
        return self.app.inbox.claim(Event(PLATFORM, str(interaction.id), chat, kind, {}))

    async def on_command(
        self, interaction: discord.Interaction, command: str, arg: str, target: discord.Message | None
    ) -> None:
        """A slash command or the context menu: handed to the bot layer as the command it is."""
        me = self.user
        target_text = (target.content or None) if target else None
        incoming = IncomingMessage(
            platform="discord",
            chat=chat_key(interaction.channel, interaction.channel_id),
            message_id=str(interaction.id),
            user=to_user(interaction.user, str(interaction.locale)),
            text=arg,
            command=command,
            is_private=interaction.guild_id is None,
            mentions_bot=False,
            reply_to_text=target_text,
            reply_to_bot=bool(target and me and target.author.id == me.id),
            reply_to_message_id=str(target.id) if target else None,
            raw=interaction,
        )
        if not self._claim_interaction(interaction, "command", incoming.chat):
            return
        with self.app.inbox.answering(PLATFORM, str(interaction.id)), \
                delivery_errors(f"interaction {interaction.id}", GONE):
            await self._answer_interaction(interaction, self.app.on_message(incoming), press=False)

    async def on_press(self, interaction: discord.Interaction, data: str) -> None:
        """A button under an answer (AnswerButton.callback): the answer is replaced in place."""
        press = ButtonPress(
            platform="discord",
            chat=chat_key(interaction.channel, interaction.channel_id),
            user=to_user(interaction.user, str(interaction.locale)),
            message_id=str(interaction.message.id) if interaction.message else "",
            data=data,
            raw=interaction,
        )
        if not self._claim_interaction(interaction, "press", press.chat):
            return
        with self.app.inbox.answering(PLATFORM, str(interaction.id)), \
                delivery_errors(f"interaction {interaction.id}", GONE):
            await self._answer_interaction(interaction, self.app.on_press(press), press=True)

    async def _answer_interaction(
        self, interaction: discord.Interaction, replies: AsyncIterator[Reply], *, press: bool
    ) -> None:
        """Respond within 3 s (deferring when the first Reply is slow), then deliver the rest."""
        first_task = asyncio.ensure_future(_next(replies))
        try:
            done, _ = await asyncio.wait({first_task}, timeout=DEFER_AFTER_S)
            if not done:
                await acknowledge(interaction, press=press)
            first = await first_task
        except BaseException:  # the deferral failed (e.g. too late) or we were cancelled: stop the answer too
            first_task.cancel()
            await asyncio.gather(first_task, return_exceptions=True)
            await replies.aclose()  # type: ignore[attr-defined]
            raise
        if first is None:  # the bot layer stays silent (refused before, rate-limited): end "thinking…"
            await _silent(interaction, press=press)
            return
        if first.done and (not first.text or (not press and first.record_id is None)):
            await replies.aclose()
            # A notice or note (help, refusal, expired button) is for the one who asked only, unless a
            # public "thinking…" already stands in for it.
            note = first.text or first.notice
            if not note:
                await acknowledge(interaction, press=press)
            elif interaction.response.is_done() and not press:
                await call(lambda: interaction.edit_original_response(content=note), what="interaction note")
            else:
                await send_note(interaction, note)
            return
        pressed = str(interaction.message.id) if press and interaction.message else None
        delivered = await self.delivery.deliver(InteractionSurface(interaction), _prepend(first, replies),
                                                existing=pressed)
        await self._sent(delivered)


async def _next(replies: AsyncIterator[Reply]) -> Reply | None:
    return await anext(replies, None)


async def _prepend(first: Reply, rest: AsyncIterator[Reply]) -> AsyncIterator[Reply]:
    try:
        yield first
        async for reply in rest:
            yield reply
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


async def _silent(interaction: discord.Interaction, *, press: bool) -> None:
    """Acknowledge without showing anything (a command's "thinking…" is deleted again)."""
    if press:
        await acknowledge(interaction, press=True)
        return
    await acknowledge(interaction, press=False, ephemeral=True)
    with contextlib.suppress(discord.NotFound):
        await interaction.delete_original_response()


# -- running ---------------------------------------------------------------------------------------
def wanted(cfg: Config) -> bool:
    return cfg.discord.enabled and bool(cfg.secret(cfg.discord.token_env))


async def serve(app: BotApp, cfg: Config, **client_options: Any) -> None:
    """Run the bot until cancelled; `client_options` go to discord.Client (tests: guild_ready_timeout)."""
    token = cfg.secret(cfg.discord.token_env)
    if not token:
        raise PlatformFatal(f"${cfg.discord.token_env} is not set")
    message_content = cfg.discord.message_content
    while True:
        client = SpringFestClient(app, cfg, message_content=message_content, **client_options)
        try:
            await client.start(token)
            return
        except discord.LoginFailure:
            raise PlatformFatal(
                f"Discord rejected the token in ${cfg.discord.token_env}: copy it again from the Developer Portal "
                "(your application > Bot > Reset Token)"
            ) from None
        except (_NoMessageContent, discord.PrivilegedIntentsRequired):
            if not message_content:
                raise PlatformFatal(
                    "Discord refused the gateway intents this bot asks for: check Privileged Gateway Intents in "
                    "the Developer Portal (your application > Bot)"
                ) from None
            log.warning(MISSING_INTENT)
            message_content = False
        except UNREACHABLE as e:
            raise PlatformDown(redact(f"cannot reach Discord: {_describe(e)}")) from e
        finally:
            await _close(client)


def _describe(e: BaseException) -> str:
    if isinstance(e, discord.HTTPException):
        return f"HTTP {e.status}"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


async def _close(client: discord.Client) -> None:
    # discord.py dispatches "ready" guild_ready_timeout after connecting, from a task close() leaves
    # running: closing within that window would make it fail on the closed client. Cancel it first.
    ready = getattr(client._connection, "_ready_task", None)
    if ready is not None:
        ready.cancel()
    await client.close()
