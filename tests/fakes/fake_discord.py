"""A fake Discord (aiohttp on 127.0.0.1): the REST API and the gateway websocket the real discord.py talks to.

The gateway says HELLO, answers IDENTIFY with READY and GUILD_CREATE (one guild, two text channels) and
dispatches MESSAGE_CREATE and INTERACTION_CREATE. REST keeps every message so edits, replies and button
presses refer to real ones, answers interactions as Discord does (3 s deadline, one acknowledgement: a
second is error 40060, @original, follow-ups), enforces the 2000-character and component limits, hides
message content from bots without the message-content intent, and can be told to fail calls (429 with
retry_after). Responses are `application/json` exactly, snowflakes strings, as discord.py expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web
from conftest import module_engine, write_config

from bot.config import load_config

TOKEN = "fake-discord-token"
APP = "700000000000000001"  # the application id, which is also the bot user's id
GUILD, CHANNEL, OTHER_CHANNEL = "800000000000000001", "800000000000000002", "800000000000000003"
MESSAGE_CONTENT = 1 << 15  # the privileged intent
CONTENT_ALLOWED = 1 << 19  # application flag GATEWAY_MESSAGE_CONTENT_LIMITED
EPHEMERAL, LOADING = 1 << 6, 1 << 7
ALL_PERMISSIONS = str((1 << 50) - 1)


def user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT = user(APP, "SpringFest", bot=True)


@dataclass
class Call:
    route: str  # the handler's name, e.g. "create_message"
    params: dict[str, str]  # path parameters
    body: Any
    at: float = field(default_factory=time.monotonic)
    status: int = 200


class FakeDiscord:
    def __init__(self, *, content_allowed: bool = True, token: str = TOKEN) -> None:
        self.content_allowed = content_allowed  # the portal switch for the message-content intent
        self.token = token  # the one bot token it accepts (others get 401)
        self.windows: dict[str, tuple[float, int, float]] = {}  # route -> (until, status, retry_after)
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.interactions: dict[str, dict[str, Any]] = {}
        self.identified: list[dict[str, Any]] = []  # IDENTIFY payloads received
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.failures_after: dict[str, list[int]] = {}  # route -> statuses answered after doing the call
        self.nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) -> the message created with it
        self.interaction_deadline_s = 3.0
        self.members = [BOT]
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._seq = itertools.count(1)
        self._sessions: list[_Session] = []  # identified gateway connections
        self.sessions_started = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        api = "/api/v10"
        for method, path, name in (
            ("GET", "/users/@me", "me"),
            ("GET", "/oauth2/applications/@me", "application"),
            ("GET", "/gateway/bot", "gateway_bot"),
            ("PUT", "/applications/{app}/commands", "sync_commands"),
            ("POST", "/channels/{channel}/messages", "create_message"),
            ("PATCH", "/channels/{channel}/messages/{message}", "edit_message"),
            ("POST", "/channels/{channel}/typing", "typing"),
            ("POST", "/interactions/{interaction}/{token}/callback", "interaction_callback"),
            ("GET", "/webhooks/{app}/{token}/messages/@original", "get_original"),
            ("PATCH", "/webhooks/{app}/{token}/messages/@original", "edit_original"),
            ("DELETE", "/webhooks/{app}/{token}/messages/@original", "delete_original"),
            ("POST", "/webhooks/{app}/{token}", "followup"),
        ):
            app.router.add_route(method, api + path, self._rest(name))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for session in list(self._sessions):
            await session.ws.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- what tests do -----------------------------------------------------------------------------
    def message(
        self,
        channel: str,
        author: dict[str, Any],
        content: str,
        *,
        mentions: list[dict[str, Any]] = (),
        reply_to: dict[str, Any] | None = None,
        guild: bool = True,
    ) -> dict[str, Any]:
        """Someone posts a message: stored and dispatched as MESSAGE_CREATE."""
        msg = self._new_message(channel, author, content, guild=guild)
        msg["mentions"] = list(mentions)
        if reply_to is not None:
            msg["type"] = 19
            msg["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": channel,
                "guild_id": GUILD,
            }
            msg["referenced_message"] = reply_to
            if reply_to["author"]["id"] == APP and not any(m["id"] == APP for m in msg["mentions"]):
                msg["mentions"].append(BOT)  # a reply pings its author by default
        self._dispatch("MESSAGE_CREATE", msg)
        return msg

    def slash(self, channel: str, who: dict[str, Any], command: str, locale: str = "zh-CN", **options) -> str:
        """A slash command; options are string options by name. Returns the interaction id."""
        data = {
            "id": self._command_id(command),
            "name": command,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
        }
        return self._interaction(2, channel, who, data, locale=locale)

    def context_menu(self, channel: str, who: dict[str, Any], target: dict[str, Any], name: str) -> str:
        """A message context-menu command used on `target`."""
        data = {
            "id": self._command_id(name),
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        return self._interaction(2, channel, who, data)

    def press(self, channel: str, who: dict[str, Any], message: dict[str, Any], custom_id: str) -> str:
        """A button press on `message` (as stored: its components as the bot last set them)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interaction(3, channel, who, data, message=self.messages[message["id"]])

    def acknowledge(self, interaction: str) -> None:
        """The interaction gets acknowledged before the bot's own callback arrives (a deferred update)."""
        it = self.interactions[interaction]
        it["acked"] = 6 if it["message"] else 5
        if it["message"]:
            it["original"] = it["message"]
        else:
            placeholder = self._new_message(it["channel"], BOT, "")
            placeholder["flags"] = LOADING
            it["original"] = placeholder["id"]

    def fail_next(self, route: str, status: int = 429, retry_after: float = 0.3, times: int = 1,
                  payload: Any = None) -> None:
        """The next `times` calls of `route` answer `status` with a rate-limit body, or with `payload` (any
        JSON; strings may hold "{authorization}", replaced by the request's Authorization header)."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        self.failures.setdefault(route, []).extend([(status, body if payload is None else payload)] * times)

    def fail_after_next(self, route: str, status: int = 503, times: int = 1) -> None:
        """The next `times` calls of `route` are done (a message is created), then answered `status`, as a
        proxy in front of Discord may when the backend is slow: the client cannot know it worked."""
        self.failures_after.setdefault(route, []).extend([status] * times)

    def fail_for(self, route: str, seconds: float, status: int = 429, retry_after: float = 0.3) -> None:
        """Every call of `route` in the next `seconds` answers `status` (after any fail_next ones)."""
        self.windows[route] = (time.monotonic() + seconds, status, retry_after)

    def of(self, route: str, *, ok: bool = True) -> list[Call]:
        return [c for c in self.calls if c.route == route and (c.status < 300 or not ok)]

    def bot_messages(self, channel: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel and m["author"]["id"] == APP and not m["flags"] & LOADING
        ]

    def replies_to(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            m
            for m in self.bot_messages(msg["channel_id"])
            if m.get("message_reference", {}).get("message_id") == msg["id"]
        ]

    def original(self, interaction_id: str) -> dict[str, Any] | None:
        original = self.interactions[interaction_id].get("original")
        return self.messages.get(original) if original else None

    async def wait_for(self, condition, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                said = [m["content"] for m in self.messages.values() if m["author"]["id"] == APP]
                raise AssertionError(f"timed out; calls: {[c.route for c in self.calls]}; bot said: {said}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass

    # -- gateway -----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Session(ws)
        writer = asyncio.create_task(session.write())
        session.send({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    break
                msg = json.loads(frame.data)
                if msg["op"] == 1:
                    session.send({"op": 11, "d": None})
                elif msg["op"] == 2:
                    await self._identify(session, msg["d"])
                elif msg["op"] == 6:  # no sessions to resume here
                    session.send({"op": 9, "d": False})
        finally:
            self._sessions = [s for s in self._sessions if s is not session]
            writer.cancel()
            self._touch()
        return ws

    async def _identify(self, session: _Session, d: dict[str, Any]) -> None:
        self.identified.append(d)
        if d.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        session.intents = d.get("intents", 0)
        if session.intents & MESSAGE_CONTENT and not self.content_allowed:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        ready = {
            "v": 10,
            "user": BOT,
            "guilds": [{"id": GUILD, "unavailable": True}],
            "session_id": secrets.token_hex(8),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP, "flags": CONTENT_ALLOWED if self.content_allowed else 0},
        }
        self._sessions.append(session)
        self.sessions_started += 1
        self._event(session, "READY", ready)
        self._event(session, "GUILD_CREATE", self._guild())
        self._touch()

    def _event(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.send({"op": 0, "t": event, "s": next(self._seq), "d": data})

    def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        for session in self._sessions:
            payload = data
            if event == "MESSAGE_CREATE" and not session.intents & MESSAGE_CONTENT:
                payload = _without_content(data)
            self._event(session, event, payload)

    # -- REST --------------------------------------------------------------------------------------
    def _rest(self, name: str):
        async def handle(request: web.Request) -> web.Response:
            body = await request.json() if request.can_read_body else None
            call = Call(name, dict(request.match_info), body)
            self.calls.append(call)
            try:
                # Interaction callbacks and webhooks go by their token, everything else by the bot token.
                by_token = name == "interaction_callback" or name.endswith(("original", "followup"))
                if not by_token and request.headers.get("Authorization") != f"Bot {self.token}":
                    call.status = 401
                    return _json({"message": "401: Unauthorized", "code": 0}, 401)
                queued = self.failures.get(name)
                if queued:
                    status, payload = queued.pop(0)
                    call.status = status
                    if isinstance(payload, dict) and "retry_after" in payload:
                        headers = {"Retry-After": str(payload["retry_after"]), "Via": "1.1 google"}
                        return _json(payload, status, headers)
                    auth = request.headers.get("Authorization", "")
                    return _json(_filled(payload, auth), status, {"Via": "1.1 google"})
                until, status, retry_after = self.windows.get(name, (0.0, 0, 0.0))
                if time.monotonic() < until:
                    call.status = status
                    payload = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
                    headers = {"Retry-After": str(retry_after), "Via": "1.1 google"}
                    return _json(payload if status == 429 else {"message": "Server Error", "code": 0}, status, headers)
                status, payload = await getattr(self, "_r_" + name)(call.params, body, request)
                if status < 300 and self.failures_after.get(name):
                    call.status = self.failures_after[name].pop(0)
                    return _json({"message": "Service Unavailable", "code": 0}, call.status, {"Via": "1.1 google"})
                call.status = status
                return _json(payload, status)
            finally:
                self._touch()

        return handle

    async def _r_me(self, p, body, request):
        return 200, BOT

    async def _r_application(self, p, body, request):
        flags = CONTENT_ALLOWED if self.content_allowed else 0
        owner = user("100000000000000009", "AppOwner")
        return 200, {
            "id": APP,
            "name": "SpringFest",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner,
            "verify_key": "00",
            "flags": flags,
        }

    async def _r_gateway_bot(self, p, body, request):
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    async def _r_sync_commands(self, p, body, request):
        self.commands = [
            {"description": "", **c, "id": self._command_id(c["name"]), "application_id": APP, "version": "1"}
            for c in body
        ]
        return 200, self.commands

    async def _r_create_message(self, p, body, request):
        error = _check(body)
        if error:
            return 400, error
        # As Discord: with enforce_nonce, a message created with the same nonce a short while ago is
        # answered again instead of creating a copy (discord.py sends enforce_nonce with every nonce).
        key = (p["channel"], str(body.get("nonce")))
        if body.get("enforce_nonce") and body.get("nonce") is not None and self.nonces.get(key) in self.messages:
            return 200, self.messages[self.nonces[key]]
        msg = self._new_message(p["channel"], BOT, body.get("content") or "")
        if body.get("nonce") is not None:
            msg["nonce"] = str(body["nonce"])
            self.nonces[key] = msg["id"]
        msg["components"] = body.get("components") or []
        ref = body.get("message_reference")
        if ref:
            msg["type"] = 19
            ref_id = str(ref["message_id"])  # discord.py sends ids as numbers; Discord answers with strings
            msg["message_reference"] = {
                "type": 0,
                "message_id": ref_id,
                "channel_id": p["channel"],
                "guild_id": GUILD,
            }
            msg["referenced_message"] = self.messages.get(ref_id)
        self._dispatch("MESSAGE_CREATE", msg)
        return 200, msg

    async def _r_edit_message(self, p, body, request):
        msg = self.messages.get(p["message"])
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        if msg["author"]["id"] != APP:
            return 403, {"message": "Cannot edit a message authored by another user", "code": 50005}
        error = _check(body)
        if error:
            return 400, error
        _apply_edit(msg, body)
        return 200, msg

    async def _r_typing(self, p, body, request):
        return 204, None

    async def _r_interaction_callback(self, p, body, request):
        it = self.interactions.get(p["interaction"])
        if it is None or it["token"] != p["token"]:
            return 404, {"message": "Unknown interaction", "code": 10062}
        if it["acked"] is not None:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        if time.monotonic() - it["created"] > self.interaction_deadline_s:
            return 404, {"message": "Unknown interaction", "code": 10062}
        kind, data = body["type"], body.get("data") or {}
        error = _check(data)
        if error:
            return 400, error
        it["acked"] = kind
        message = None
        if kind in (4, 5):  # a new message (5: "thinking…" until edited)
            message = self._new_message(it["channel"], BOT, data.get("content") or "")
            message["components"] = data.get("components") or []
            message["flags"] = (data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message["interaction_metadata"] = {"id": it["id"], "type": it["type"], "user": it["user"]}
            it["original"] = message["id"]
        elif kind in (6, 7):  # the pressed message (7: edited now)
            message = self.messages[it["message"]]
            if kind == 7:
                _apply_edit(message, data)
            it["original"] = message["id"]
        interaction = {
            "id": it["id"],
            "type": it["type"],
            "response_message_id": it.get("original"),
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
        }
        resource = {"type": kind, **({"message": message} if message and kind != 6 else {})}
        return 200, {"interaction": interaction, "resource": resource}

    def _original_of(self, p) -> dict[str, Any] | None:
        it = next((i for i in self.interactions.values() if i["token"] == p["token"]), None)
        return self.messages.get(it.get("original")) if it and it["acked"] is not None else None

    async def _r_get_original(self, p, body, request):
        msg = self._original_of(p)
        return (200, msg) if msg else (404, {"message": "Unknown Message", "code": 10008})

    async def _r_edit_original(self, p, body, request):
        msg = self._original_of(p)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        error = _check(body)
        if error:
            return 400, error
        _apply_edit(msg, body)
        msg["flags"] &= ~LOADING
        return 200, msg

    async def _r_delete_original(self, p, body, request):
        msg = self._original_of(p)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        del self.messages[msg["id"]]
        return 204, None

    async def _r_followup(self, p, body, request):
        it = next((i for i in self.interactions.values() if i["token"] == p["token"]), None)
        if it is None or it["acked"] is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        error = _check(body)
        if error:
            return 400, error
        loading = self.messages.get(it.get("original") or "")
        if loading is not None and loading["flags"] & LOADING:  # the first follow-up replaces "thinking…"
            _apply_edit(loading, body)
            loading["flags"] &= ~LOADING
            return 200, loading
        msg = self._new_message(it["channel"], BOT, body.get("content") or "")
        msg["components"] = body.get("components") or []
        msg["flags"] = body.get("flags") or 0
        return 200, msg

    # -- payloads ----------------------------------------------------------------------------------
    def _interaction(
        self, kind: int, channel: str, who: dict, data: dict, *, locale="zh-CN", message=None
    ) -> str:
        iid = str(next(self._ids))
        it = {"id": iid, "type": kind, "token": secrets.token_urlsafe(24), "channel": channel, "user": who}
        it.update(acked=None, created=time.monotonic(), message=message["id"] if message else None)
        self.interactions[iid] = it
        payload = {
            "id": iid,
            "application_id": APP,
            "type": kind,
            "data": data,
            "guild_id": GUILD,
            "channel_id": channel,
            "channel": _channel(channel),
            "member": _member(who),
            "token": it["token"],
            "version": 1,
            "locale": locale,
            "guild_locale": "zh-CN",
            "app_permissions": ALL_PERMISSIONS,
            "attachment_size_limit": 26214400,
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD},
            "context": 0,
        }
        if message is not None:
            payload["message"] = message
        self._dispatch("INTERACTION_CREATE", payload)
        return iid

    def _new_message(self, channel: str, author: dict, content: str, *, guild: bool = True) -> dict[str, Any]:
        mid = str(next(self._ids))
        msg = {
            "id": mid,
            "channel_id": channel,
            "author": author,
            "content": content,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
            "edits": [],  # not Discord's: the texts this message showed before, for the tests
        }
        if guild:
            msg["guild_id"] = GUILD
        self.messages[mid] = msg
        return msg

    def _command_id(self, name: str) -> str:
        return str(900_000_000_000_000_000 + sum(map(ord, name)))

    def _guild(self) -> dict[str, Any]:
        everyone = {"id": GUILD, "name": "@everyone", "permissions": "104324673", "position": 0, "color": 0}
        everyone.update(hoist=False, managed=False, mentionable=False, flags=0)
        return {
            "id": GUILD,
            "name": "家族群",
            "unavailable": False,
            "member_count": len(self.members),
            "large": False,
            "owner_id": self.members[-1]["id"],
            "preferred_locale": "zh-CN",
            "roles": [everyone],
            "channels": [_channel(CHANNEL), _channel(OTHER_CHANNEL)],
            "members": [_member(u) for u in self.members],
            "emojis": [],
            "stickers": [],
            "features": [],
            "threads": [],
            "presences": [],
            "voice_states": [],
        }

    def _touch(self) -> None:
        self._changed.set()


class _Session:
    """One gateway connection; events go out in order through a queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws, self.intents = ws, 0
        self._out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def send(self, payload: dict[str, Any]) -> None:
        self._out.put_nowait(payload)

    async def write(self) -> None:
        while True:
            payload = await self._out.get()
            if self.ws.closed:
                return
            await self.ws.send_str(json.dumps(payload, ensure_ascii=False))


