"""A fake OneBot v11 client, as NapCat is one: it connects to the bot by reverse WebSocket, posts events and
answers the bot's API calls, over a real WebSocket (the `websockets` library) to a server on 127.0.0.1.

It keeps every message of its chats (the users' and the ones the bot sends), so `get_msg` returns what
NapCat would (sender, segments) and replies and reactions refer to real messages. It answers `send_msg`,
`send_group_msg`, `send_private_msg`, `get_msg`, `delete_msg`, `set_msg_emoji_like` and `get_login_info` with
OneBot responses (`{"status", "retcode", "data", "echo"}`), and can be told to answer a call with a failure
(`retcode` ≠ 0). Nothing of NoneBot is imported: this is the other side of the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

SELF_ID = 10000  # the bot's QQ number
NICKNAME = "春节问答"  # ...and its nickname
WS_PATH = "/onebot/v11/ws"


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": t}}


def at(qq: int | str) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(qq)}}


def reply(message_id: int) -> dict[str, Any]:
    return {"type": "reply", "data": {"id": str(message_id)}}


def plain(segments: list[dict[str, Any]]) -> str:
    return "".join(s["data"].get("text", "") for s in segments if s["type"] == "text")


class FakeOneBot:
    def __init__(self, port: int, *, token: str | None, self_id: int = SELF_ID) -> None:
        self.url = f"ws://127.0.0.1:{port}{WS_PATH}"
        self.token, self.self_id = token, self_id
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> what get_msg returns
        self.calls: list[dict[str, Any]] = []  # every API call, in order
        self.failures: dict[str, dict[str, Any]] = {}  # action -> the failed response to give it once
        self.ignore: set[str] = set()  # actions received but never answered
        self._ids = itertools.count(5000)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._arrived = asyncio.Condition()

    # -- connection -----------------------------------------------------------------------------------
    async def connect(self, *, token: str | None = "same") -> None:
        """Connect as NapCat does (X-Self-ID, and the token as a Bearer header unless None)."""
        token = self.token if token == "same" else token
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": "Universal"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._ws = await websockets.connect(self.url, additional_headers=headers, proxy=None, open_timeout=5)
        self._reader = asyncio.create_task(self._read(self._ws))
        await self.post({"time": int(time.time()), "self_id": self.self_id, "post_type": "meta_event",
                         "meta_event_type": "lifecycle", "sub_type": "connect"})

    async def connect_when_up(self, timeout: float = 60.0) -> None:
        """Connect as soon as the server listens (NapCat retries every few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.connect()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def drop(self) -> None:
        """Close the connection (the QQ client restarting, the network going away)."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None

    async def send_raw(self, data: str) -> None:
        assert self._ws is not None
        await self._ws.send(data)

    async def post(self, event: dict[str, Any]) -> None:
        await self.send_raw(json.dumps(event, ensure_ascii=False))

    # -- events ---------------------------------------------------------------------------------------
    def group_message(self, group_id: int, user_id: int, segments: list[dict[str, Any]], *,
                      nickname: str = "二姨") -> dict[str, Any]:
        """A group message event (array format), kept so get_msg finds it later."""
        mid = next(self._ids)
        sender = {"user_id": user_id, "nickname": nickname, "card": "", "role": "member"}
        self._keep(mid, "group", sender, segments, group_id=group_id)
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "message", "message_type": "group",
                "sub_type": "normal", "message_id": mid, "group_id": group_id, "user_id": user_id,
                "anonymous": None, "message": segments, "raw_message": plain(segments), "font": 14,
                "sender": sender, "message_format": "array"}

    def private_message(self, user_id: int, segments: list[dict[str, Any]], *, nickname: str = "小王"):
        mid = next(self._ids)
        sender = {"user_id": user_id, "nickname": nickname}
        self._keep(mid, "private", sender, segments)
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "message",
                "message_type": "private", "sub_type": "friend", "message_id": mid, "user_id": user_id,
                "message": segments, "raw_message": plain(segments), "font": 14, "sender": sender,
                "message_format": "array"}

    def reaction(self, group_id: int, user_id: int, message_id: int, emoji_id: str) -> dict[str, Any]:
        """NapCat's notice of an emoji reaction on a group message."""
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": "notice",
                "notice_type": "group_msg_emoji_like", "group_id": group_id, "user_id": user_id,
                "message_id": message_id, "likes": [{"emoji_id": emoji_id, "count": 1}], "is_add": True}

    def _keep(self, mid: int, kind: str, sender: dict, segments: list, **where: Any) -> None:
        self.messages[mid] = {"time": int(time.time()), "message_type": kind, "message_id": mid, "real_id": mid,
                              "message_seq": mid, "sender": sender, "message": segments, **where}

    # -- API calls ------------------------------------------------------------------------------------
    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                call = json.loads(raw)
                if call["action"] not in self.ignore:
                    call["response"] = self._answer(call)
                async with self._arrived:
                    self.calls.append(call)
                    self._arrived.notify_all()
                if "response" in call:
                    await ws.send(json.dumps({**call["response"], "echo": call.get("echo")}, ensure_ascii=False))

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        action, params = call["action"], call.get("params", {})
        if action in self.failures:
            return self.failures.pop(action)
        if action in ("send_msg", "send_group_msg", "send_private_msg"):
            mid = next(self._ids)
            group = params.get("group_id")
            kind = params.get("message_type") or ("group" if group is not None else "private")
            self._keep(mid, kind, {"user_id": self.self_id, "nickname": NICKNAME}, params["message"],
                       **({"group_id": group} if group is not None else {}))
            return ok({"message_id": mid})
        if action == "get_login_info":
            return ok({"user_id": self.self_id, "nickname": NICKNAME})
        if action == "get_msg":
            found = self.messages.get(int(params["message_id"]))
            return ok(found) if found else failed(1404, "消息不存在")
        if action == "delete_msg":
            return ok(None) if self.messages.pop(int(params["message_id"]), None) else failed(1404, "消息不存在")
        if action == "set_msg_emoji_like":
            return ok(None) if int(params["message_id"]) in self.messages else failed(1404, "消息不存在")
        return failed(1404, f"不支持的 action: {action}")

    async def wait_calls(self, action: str, n: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The first `n` calls of `action` (waiting for them to arrive)."""

        def found() -> list[dict[str, Any]]:
            return [c for c in self.calls if c["action"] == action]

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(found()) >= n), timeout)
        return found()[:n]

    def sent_by_bot(self) -> list[dict[str, Any]]:
        """The send calls, each with the id its message got."""
        return [c for c in self.calls if c["action"] in ("send_msg", "send_group_msg", "send_private_msg")]

    @staticmethod
    def id_of(call: dict[str, Any]) -> int:
        """The message id the fake gave the message sent by `call`."""
        return call["response"]["data"]["message_id"]


def ok(data: Any) -> dict[str, Any]:
    return {"status": "ok", "retcode": 0, "data": data, "message": "", "wording": ""}


def failed(retcode: int, message: str) -> dict[str, Any]:
    return {"status": "failed", "retcode": retcode, "data": None, "message": message, "wording": message}
