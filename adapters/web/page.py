"""The Gradio page: chat view, question box, one button per enabled style, 换一个, clear.

Every handler is an async generator running on the same event loop as BotApp, so answers stream
straight from the engine to the browser. Per-visitor state lives in a gr.State (server side, one per
page load); nothing is module-global, so one visitor's style or history never reaches another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import gradio as gr

from adapters.web import visitor as turns
from adapters.web.visitor import Visitor
from bot.app import BotApp
from bot.config import Config
from bot.types import User

TITLE = "春节问答 SpringFestQA"
INTRO = ("### 🧧 春节问答 · 亲戚的灵魂拷问，挑个风格来接\n"
         "输入亲戚的问题，点右边的风格按钮作答；再点另一个风格，就用那个风格重答上一个问题。")
PLACEHOLDER = "例如：你打算什么时候结婚啊？（回车发送）"
ANSWER_QUEUE = "answer"  # every event that asks BotApp shares one concurrency limit
MAX_EXAMPLES = 6

# The source line under each answer is a message of its own: drawn as small faded text, not a bubble,
# and without a copy button of its own.
CSS = """
.sf-meta { font-size: 0.78em; opacity: 0.6; }
#sf-chat .message:has(.sf-meta) { background: transparent !important; border: none !important;
  box-shadow: none !important; padding-top: 0 !important; }
#sf-chat .message-row:has(.sf-meta) { margin-top: 0; }
#sf-chat .message-row:has(.sf-meta) + .message-buttons { display: none !important; }
#sf-styles button { min-height: 2.6em; }
"""
THEME = gr.themes.Default(primary_hue="red", secondary_hue="amber")


def notify(text: str) -> None:
    """A short toast on the visitor's page (the notice of a button press)."""
    gr.Info(text, title="提示", duration=3)


def visitor_user(request: gr.Request | None) -> User:
    """Who is asking: the client's address, so per-user rate limits survive reloading the page."""
    host = request.client.host if request is not None and request.client is not None else "unknown"
    return User(id=f"ip:{host}", name="访客")


def example_questions(app: BotApp, limit: int = MAX_EXAMPLES) -> list[str]:
    """The first question of each corpus topic, for the clickable examples under the box."""
    by_topic: dict[str, str] = {}
    for item in app.engine.corpus.items.values():
        if item.questions and item.topic not in by_topic:
            by_topic[item.topic] = item.questions[0]
    return list(by_topic.values())[:limit]


def build_page(app: BotApp, cfg: Config) -> gr.Blocks:
    """The page's Blocks, wired to `app`; launch it with adapters.web.server.serve (or any Gradio server)."""
    first_style = app.default_style(None)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as page:
        # Made by the first event of each page load (not by a load event, which API clients skip).
        visitor = gr.State(None)
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                chat = gr.Chatbot(label="对话", height=460, buttons=["copy"], feedback_options=None,
                                  group_consecutive_messages=False, elem_id="sf-chat",
                                  placeholder="还没有对话。先在下面输入一个问题。")
                with gr.Row():
                    question = gr.Textbox(show_label=False, placeholder=PLACEHOLDER, scale=5, max_lines=4,
                                          elem_id="sf-question", autofocus=True)
                    send = gr.Button("发送", variant="primary", scale=1, min_width=80)
                examples = example_questions(app)
                if examples:
                    gr.Examples([[q] for q in examples], inputs=[question], label="试试这些问题")
            with gr.Column(scale=1, min_width=180, elem_id="sf-styles"):
                gr.Markdown("**回答风格**")
                style_buttons = {
                    sid: gr.Button(s.label_zh, variant="primary" if sid == first_style else "secondary",
                                   elem_id=f"sf-style-{sid}")
                    for sid, s in app.styles.items()
                }
                another = gr.Button("🔄 换一个", elem_id="sf-another")
                clear = gr.Button("🧹 清空对话", elem_id="sf-clear")
        gr.Markdown('<span class="sf-meta">每个回答下方的小字是它的来源（语料库 / 模型生成 / 通用回答）'
                    "和它匹配到的语料库问题。</span>")

        outputs = [visitor, chat, question, *style_buttons.values()]

        def view(v: Visitor, box: str = "") -> tuple:
            """Everything a handler shows: the chat, the box, and which style button is lit."""
            lit = [gr.Button(variant="primary" if sid == v.style else "secondary") for sid in style_buttons]
            return (v, v.messages, box, *lit)

        def this(v: Visitor | None) -> Visitor:
            return v if v is not None else Visitor.new(first_style)

        async def stream(v: Visitor, steps: AsyncIterator[None], box: str = "") -> AsyncIterator[tuple]:
            async with v.turn():
                yield view(v, box)
                async for _ in steps:
                    yield view(v, box)
                yield view(v, box)

        async def on_ask(text: str, v: Visitor | None, request: gr.Request) -> AsyncIterator[tuple]:
            """发送 / Enter: ask the typed question in the visitor's style."""
            v = this(v)
            async for out in stream(v, turns.ask(app, v, visitor_user(request), text)):
                yield out

        def on_style(style: str) -> Callable:
            async def handler(text: str, v: Visitor | None, request: gr.Request) -> AsyncIterator[tuple]:
                """A style button: ask the typed question in it, or re-answer the last question in it."""
                v, user = this(v), visitor_user(request)
                steps = (turns.ask(app, v, user, text, style) if text.strip()
                         else turns.restyle(app, v, user, style, notify))
                async for out in stream(v, steps):
                    yield out
            handler.__name__ = f"style_{style}"
            return handler

        async def on_another(text: str, v: Visitor | None, request: gr.Request) -> AsyncIterator[tuple]:
            """换一个: another answer to the last question, in place of the last answer."""
            v = this(v)
            async for out in stream(v, turns.another(app, v, visitor_user(request), notify), box=text):
                yield out

        def on_clear(v: Visitor | None) -> tuple:
            v = this(v)
            v.clear()
            return view(v)

        answering = {"outputs": outputs, "concurrency_id": ANSWER_QUEUE,
                     "concurrency_limit": cfg.web.concurrency, "show_progress": "hidden"}
        question.submit(on_ask, [question, visitor], api_name="ask", **answering)
        send.click(on_ask, [question, visitor], api_visibility="private", **answering)
        for sid, button in style_buttons.items():
            button.click(on_style(sid), [question, visitor], api_name=f"style_{sid}", **answering)
        another.click(on_another, [question, visitor], api_name="another", **answering)
        clear.click(on_clear, [visitor], outputs, api_name="clear", queue=False)
        chat.clear(on_clear, [visitor], outputs, api_visibility="private", queue=False)  # the chat's 🗑

    page.queue(default_concurrency_limit=cfg.web.concurrency, max_size=cfg.web.queue_size)
    return page
