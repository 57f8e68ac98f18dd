"""One visitor of the web page: its own private chat in BotApp, the messages its page shows, and its turns.

The page never decides policy: every question goes to BotApp as an IncomingMessage of platform "web"
(exactly like a Telegram or Discord private chat; a style button's question as that style's command), and
the page's style and 换一个 buttons go to BotApp.restyle/another for the last answer's record. This module
only turns the Reply stream into chat bubbles (Gradio's messages format); it never reads button payloads.
"""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from bot.app import BotApp
from bot.types import ButtonPress, IncomingMessage, Reply, User

PLATFORM = "web"
SOURCE_LABELS = {"curated": "语料库", "topic": "语料库（同类问题）", "generated": "模型生成", "fallback": "通用回答"}
META_OPEN = '<span class="sf-meta">'
STREAMING_MARK = " ▌"  # shown after the text while an answer is still arriving
NO_ANSWER = "（这次没有回答，请稍后再试。）"  # BotApp stays silent e.g. after a repeated rate-limit hit

Notify = Callable[[str], None]


@dataclass
class Visitor:
    """Per-session state: lives in a gr.State, so it is never shared between visitors."""

    chat: str  # its private chat id in BotApp: made here, never chosen by the browser
    style: str  # the style the page's buttons last picked; questions are asked in it
    messages: list[dict] = field(default_factory=list)  # what the Chatbot shows
    question: str | None = None  # the last question that got an answer (what style buttons re-answer)
    answer_at: int | None = None  # index in `messages` of that answer's bubble
    answer_message_id: str | None = None
    record_id: str | None = None  # BotApp's record of that answer, which the style buttons re-answer
    seq: int = 0
    _lock: asyncio.Lock | None = None

    @classmethod
    def new(cls, style: str) -> Visitor:
        return cls(chat=f"web-{uuid.uuid4().hex}", style=style)

    def turn(self) -> asyncio.Lock:
        """One turn at a time per visitor (a second click waits); other visitors are not held up."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def clear(self) -> None:
        """Forget the conversation on the page; the chat id (and BotApp's settings for it) stay."""
        self.messages, self.question, self.answer_at, self.answer_message_id = [], None, None, None
        self.record_id = None

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq}"


def meta_line(reply: Reply) -> str | None:
    """The discreet line under an answer: where it came from and which corpus question it matched.

    It is a message of its own (styled small by the page's CSS), so the answer's copy button copies the
    answer alone: what a visitor pastes into the family chat.
    """
    parts = [f"来源：{SOURCE_LABELS.get(reply.source or '', reply.source)}"] if reply.source else []
    if reply.matched:
        parts.append(f"匹配：{html.escape(reply.matched)}")
    return f'{META_OPEN}{" · ".join(parts)}</span>' if parts else None


def is_meta(message: dict) -> bool:
    return message["role"] == "assistant" and str(message["content"]).startswith(META_OPEN)


def show(v: Visitor, at: int, reply: Reply) -> None:
    """Show `reply` in the bubble at `at`; once it is done, its source line goes right after it."""
    v.messages[at]["content"] = reply.text if reply.done else reply.text + STREAMING_MARK
    if not reply.done:
        return
    meta = meta_line(reply)
    has_meta = at + 1 < len(v.messages) and is_meta(v.messages[at + 1])
    if meta and has_meta:
        v.messages[at + 1]["content"] = meta
    elif meta:
        v.messages.insert(at + 1, {"role": "assistant", "content": meta})
    elif has_meta:
        del v.messages[at + 1]


async def ask(app: BotApp, v: Visitor, user: User, text: str,
              style: str | None = None) -> AsyncIterator[None]:
    """Ask `text` in `style` (default: the visitor's style): a user bubble, then a streamed answer."""
    text = text.strip()
    if not text:
        return
    if style:
        v.style = style
    # A typed command (/help, /style ...) goes as typed; a question as the command of the page's style.
    command = None if text.startswith("/") else app.styles[v.style].command
    message_id = v.next_id("q")
    v.messages.append({"role": "user", "content": text})
    at, final = None, None
    msg = IncomingMessage(platform=PLATFORM, chat=v.chat, message_id=message_id, user=user, text=text,
                          is_private=True, command=command)
    async for reply in app.on_message(msg):
        if at is None:
            v.messages.append({"role": "assistant", "content": ""})
            at = len(v.messages) - 1
        show(v, at, reply)
        final = reply
        yield
    if at is None:
        v.messages.append({"role": "assistant", "content": NO_ANSWER})
        yield
        return
    if final is not None and final.record_id:  # an answer with buttons, not a notice or help text
        answer_id = v.next_id("a")
        v.question, v.answer_at, v.answer_message_id, v.record_id = text, at, answer_id, final.record_id
        await app.sent(final.record_id, answer_id)


async def show_press(v: Visitor, replies: AsyncIterator[Reply], notify: Notify) -> AsyncIterator[None]:
    """What a press on the last answer streams replaces that answer's bubble."""
    at = v.answer_at
    assert at is not None
    async for reply in replies:
        if reply.done and not reply.text:  # only a notice (rate limit, expired answer): keep the bubble
            if reply.notice:
                notify(reply.notice)
            continue
        # A notice that comes with a new answer only acknowledges the press (a chat app's toast);
        # here the answer itself changes in front of the visitor, so it is not shown.
        show(v, at, reply)
        yield


def _pressed(v: Visitor, user: User) -> ButtonPress:
    """A press on the last answer's bubble."""
    assert v.answer_message_id is not None
    return ButtonPress(platform=PLATFORM, chat=v.chat, user=user, message_id=v.answer_message_id)


async def restyle(app: BotApp, v: Visitor, user: User, style: str, notify: Notify) -> AsyncIterator[None]:
    """Answer the last question again in `style`, in place of the last answer (in the same style: another
    answer in it)."""
    v.style = style
    if v.record_id is None:
        notify(f"已选「{app.styles[style].label_zh}」，请先输入一个问题。")
        return
    async for _ in show_press(v, app.restyle(_pressed(v, user), v.record_id, style), notify):
        yield


async def another(app: BotApp, v: Visitor, user: User, notify: Notify) -> AsyncIterator[None]:
    """Another answer to the last question in its current style (换一个)."""
    if v.record_id is None:
        notify("还没有可以换的回答，请先输入一个问题。")
        return
    async for _ in show_press(v, app.another(_pressed(v, user), v.record_id), notify):
        yield
