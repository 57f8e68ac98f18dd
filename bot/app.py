"""BotApp: all chat policy, the same on every platform; adapters feed it events and deliver its Replies.

A message becomes a Trigger (bot.triggers); access (bot.access) and rate limits (bot.ratelimit) decide
whether to act; answers stream from the engine as Replies carrying the full text so far, and the last one
carries the buttons, whose payloads (bot.buttons) point at a Record in the SQLite store (bot.store).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

from bot import metrics
from bot.access import Access, Verdict
from bot.buttons import Action, new_record_id
from bot.config import Config
from bot.inbox import Inbox
from bot.ratelimit import RateLimiter
from bot.regenerate import AnswerAgain
from bot.store import Record, Store
from bot.texts import COMMAND_DESCRIPTIONS, TEXTS, lang_of, t
from bot.triggers import Trigger, classify, without_mentions
from bot.types import Button, IncomingMessage, Reply, User
from engine.engine import EmptyQuestion, Engine
from engine.styles import Style

log = logging.getLogger(__name__)

MAX_CONTEXT_TURNS = 3  # a follow-up sees at most this many earlier exchanges
PRUNE_EVERY_S = 3600.0
DEFAULT_BOT_NAME = "SpringFestBot"  # in help text until the platform has said the bot's real name


class BotApp(AnswerAgain):
    """All policy: triggers, commands, styles per chat, buttons, access, rate limits, state. Answering a
    question again (button presses, and replies or reactions where there are no buttons) is in bot.regenerate."""

    def __init__(self, engine: Engine, cfg: Config, store: Store, *, clock: Callable[[], float] = time.time):
        self.engine, self.cfg, self.store, self.clock = engine, cfg, store, clock
        self.styles: dict[str, Style] = engine.styles
        self.by_command = {s.command.lower(): s.id for s in self.styles.values()}
        self.access = Access(cfg.access, store)
        self.limits = RateLimiter(cfg.access.rate_limit, store)
        self.bot_names: dict[str, str] = {}  # platform -> the bot's name there (@username), for help text
        self.inbox = Inbox(store)  # incoming events written down until answered (adapters claim and mark them)
        self._pruned_at = 0.0
        self.prune()

    # -- contract ---------------------------------------------------------------------------------
    async def on_message(self, msg: IncomingMessage) -> AsyncIterator[Reply]:
        """Replies for one incoming message (nothing when it is not for the bot)."""
        trig = classify(msg)
        if trig.kind == "ignore":
            return
        self._maybe_prune()
        lang, chat = lang_of(msg.user.lang), _key(msg.platform, msg.chat)
        if trig.kind == "command" and trig.command in ("approve", "revoke"):
            yield self._approve(msg, chat, lang, trig.command == "approve")
            return
        unknown = trig.kind == "command" and trig.command not in self._known_commands()
        if unknown and not (msg.is_private or msg.mentions_bot):
            return  # in a group a bare unknown command may be meant for another bot
        verdict = self.access.decide(msg.platform, chat, msg.user.id, msg.is_private)
        if verdict is not Verdict.ALLOW:
            if verdict is not Verdict.SILENT:
                log.info("refused %s user %s in chat %s", msg.platform, msg.user.id, msg.chat)
                key = {
                    Verdict.OWNER_HINT: "owner_hint",
                    Verdict.REFUSE: "refuse_private" if msg.is_private else "refuse_group",
                }[verdict]
                yield Reply(t(lang, key, user=msg.user.id))
            return
        if unknown:
            yield Reply(t(lang, "unknown_command"))
            return
        limited = self.limits.check(msg.platform, chat, msg.user.id)
        if limited:
            if limited.notify:
                yield Reply(t(lang, f"rate_{limited.scope}", seconds=limited.seconds))
            return
        try:
            async for reply in self._dispatch(msg, trig, chat, lang):
                yield reply
        except Exception:
            log.exception("answering a message in %s failed", chat)
            yield Reply(t(lang, "error"))

    async def sent(self, record_id: str, message_id: str | None, *,
                   event: tuple[str, str] | None = None) -> None:
        """The adapter reports the platform message id that now shows the answer `record_id` (its buttons).

        None: shown, but the platform never told its id; presses on the record's buttons then count wherever
        they sit in the chat. `event` (platform, event id): the inbox event this answers, marked answered in
        the same commit, so a crash can never leave an answer on screen whose question is answered again
        after the restart."""
        with self.store.transaction():
            self.store.set_message(record_id, None if message_id is None else str(message_id))
            if event is not None:
                self.inbox.done(*event)

    def addressed(self, msg: IncomingMessage) -> bool:
        """Whether the message asks anything of the bot at all (cheap: no access or state look-up). Adapters
        write only these to the inbox: not every line of a family chat the bot happens to see."""
        return classify(msg).kind != "ignore"

    def set_bot_name(self, platform: str, name: str) -> None:
        """The adapter reports the bot's name on its platform once it knows it (after logging in)."""
        self.bot_names[platform] = name

    def help_text(self, lang: str = "zh", chat: str | None = None, platform: str = "telegram") -> str:
        lang = lang_of(lang)
        bot = self.bot_names.get(platform, DEFAULT_BOT_NAME)
        styles = "\n".join(
            t(lang, "style_line", command=s.command, emoji=s.emoji, label=s.label(lang))
            for s in self.styles.values()
        )
        current = self.styles[self.default_style(chat)]
        first = next(iter(self.styles.values())).command
        how = t(lang, f"how_{platform}" if f"how_{platform}" in TEXTS[lang] else "how_telegram",
                first=first, bot=bot)
        buttons = t(lang, f"buttons_{platform}" if f"buttons_{platform}" in TEXTS[lang] else "buttons")
        return t(
            lang,
            "help",
            how=how,
            buttons=buttons,
            first=first,
            bot=bot,
            styles=styles,
            current=f"{current.emoji} {current.label(lang)}",
        )

    def command_list(self, lang: str = "zh") -> list[tuple[str, str]]:
        """(command, description) pairs for the platform's command menu."""
        d = COMMAND_DESCRIPTIONS[lang_of(lang)]
        lang = lang_of(lang)
        styles = [(s.command, d["style_cmd"].format(label=s.label(lang))) for s in self.styles.values()]
        return [*styles, ("answer", d["answer"]), ("style", d["style"]), ("help", d["help"])]

    async def inline(self, user: User, text: str) -> list[Reply]:
        """One Reply per enabled style, in button order (notice = the result's title); [] when not allowed."""
        if user.is_bot or not self.access.may_inline(user.id):
            return []
        try:
            self.engine.prepare(text)
        except EmptyQuestion:
            return []
        lang, replies = lang_of(user.lang), []
        for style in self.styles.values():
            answer = await self.engine.answer(text, style.id)
            await answer.collect()
            replies.append(
                Reply(
                    answer.text,
                    notice=t(lang, "inline_title", emoji=style.emoji, label=style.label(lang)),
                    source=answer.source,
                )
            )
        return replies

    async def aclose(self) -> None:
        self.store.close()

    # -- policy -----------------------------------------------------------------------------------
    def default_style(self, chat: str | None) -> str:
        """The chat's chosen style if still enabled, else styles.default, else the first enabled style."""
        chosen = self.store.chat(chat).default_style if chat else None
        for candidate in (chosen, self.cfg.styles.default):
            if candidate in self.styles:
                return candidate
        return next(iter(self.styles))

    def _known_commands(self) -> set[str]:
        return {*self.by_command, "answer", "style", "help", "start", "another"}

    async def _dispatch(
        self, msg: IncomingMessage, trig: Trigger, chat: str, lang: str
    ) -> AsyncIterator[Reply]:
        if trig.kind == "command":
            if trig.command in ("help", "start"):
                yield Reply(self.help_text(lang, chat, msg.platform))
                return
            if trig.command == "style":
                yield Reply(self._set_style(chat, trig.arg, lang))
                return
            # A style command or "换一个" on one of the bot's answers: that question again, in that style.
            earlier = self.replied_answer(msg, chat) if not trig.arg else None
            if trig.command == "another" or (earlier and trig.command in self.by_command):
                if earlier is None:
                    yield Reply(t(lang, "another_where"))
                    return
                async for reply in self.again(earlier, self.by_command.get(trig.command, earlier.style)):
                    yield reply
                return
            style = self.by_command.get(trig.command) or self.default_style(chat)
            empty = ("empty_command", trig.command)
            async for reply in self._ask(msg, chat, lang, trig.arg, style, empty=empty):
                yield reply
            return
        style, context = self.default_style(chat), []
        if trig.kind == "followup" and msg.reply_to_message_id:
            earlier = self.store.record_for_message(chat, msg.reply_to_message_id)
            if earlier:
                style = earlier.style
                context = [*earlier.context, (earlier.question, earlier.text)][-MAX_CONTEXT_TURNS:]
        empty = ("empty_mention", "") if msg.mentions_bot else ("no_question", "")
        async for reply in self._ask(msg, chat, lang, trig.arg, style, context=context, empty=empty):
            yield reply

    async def _ask(
        self,
        msg: IncomingMessage,
        chat: str,
        lang: str,
        text: str,
        style: str,
        *,
        context: list[tuple[str, str]] | None = None,
        empty: tuple[str, str],
    ) -> AsyncIterator[Reply]:
        """Answer `text`, or (if it holds no question) the message it replies to, or say what is missing."""
        question = self._question_in(text)
        earlier = None
        if msg.reply_to_bot and msg.reply_to_message_id:
            earlier = self.store.record_for_message(chat, msg.reply_to_message_id)
        if question is None and msg.reply_to_text:
            question = self._question_in(msg.reply_to_text)
            if question is None:
                yield Reply(t(lang, "no_question"))
                return
            if earlier is not None:  # "/sarcastic" on the bot's own answer
                question = earlier.question
        if question is None:
            key, command = empty if not without_mentions(text) else ("no_question", "")
            yield Reply(t(lang, key, command=command))
            return
        record = Record(new_record_id(), chat, question, style, "", lang, context=list(context or []))
        async for reply in self._answer(record, exclude=[], prior_topic=self._last_topic(chat, earlier)):
            yield reply

    def _last_topic(self, chat: str, earlier: Record | None) -> str | None:
        """What the chat was just talking about: the answer this message replies to, else the chat's latest
        answer within knowledge.followup_minutes. A fragment (照片呢？) leans to it; see Engine.answer."""
        if earlier is not None and earlier.topic:
            return earlier.topic
        since = self.store.clock() - 60 * self.cfg.knowledge.followup_minutes
        return self.store.recent_topic(chat, since)

    def _question_in(self, text: str | None) -> str | None:
        """The raw text when it contains a question, else None (only mentions, emoji, stickers)."""
        if not text:
            return None
        try:
            self.engine.prepare(text)
        except EmptyQuestion:
            return None
        return text

    async def _answer(self, record: Record, exclude: list[str], prior_topic: str | None = None) -> AsyncIterator[Reply]:
        """Stream the engine's answer for `record`, then save it and yield the final Reply with buttons.

        A record answered again (another style, 换一个) keeps the topic it was understood in."""
        started = time.perf_counter()
        answer = await self.engine.answer(
            record.question, record.style, exclude=exclude, context=record.context,
            prior_topic=prior_topic or record.topic,
        )
        previous: str | None = None
        async for _ in answer:
            # Hold each text back until the next piece arrives, so a one-piece (curated) answer costs a
            # single message instead of a send plus an edit.
            if previous is not None:
                yield Reply(previous, done=False)
            previous = answer.text
        record.question = answer.question or record.question
        record.truncated = record.truncated or answer.truncated
        record.text = answer.text
        if answer.understanding is not None:
            record.topic = answer.understanding.topic
        record.shown.setdefault(record.style, [])
        if answer.id not in record.shown[record.style]:
            record.shown[record.style].append(answer.id)
        self.store.save_record(record)
        metrics.answered(record.chat.split(":", 1)[0], answer.source, record.style, time.perf_counter() - started)
        text = answer.text
        if record.truncated:
            text += "\n\n" + t(record.lang, "cut", limit=self.cfg.question.max_chars)
        matched = answer.matched
        yield Reply(
            text, True, self.buttons(record), record_id=record.id, source=answer.source, matched=matched
        )

    def buttons(self, record: Record) -> tuple[tuple[Button, ...], ...]:
        """One button per enabled style (the current one selected), then 换一个."""
        styles = tuple(
            Button(
                f"{s.emoji} {s.label(record.lang)}",
                Action("style", record.id, s.id).pack(),
                selected=s.id == record.style,
            )
            for s in self.styles.values()
        )
        return styles, (Button(t(record.lang, "another"), Action("another", record.id).pack()),)

    def _set_style(self, chat: str, arg: str, lang: str) -> str:
        choices = " ".join(f"{s.id}({s.label(lang)})" for s in self.styles.values())
        if not arg:
            s = self.styles[self.default_style(chat)]
            return t(lang, "style_show", emoji=s.emoji, label=s.label(lang), choices=choices)
        wanted = arg.split()[0].lstrip("/").lower()
        for s in self.styles.values():
            if wanted in (s.id.lower(), s.command.lower(), s.label_zh, s.label_en.lower()):
                self.store.set_default_style(chat, s.id)
                return t(lang, "style_set", emoji=s.emoji, label=s.label(lang))
        return t(lang, "style_unknown", arg=arg[:30], choices=choices)

    def _approve(self, msg: IncomingMessage, chat: str, lang: str, approve: bool) -> Reply:
        if not self.access.is_owner(msg.user.id):
            return Reply(t(lang, "owners_only"))
        if msg.is_private:
            return Reply(t(lang, "groups_only"))
        self.store.set_approved(chat, approve)
        log.info("chat %s %s by owner %s", chat, "approved" if approve else "revoked", msg.user.id)
        return Reply(t(lang, "approved" if approve else "revoked"))

    def prune(self) -> None:
        """Forget answer records older than state.retention_days."""
        self._pruned_at = self.clock()
        gone = self.store.prune(self.cfg.state.retention_days * 86400)
        self.inbox.prune()
        if gone:
            log.info("retention: deleted %d old answer records", gone)

    @property
    def inbox_max_age_s(self) -> float:
        return 60 * self.cfg.inbox.max_age_minutes

    def _maybe_prune(self) -> None:
        if self.clock() - self._pruned_at > PRUNE_EVERY_S:
            self.prune()


def _key(platform: str, chat: str) -> str:
    return f"{platform}:{chat}"

