"""Answering a question again: in place under a button press, or as a new answer where there are no buttons.

Two ways to the same thing, part of BotApp (a mixin, so the contract stays on one object):

- Platforms with buttons (Telegram, Discord, the web page): a press on a style or 换一个 button replaces the
  pressed message's text (on_press; restyle/another for front ends with buttons of their own).
- Platforms without them (QQ): a style command or 换一个 in reply to one of the bot's answers (BotApp's
  dispatch calls again()), or a reaction on it (on_regenerate), answers that question again as a NEW answer:
  a new record, so the earlier message keeps working, and the final Reply's `replaces` names the message
  it replaces (the platform may quote or recall it). button_hint() says how, once per chat per day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.buttons import Action, new_record_id, unpack
from bot.store import Record
from bot.texts import lang_of, t
from bot.triggers import alias_of
from bot.types import ButtonPress, IncomingMessage, Regenerate, Reply

if TYPE_CHECKING:
    from bot.access import Access
    from bot.ratelimit import RateLimiter
    from bot.store import Store
    from engine.styles import Style

log = logging.getLogger(__name__)


class AnswerAgain:
    """BotApp's part that answers a question again (module docstring). Uses BotApp's state and _answer()."""

    store: Store
    access: Access
    limits: RateLimiter
    styles: dict[str, Style]
    clock: Callable[[], float]
    _answer: Callable[[Record, list[str]], AsyncIterator[Reply]]

    # -- with buttons: in place ---------------------------------------------------------------------
    def on_press(self, press: ButtonPress) -> AsyncIterator[Reply]:
        """Replies that replace the pressed message's text; the first one's notice is the press's toast.

        `press.data` is a payload from one of our Buttons, passed back untouched (adapters never read it).
        """
        return self._press(press, unpack(press.data))

    def restyle(self, at: ButtonPress, record_id: str, style: str) -> AsyncIterator[Reply]:
        """The answer `record_id` again in `style`, as its style button would give it: for front ends with
        buttons of their own, such as the web page's style column. `at` says who presses, on which message."""
        return self._press(at, Action("style", record_id, style))

    def another(self, at: ButtonPress, record_id: str) -> AsyncIterator[Reply]:
        """Another answer in place of `record_id`, in its style, as its 换一个 button would give it."""
        return self._press(at, Action("another", record_id))

    async def _press(self, press: ButtonPress, action: Action | None) -> AsyncIterator[Reply]:
        lang, chat = lang_of(press.user.lang), f"{press.platform}:{press.chat}"
        record = self.store.record(action.record_id) if action else None
        if not self._press_valid(action, record, chat, press.message_id):
            yield Reply("", notice=t(lang, "expired"))
            return
        refused = self._refused(press.platform, chat, press.user.id, lang)
        if refused:
            yield refused
            return
        style = action.style or record.style
        notice = self._switch_notice(lang, record.style, style)
        record.style = style
        try:
            async for reply in _with_notice(self._answer(record, record.shown.get(style, [])), notice):
                yield reply
        except Exception:
            log.exception("answering a button press in %s failed", chat)
            yield Reply("", notice=t(lang, "error"))

    def _press_valid(self, action: Action | None, record: Record | None, chat: str, message_id: str) -> bool:
        """A payload we made, for a live record of this chat, on the message that shows it."""
        if action is None or record is None or record.chat != chat:
            return False
        if action.style is not None and action.style not in self.styles:
            return False
        return record.message_id is None or record.message_id == str(message_id)

    # -- without buttons: a new answer ---------------------------------------------------------------
    async def on_regenerate(self, req: Regenerate) -> AsyncIterator[Reply]:
        """Like a button press, for platforms without buttons (a reaction on an answer): the question of the
        answer shown by `req.message_id` answered again, as a new answer. The first Reply's notice says what
        changed; an unknown message, a refusal or a rate limit is a notice only (a Reply without text)."""
        lang, chat = lang_of(req.user.lang), f"{req.platform}:{req.chat}"
        earlier = self.store.record_for_message(chat, req.message_id)
        if earlier is None or (req.style is not None and req.style not in self.styles):
            yield Reply("", notice=t(lang, "expired"))
            return
        refused = self._refused(req.platform, chat, req.user.id, lang)
        if refused:
            yield refused
            return
        style = req.style or earlier.style
        notice = self._switch_notice(lang, earlier.style, style)
        try:
            async for reply in _with_notice(self.again(earlier, style), notice):
                yield reply
        except Exception:
            log.exception("answering again in %s failed", chat)
            yield Reply("", notice=t(lang, "error"))

    def again(self, earlier: Record, style: str) -> AsyncIterator[Reply]:
        """`earlier`'s question answered again in `style` as a new answer (a new record: the earlier message
        keeps working), never with an answer already shown for it in that style; the final Reply `replaces`
        the earlier message."""
        record = Record(new_record_id(), earlier.chat, earlier.question, style, "", earlier.lang,
                        shown={k: list(v) for k, v in earlier.shown.items()}, context=list(earlier.context),
                        truncated=earlier.truncated, topic=earlier.topic)  # understood as it was the first time
        return _replacing(self._answer(record, record.shown.get(style, [])), earlier.message_id)

    def replied_answer(self, msg: IncomingMessage, chat: str) -> Record | None:
        """The bot's answer `msg` replies to, when it is one the store still knows."""
        if not (msg.reply_to_bot and msg.reply_to_message_id):
            return None
        return self.store.record_for_message(chat, msg.reply_to_message_id)

    def button_hint(self, platform: str, chat: str, lang: str = "zh") -> str | None:
        """For platforms that cannot show buttons: a line saying how to switch style by replying, the first
        time an answer goes to `chat` on each day (None on every other answer that day)."""
        day = time.strftime("%Y-%m-%d", time.localtime(self.clock()))
        if not self.store.claim_daily(f"{platform}:{chat}", "hint", day):
            return None
        zh = lang_of(lang) == "zh"
        styles = " ".join(f"/{alias_of(s.command) if zh else s.command}" for s in self.styles.values())
        return t(lang, "hint_no_buttons", styles=styles)

    # -- shared ---------------------------------------------------------------------------------------
    def _refused(self, platform: str, chat: str, user_id: str, lang: str) -> Reply | None:
        """A notice when this user may not press here or has pressed too often, else None."""
        if not self.access.may_press(platform, chat, user_id):
            return Reply("", notice=t(lang, "refuse_group"))
        limited = self.limits.check(platform, chat, user_id)
        if limited:
            return Reply("", notice=t(lang, f"rate_{limited.scope}", seconds=limited.seconds))
        return None

    def _switch_notice(self, lang: str, before: str, after: str) -> str:
        if after != before:
            return t(lang, "switched", label=self.styles[after].label(lang))
        return t(lang, "another_done")


async def _replacing(replies: AsyncIterator[Reply], message_id: str | None) -> AsyncIterator[Reply]:
    """`replies` with the final one saying which message's answer it replaces."""
    async for reply in replies:
        yield replace(reply, replaces=message_id) if reply.done else reply


async def _with_notice(replies: AsyncIterator[Reply], notice: str) -> AsyncIterator[Reply]:
    """`replies` with `notice` on the first one (a press's toast)."""
    first = True
    async for reply in replies:
        yield replace(reply, notice=notice) if first else reply
        first = False