def _channel(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "type": 0,
        "guild_id": GUILD,
        "name": f"channel-{cid[-1]}",
        "position": int(cid[-1]),
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def _member(u: dict[str, Any]) -> dict[str, Any]:
    joined = "2024-01-01T00:00:00+00:00"
    return {"user": u, "roles": [], "joined_at": joined, "deaf": False, "mute": False, "flags": 0}


def _without_content(msg: dict[str, Any]) -> dict[str, Any]:
    """What a bot without the message-content intent receives: no text unless it is mentioned (or a DM)."""
    if any(m["id"] == APP for m in msg["mentions"]) or msg["author"]["id"] == APP or "guild_id" not in msg:
        out = dict(msg)
    else:
        out = {**msg, "content": "", "components": [], "embeds": []}
    if out.get("referenced_message") and out["referenced_message"]["author"]["id"] != APP:
        out["referenced_message"] = {**out["referenced_message"], "content": ""}
    return out


def _check(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """Discord's limits on what the bot sends: 2000 characters, 5 rows of 5 buttons, custom_id 100."""
    body = body or {}
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content: Must be 2000 or fewer in length.")
    rows = body.get("components") or []
    if len(rows) > 5 or any(len(r.get("components", [])) > 5 for r in rows):
        problems.append("components: too many")
    for r in rows:
        for c in r.get("components", []):
            if len(c.get("custom_id", "")) > 100 or len(c.get("label", "")) > 80:
                problems.append("components: custom_id or label too long")
    if problems:
        return {"message": "Invalid Form Body", "code": 50035, "errors": problems}
    return None


def _apply_edit(msg: dict[str, Any], body: dict[str, Any]) -> None:
    msg["edits"].append(msg["content"])
    if "content" in body:
        msg["content"] = body["content"] or ""
    if "components" in body:
        msg["components"] = body["components"] or []
    msg["edited_timestamp"] = datetime.now(UTC).isoformat()


def _filled(payload: Any, authorization: str) -> Any:
    """`payload` with "{authorization}" in its strings replaced (a server echoing what it was sent)."""
    if isinstance(payload, str):
        return payload.replace("{authorization}", authorization)
    if isinstance(payload, dict):
        return {k: _filled(v, authorization) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_filled(v, authorization) for v in payload]
    return payload


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if status == 204:
        return web.Response(status=204)
    # Exactly "application/json": discord.py parses a body only for that content type.
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def custom_ids(message: dict[str, Any]) -> dict[str, str]:
    """Button label -> custom_id of a stored message."""
    return {c["label"]: c["custom_id"] for row in message["components"] for c in row["components"]}


def selected(message: dict[str, Any]) -> list[str]:
    """Labels of the primary-style (selected) buttons."""
    return [c["label"] for row in message["components"] for c in row["components"] if c["style"] == 1]


# -- running the real bot against the fake ---------------------------------------------------------------
OWNER = user("100000000000000001", "Owner")
AUNT = user("100000000000000002", "二姨")
UNCLE = user("100000000000000003", "舅舅")
OTHER_BOT = user("100000000000000004", "OtherBot", bot=True)
MENTION = f"<@{APP}>"
MARRIAGE = "你打算什么时候结婚啊？"
SALARY = "你一个月挣多少钱？"
CONTEXT_MENU = "用 SpringFest 回复"


@pytest.fixture(scope="module")
def dc_shared(tmp_path_factory):
    """The mini data directory and an engine over it, built once for the module."""
    data, _, engine = module_engine(tmp_path_factory, seed=5)
    return data, engine


@pytest.fixture
def dc_make_cfg(dc_shared, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)

    def make(**sections):
        sections.setdefault("access", {"owners": [OWNER["id"]]})
        sections.setdefault("discord", {"messages_per_5s": 1000})
        return load_config(write_config(tmp_path, dc_shared[0], **sections))

    return make


@pytest.fixture
async def dc(dc_shared, dc_make_cfg, no_errors_logged, monkeypatch):
    """A fake Discord with discord.py pointed at it; yields a Harness to start and restart the bot."""
    fake = await FakeDiscord().start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    harness = Harness(fake, dc_shared[1], dc_make_cfg)
    yield harness
    await harness.stop()
    await fake.stop()


class Harness:
    """Starts adapters.discord.client.serve (the unmodified client.start()) against the fake; restarts it."""

    def __init__(self, fake: FakeDiscord, engine, make_cfg) -> None:
        self.fake, self.engine, self.make_cfg = fake, engine, make_cfg
        self.cfg = None
        self.app = None
        self.task: asyncio.Task | None = None

    async def start(self, engine=None, client_options: dict | None = None, **sections) -> Harness:
        from adapters.discord.client import serve
        from bot.app import BotApp
        from bot.store import Store

        if sections or self.cfg is None:
            self.cfg = self.make_cfg(**sections)
        self.app = BotApp(engine or self.engine, self.cfg, Store(self.cfg.path(self.cfg.state.path)))
        started = self.fake.sessions_started
        options = {"guild_ready_timeout": 0.05, **(client_options or {})}
        self.task = asyncio.create_task(serve(self.app, self.cfg, **options))
        await self.fake.wait_for(lambda: self.fake.sessions_started > started or self.task.done())
        if self.task.done():
            self.task.result()  # raise what stopped it
        return self

    async def stop(self) -> None:
        if self.task and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.app:
            await self.app.aclose()
            self.app = None

    async def approve(self, channel: str = CHANNEL) -> None:
        ask = self.fake.message(channel, OWNER, f"{MENTION} /approve", mentions=[BOT])
        await self.fake.wait_for(lambda: any("已开通" in m["content"] for m in self.fake.replies_to(ask)))

    async def reply_to(self, msg: dict, count: int = 1) -> list[dict]:
        """Wait for `count` bot messages replying to `msg`, each with its final content; return them."""
        await self.fake.wait_for(lambda: len(self.fake.replies_to(msg)) >= count)
        return self.fake.replies_to(msg)

    async def response_to(self, interaction: str) -> dict:
        """Wait for the interaction's original response to be settled (not "thinking…"); return it."""

        def settled():
            msg = self.fake.original(interaction)
            return msg is not None and not msg["flags"] & LOADING and msg["content"]

        await self.fake.wait_for(settled)
        return self.fake.original(interaction)


def answers(engine, item: str, style: str) -> list[str]:
    return engine.corpus.items[item].answers[style]
