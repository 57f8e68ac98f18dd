"""One visitor of the web page: its own private chat in BotApp, the messages its page shows, and its turns.

The page never decides policy: every question and button goes to BotApp as an IncomingMessage or a
ButtonPress of platform "web", exactly like a Telegram or Discord private chat. This module only turns
the Reply stream into chat bubbles (Gradio's messages format) and remembers what the last answer's
buttons were, so the page's fixed buttons can press them.
"""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from bot.app import BotApp
from bot.buttons import unpack
from bot.types import Button, ButtonPress, IncomingMessage, Reply, User

PLATFORM = "web"
SOURCE_LABELS = {"curated": "语料库", "generated": "模型生成", "fallback": "通用回答"}
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
    buttons: tuple[Button, ...] = ()  # the buttons BotApp put on that answer
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
        self.buttons = ()

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


def style_command(app: BotApp, style: str, question: str) -> str:
    """The text command every platform understands: answer `question` in `style`."""
    return f"/{app.styles[style].command} {question}"


def find_button(buttons: tuple[Button, ...], kind: str, style: str | None = None) -> Button | None:
    """The button of the last answer that does `kind` (and for styles: switches to `style`)."""
    for b in buttons:
        action = unpack(b.data)
        if action and action.kind == kind and (style is None or action.style == style):
            return b
    return None


async def ask(app: BotApp, v: Visitor, user: User, text: str,
              style: str | None = None) -> AsyncIterator[None]:
    """Ask `text` in `style` (default: the visitor's style): a user bubble, then a streamed answer."""
    text = text.strip()
    if not text:
        return
    if style:
        v.style = style
    # A typed command (/help, /style ...) goes as it is; a question carries the page's chosen style.
    command = text if text.startswith("/") else style_command(app, v.style, text)
    message_id = v.next_id("q")
    v.messages.append({"role": "user", "content": text})
    at, final = None, None
    msg = IncomingMessage(platform=PLATFORM, chat=v.chat, message_id=message_id, user=user, text=command,
                          is_private=True)
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
        v.question, v.answer_at, v.answer_message_id = text, at, answer_id
        v.buttons = tuple(b for row in final.buttons for b in row)
        await app.sent(final.record_id, answer_id)


async def press(app: BotApp, v: Visitor, user: User, button: Button, notify: Notify) -> AsyncIterator[None]:
    """Press one of the last answer's buttons: its bubble is replaced by the new answer."""
    assert v.answer_at is not None and v.answer_message_id is not None
    at = v.answer_at
    event = ButtonPress(platform=PLATFORM, chat=v.chat, user=user, message_id=v.answer_message_id,
                        data=button.data)
    async for reply in app.on_press(event):
        if reply.done and not reply.text:  # only a notice (rate limit, expired button): keep the bubble
            if reply.notice:
                notify(reply.notice)
            continue
        # A notice that comes with a new answer only acknowledges the press (a chat app's toast);
        # here the answer itself changes in front of the visitor, so it is not shown.
        show(v, at, reply)
        if reply.done:
            v.buttons = tuple(b for row in reply.buttons for b in row)
        yield


async def restyle(app: BotApp, v: Visitor, user: User, style: str, notify: Notify) -> AsyncIterator[None]:
    """Answer the last question again in `style`, in place of the last answer."""
    v.style = style
    if v.question is None:
        notify(f"已选「{app.styles[style].label_zh}」，请先输入一个问题。")
        return
    button = find_button(v.buttons, "style", style)
    if button is None:  # the last answer already is in this style: show another one in it instead
        button = find_button(v.buttons, "another")
    if button is None:
        async for _ in ask(app, v, user, v.question, style):
            yield
        return
    async for _ in press(app, v, user, button, notify):
        yield


async def another(app: BotApp, v: Visitor, user: User, notify: Notify) -> AsyncIterator[None]:
    """Another answer to the last question in its current style (换一个)."""
    button = find_button(v.buttons, "another") if v.question is not None else None
    if button is None:
        notify("还没有可以换的回答，请先输入一个问题。")
        return
    async for _ in press(app, v, user, button, notify):
        yield
