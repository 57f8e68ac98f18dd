"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) that the real python-telegram-bot talks HTTP to.

It decodes PTB's form-encoded bodies (JSON strings inside fields such as reply_markup), honours getUpdates
offsets with long polling, keeps the messages it was sent so edits and button presses refer to real
ones, enforces Telegram's size limits, and can be told to fail the next calls (429, 5xx, or done and then
answered too late: `late`) or a seeded random share of them (`inject(Faults(...))`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from conftest import module_engine, write_config

from bot.config import load_config

TOKEN = "123456:TEST-token"
BOT = {"id": 999, "is_bot": True, "first_name": "SpringFest", "username": "SpringFestTestBot"}
# Fields PTB sends as JSON strings inside form fields.
JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "commands",
    "entities",
    "results",
    "allowed_updates",
    "link_preview_options",
    "scope",
    "caption_entities",
    "button",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 0  # the HTTP status answered (0 while pending); a late answer keeps the status it had
    fault: str | None = None  # "429", "500" or "late" when this call was failed on purpose


LATE = "late"  # a fail_next status: the call is done (message stored, edit applied), then answered too late


@dataclass
class Faults:
    """A seeded random share of `methods` calls fail: answered 429 (retry_after drawn from `retry_after_s`,
    whole seconds as Telegram gives them), answered 500 (not done), or done and then answered only after
    `hold_s` (longer than the client's read timeout: from the client's side, a timeout after delivery)."""

    seed: int = 0
    rate_limited: float = 0.0
    server_error: float = 0.0
    late: float = 0.0
    retry_after_s: tuple[int, int] = (1, 3)
    hold_s: float = 2.0
    methods: tuple[str, ...] = ("sendMessage", "editMessageText")


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token  # the one token it accepts (others get 401, as Telegram answers a revoked one)
        self.rejected: list[str] = []  # methods called with another token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.offset_seen = 0
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message_id) -> message
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.latency_s = 0.0
        self.hold_s = 2.0  # how late a LATE answer comes (make it longer than the client's read timeout)
        self.faults: Faults | None = None
        self._fault_rng = random.Random(0)
        self.injected: Counter[str] = Counter()  # faults answered, by kind ("429", "500", "late")
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._new_update = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.polls = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests push ---------------------------------------------------------------------------
    def push(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self._new_update.set()
        return update_id

    def message(
        self,
        chat: int,
        user: dict[str, Any],
        text: str = "",
        *,
        reply_to: dict[str, Any] | None = None,
        mention: bool = False,
        sticker: bool = False,
        edited: bool = False,
        chat_type: str | None = None,
        command: bool | None = None,
    ) -> dict[str, Any]:
        """Push a user's message; `mention` adds a real mention entity for every @username in the text."""
        msg = {
            "message_id": self._next_id(chat),
            "date": int(time.time()),
            "chat": _chat(chat, chat_type),
            "from": user,
        }
        if sticker:
            msg["sticker"] = {
                "file_id": "s1",
                "file_unique_id": "s1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "😂",
            }
        else:
            msg["text"] = text
            entities = _entities(text, command)
            if entities:
                msg["entities"] = entities
        if reply_to:
            msg["reply_to_message"] = reply_to
        self.messages[(chat, msg["message_id"])] = msg
        self.push("edited_message" if edited else "message", msg)
        return msg

    def press(self, chat: int, user: dict[str, Any], message: dict[str, Any], data: str) -> int:
        """Push a press of a button whose callback_data is `data` on `message`."""
        query = {
            "id": str(next(self._update_ids) + 10_000),
            "from": user,
            "chat_instance": f"ci{chat}",
            "message": message,
            "data": data,
        }
        return self.push("callback_query", query)

    def inline(self, user: dict[str, Any], text: str) -> str:
        query_id = f"iq{next(self._update_ids)}"
        self.push("inline_query", {"id": query_id, "from": user, "query": text, "offset": ""})
        return query_id

    def inject(self, faults: Faults | None) -> None:
        """Fail a random share of calls from now on (None: stop); the draws repeat for the same seed."""
        self.faults = faults
        if faults is not None:
            self._fault_rng, self.hold_s = random.Random(faults.seed), faults.hold_s

    def fail_next(self, method: str, status: int | str = 429, retry_after: int = 1, times: int = 1,
                  text: str | None = None) -> None:
        """Make the next `times` calls of `method` fail (429 with retry_after, or another HTTP status; LATE:
        done, then answered after `hold_s`).

        `text`: answer with this non-JSON body instead, "{path}" replaced by the request's path (which holds
        the token), as a proxy's error page may."""
        if status == LATE:
            self.failures.setdefault(method, []).extend([(LATE, {})] * times)
            return
        body = (
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            if status == 429
            else {"ok": False, "error_code": status, "description": "Internal Server Error"}
        )
        self.failures.setdefault(method, []).extend([(status, text if text is not None else body)] * times)

    # -- what tests read ---------------------------------------------------------------------------
    def of(self, method: str, chat: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat is None or int(c.params.get("chat_id", 0)) == chat)
        ]

    def bot_messages(self, chat: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they are now (after edits), oldest first."""
        return [
            m for (c, _), m in sorted(self.messages.items()) if c == chat and m["from"]["id"] == BOT["id"]
        ]

    async def wait_for(self, condition, timeout: float = 10.0) -> None:
        """Wait until condition() is true (checked after every call the bot makes)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    "timed out waiting for the bot; calls: " + ", ".join(c.method for c in self.calls[-20:])
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass

    # -- the server --------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.rejected.append(request.match_info["method"])
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        try:
            params = await _params(request)
        except ConnectionResetError:  # the client went away mid-request (a stopped bot's long poll)
            return web.Response(status=499)
        call = Call(method, params)
        if method != "getUpdates":
            self.calls.append(call)
        try:
            if self.latency_s and method != "getUpdates":
                await asyncio.sleep(self.latency_s)
            status, body = self._fault(method)
            if status == LATE:
                call.fault = LATE
                self.injected[LATE] += 1
                response = await self._answer(method, params)
                call.status = response.status
                self._changed.set()
                # The client gave up waiting meanwhile and closed the connection: this answer goes nowhere.
                await asyncio.sleep(self.hold_s)
                return response
            if status:
                call.status, call.fault = status, str(status)
                self.injected[str(status)] += 1
                if isinstance(body, str):
                    return web.Response(text=body.replace("{path}", request.path), status=status)
                return web.json_response(body, status=status)
            response = await self._answer(method, params)
            call.status = response.status
            return response
        finally:
            self._changed.set()

    def _fault(self, method: str) -> tuple[int | str, Any]:
        """The failure this call gets: queued by fail_next first, else drawn by inject(); (0, None): none."""
        if self.failures.get(method):
            return self.failures[method].pop(0)
        f = self.faults
        if f is None or method not in f.methods:
            return 0, None
        roll = self._fault_rng.random()
        if roll < f.rate_limited:
            wait = self._fault_rng.randint(*f.retry_after_s)
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {wait}",
                         "parameters": {"retry_after": wait}}
        if roll < f.rate_limited + f.server_error:
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if roll < f.rate_limited + f.server_error + f.late:
            return LATE, None
        return 0, None

    async def _answer(self, method: str, params: dict[str, Any]) -> web.Response:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method} not in the fake")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, p):
        return BOT

    async def _m_deleteWebhook(self, p):
        return True

    async def _m_setMyCommands(self, p):
        assert all(1 <= len(c["command"]) <= 32 and 1 <= len(c["description"]) <= 256 for c in p["commands"])
        return True

    async def _m_sendChatAction(self, p):
        return True

    async def _m_getUpdates(self, p):
        offset, timeout = int(p.get("offset") or 0), float(p.get("timeout") or 0)
        self.polls += 1
        self.offset_seen = max(self.offset_seen, offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed ones are gone
        if not self.updates and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        return self.updates[: int(p.get("limit") or 100)]

    async def _m_sendMessage(self, p):
        chat, text = int(p["chat_id"]), p.get("text", "")
        if not 1 <= len(text) <= 4096:
            return _error(400, "Bad Request: message text is empty or too long")
        _check_markup(p.get("reply_markup"))
        msg = {
            "message_id": self._next_id(chat),
            "date": int(time.time()),
            "chat": _chat(chat),
            "from": BOT,
            "text": text,
        }
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        reply = (p.get("reply_parameters") or {}).get("message_id")
        if reply and (chat, int(reply)) in self.messages:
            msg["reply_to_message"] = self.messages[(chat, int(reply))]
        self.messages[(chat, msg["message_id"])] = msg
        return msg

    async def _m_editMessageText(self, p):
        chat, message_id, text = int(p["chat_id"]), int(p["message_id"]), p.get("text", "")
        msg = self.messages.get((chat, message_id))
        if msg is None or msg["from"]["id"] != BOT["id"]:
            return _error(400, "Bad Request: message to edit not found")
        if not 1 <= len(text) <= 4096:
            return _error(400, "Bad Request: message text is empty or too long")
        _check_markup(p.get("reply_markup"))
        if msg["text"] == text and msg.get("reply_markup") == p.get("reply_markup"):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg["text"] = text
        msg.pop("reply_markup", None)
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        return msg

    async def _m_answerCallbackQuery(self, p):
        return True

    async def _m_answerInlineQuery(self, p):
        assert len(p["results"]) <= 50
        return True

    def _next_id(self, chat: int) -> int:
        return next(self._message_ids.setdefault(chat, itertools.count(1)))


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


def _check_markup(markup: dict[str, Any] | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            assert len(button["callback_data"].encode()) <= 64, "callback_data over 64 bytes"


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    return {k: json.loads(v) if k in JSON_FIELDS else v for k, v in form.items()}


def _chat(chat: int, chat_type: str | None = None) -> dict[str, Any]:
    kind = chat_type or ("private" if chat > 0 else "supergroup")
    return {
        "id": chat,
        "type": kind,
        **({"title": f"group {chat}"} if kind != "private" else {"first_name": "U"}),
    }


def _entities(text: str, command: bool | None) -> list[dict[str, Any]]:
    """Entities as Telegram computes them: offsets and lengths in UTF-16 code units."""
    found = []
    for m in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{5,32}", text):
        found.append({"type": "mention", "offset": _u16(text[: m.start()]), "length": _u16(m.group(0))})
    m = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
    if m and command is not False:
        found.append({"type": "bot_command", "offset": 0, "length": _u16(m.group(0))})
    return sorted(found, key=lambda e: e["offset"])


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def user(uid: int, name: str = "Relative", lang: str = "zh-hans") -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": name, "language_code": lang}


# -- running the real bot against the fake ---------------------------------------------------------------
class Running:
    """A BotApp served by adapters.telegram.serve.serve (the real PTB Application) against a FakeTelegram."""

    def __init__(self, fake: FakeTelegram, engine, cfg) -> None:
        self.fake, self.engine, self.cfg = fake, engine, cfg
        self.app = None
        self.task: asyncio.Task | None = None

    async def start(self) -> Running:
        from adapters.telegram.serve import serve
        from bot.app import BotApp
        from bot.store import Store

        self.app = BotApp(self.engine, self.cfg, Store(self.cfg.path(self.cfg.state.path)))
        polls = self.fake.polls
        self.task = asyncio.create_task(serve(self.app, self.cfg, base_url=self.fake.base_url))
        await self.fake.wait_for(lambda: self.fake.polls > polls or self.task.done())
        if self.task.done():
            self.task.result()  # raise what stopped it
        return self

    async def stop(self) -> None:
        if self.task and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        if self.app:
            await self.app.aclose()


# -- fixtures shared by the Telegram tests (import them into a test module to use them) --------------------
GROUP, OWNER, AUNT, UNCLE = -100123, 1, 2, 3
MENTION = "@" + BOT["username"]
MARRIAGE = "你打算什么时候结婚啊？"


@pytest.fixture(scope="module")
def tg_shared(tmp_path_factory):
    """The mini data directory and an engine over it, built once for the module."""
    data, _, engine = module_engine(tmp_path_factory, seed=5)
    return data, engine


@pytest.fixture
def tg_make_cfg(tg_shared, tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)

    def make(**sections):
        sections.setdefault("access", {"owners": [OWNER]})
        sections.setdefault(
            "telegram",
            {"edit_interval_s": 0.2, "messages_per_second": 1000, "group_messages_per_minute": 1000},
        )
        return load_config(write_config(tmp_path, tg_shared[0], **sections))

    return make


@pytest.fixture
async def tg(tg_shared, tg_make_cfg, no_errors_logged):
    """Start the bot (owner 1; group GROUP approved by the owner); yields a helper with fake, start, stop."""
    fake = await FakeTelegram().start()
    harness = Harness(fake, tg_shared[1], tg_make_cfg)
    yield harness
    await harness.stop()
    await fake.stop()


class Harness:
    """Starts and restarts the bot against one fake server; waits for its replies."""

    def __init__(self, fake: FakeTelegram, engine, make_cfg) -> None:
        self.fake, self.engine, self.make_cfg, self.running = fake, engine, make_cfg, None

    async def start(self, **sections) -> Running:
        self.cfg = self.make_cfg(**sections) if sections or not hasattr(self, "cfg") else self.cfg
        self.running = await Running(self.fake, self.engine, self.cfg).start()
        return self.running

    async def stop(self) -> None:
        if self.running:
            await self.running.stop()
            self.running = None

    async def approve(self, chat: int = GROUP) -> None:
        self.fake.message(chat, user(OWNER, "Owner"), "/approve")
        await self.fake.wait_for(lambda: any("已开通" in m["text"] for m in self.fake.bot_messages(chat)))

    async def reply_to(self, msg: dict, count: int = 1) -> list[dict]:
        """Wait for `count` bot messages replying to `msg`; return them."""
        chat = msg["chat"]["id"]

        def replies():
            return [
                m
                for m in self.fake.bot_messages(chat)
                if m.get("reply_to_message", {}).get("message_id") == msg["message_id"]
            ]

        await self.fake.wait_for(lambda: len(replies()) >= count)
        return replies()


def answers(engine, item: str, style: str) -> list[str]:
    return engine.corpus.items[item].answers[style]


def labels(message: dict) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


def button(message: dict, label: str) -> str:
    return next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if label in b["text"]
    )
