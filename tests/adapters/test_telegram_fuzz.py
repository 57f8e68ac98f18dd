"""Issue 11: generated Telegram updates through the real python-telegram-bot parsing into the bot.

One bot (the real PTB Application started by adapters.telegram.serve against tests/fakes/fake_telegram.py)
and one engine serve every example: starting them per example would cost seconds. Each example checks
what it did: nothing logged at ERROR or above, and each update ignored or answered as the policy says
(a mention, a known command or a reply to the bot in the approved group, and any message in the owner's
private chat, gets exactly one reply; presses and inline queries are answered exactly once; edits,
channel posts and the like get nothing).

Two ways in:
- well-formed updates (as the Bot API documents them, with odd content): `Update.de_json` +
  `Application.process_update`, fast, for most of the examples;
- updates with fields missing or of the wrong type, queued on the fake's getUpdates so PTB's own Updater
  parses them: an update PTB cannot parse must not stall polling (PTB re-fetches a batch it failed to
  parse forever), and the bot must go on answering the updates around it.

Derandomized (fixed examples, CI is reproducible); the whole module runs in about two minutes.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import re
import time
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("fakes.fake_telegram")
from conftest import module_engine, write_config  # noqa: E402
from fakes.fake_telegram import BOT, OWNER, TOKEN, FakeTelegram, Running, _u16, user  # noqa: E402
from support.fuzzing import FUZZ, Errors, examples  # noqa: E402

from bot.config import load_config  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
              # hypothesis imports libcst, which warns about mypy_extensions
              pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")]

GROUP = -100123  # approved by the owner at start-up
CLOSED = -100777  # never approved: one refusal, then silence
STRANGER = 7  # a private chat with someone who is not an owner
USERNAME = BOT["username"]



_ids = itertools.count(1_000_000)  # message and update ids: never drawn, so examples never collide


# -- the running bot, shared by every example -----------------------------------------------------------
class OddIdsTelegram(FakeTelegram):
    """The fake, also serving updates whose update_id is missing or not a number (what the malformed-update
    test queues): such an update counts as confirmed together with the next update that has an id."""

    async def _m_getUpdates(self, p):
        offset = int(p.get("offset") or 0)
        kept, pending = [], []
        for u in self.updates:
            uid = u.get("update_id") if isinstance(u, dict) else None
            if isinstance(uid, int) and not isinstance(uid, bool):
                kept += [*pending, u] if uid >= offset else []
                pending = []
            else:
                pending.append(u)
        self.updates = kept + pending
        self.offset_seen = max(self.offset_seen, offset)
        return await super()._m_getUpdates({**p, "offset": 0})  # nothing left below the offset


class Live:
    def __init__(self, loop, fake: FakeTelegram, running: Running, application, errors: Errors) -> None:
        self.loop, self.fake, self.running, self.application, self.errors = loop, fake, running, application, errors
        self.answer: dict[str, Any] = {}  # a real answer of the bot in GROUP, with its buttons

    def run(self, coro, timeout: float = 30.0):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import importlib

    serve_module = importlib.import_module("adapters.telegram.serve")  # the package exports serve(), not it

    patch = pytest.MonkeyPatch()
    patch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    data, _, engine = module_engine(tmp_path_factory, seed=11)
    tmp = tmp_path_factory.mktemp("tg-fuzz")
    unlimited = 1_000_000  # the fuzz sends thousands of messages a minute: rate limits would hide answers
    cfg = load_config(write_config(
        tmp, data,
        access={"owners": [OWNER], "rate_limit": {"per_user_per_minute": unlimited, "per_chat_per_minute": unlimited}},
        telegram={"edit_interval_s": 0.05, "messages_per_second": unlimited, "group_messages_per_minute": unlimited},
    ))
    built = []  # the Application serve() builds: the fast path hands updates straight to it
    real_build = serve_module.build_application
    patch.setattr(serve_module, "build_application", lambda *a, **k: built.append(real_build(*a, **k)) or built[-1])
    errors = Errors()
    logging.getLogger().addHandler(errors)
    loop = asyncio.new_event_loop()
    fake = loop.run_until_complete(OddIdsTelegram().start())
    running = loop.run_until_complete(Running(fake, engine, cfg).start())
    bot = Live(loop, fake, running, built[0], errors)

    async def prepare():
        fake.message(GROUP, user(OWNER, "Owner"), "/approve")
        await fake.wait_for(lambda: any("已开通" in m["text"] for m in fake.bot_messages(GROUP)))
        fake.message(GROUP, user(2, "二姨"), f"@{USERNAME} 你打算什么时候结婚啊？", mention=True)
        await fake.wait_for(lambda: any(m.get("reply_markup") for m in fake.bot_messages(GROUP)))
        bot.answer = next(m for m in fake.bot_messages(GROUP) if m.get("reply_markup"))

    bot.run(prepare())
    assert not errors.take()
    try:
        yield bot
    finally:
        loop.run_until_complete(running.stop())
        loop.run_until_complete(fake.stop())
        loop.close()
        logging.getLogger().removeHandler(errors)
        patch.undo()


# -- strategies: pieces ---------------------------------------------------------------------------------
QUESTIONS = ("你打算什么时候结婚啊？", "你一个月挣多少钱？", "今年过年回家吗", "有对象了吗", "在吗", "照片呢？",
             "How much do you earn?", "😂😂😂", "[CQ:at,qq=all]", "<@123> hi", "\u200b", "\x00\x01", "@@@", "   ")
HUGE = st.builds(lambda piece, n: piece * n, st.sampled_from(("啊", "结婚", "a ", "😂", "\n", "@x ")),
                 st.integers(1_000, 12_000))  # up to 24,000 characters (Telegram allows 4,096)
COMMANDS = ("tactful", "deflect", "sarcastic", "help", "start", "style", "answer", "another", "approve",
            "nosuch", "TACTFUL", "x" * 70)  # no /revoke: the owner would close the group the oracle relies on
KNOWN = {"tactful", "deflect", "sarcastic", "help", "start", "style", "answer", "another", "approve"}
SUFFIXES = ("", "", f"@{USERNAME}", f"@{USERNAME.lower()}", "@OtherBot", "@")
ARGS = st.one_of(st.just(""), st.sampled_from(QUESTIONS), st.text(max_size=40), HUGE,
                 st.sampled_from(("sarcastic", "阴阳怪气", "nosuch", "/tactful", "@" + USERNAME)))


@st.composite
def texts(draw) -> str:
    """What someone types: a question, a command with garbage arguments, a mention of us or of others."""
    kind = draw(st.sampled_from(("question", "command", "command", "mention", "other", "garbage", "huge", "empty")))
    if kind == "command":
        return f"/{draw(st.sampled_from(COMMANDS))}{draw(st.sampled_from(SUFFIXES))} {draw(ARGS)}".rstrip(" ")
    if kind == "mention":
        before, after = draw(st.sampled_from(("", "，", "hi "))), draw(st.sampled_from((*QUESTIONS, "")))
        return draw(st.sampled_from((f"{before}@{USERNAME} {after}", f"{after} @{USERNAME}", f"@{USERNAME}")))
    if kind == "other":
        return f"@someone_else {draw(st.sampled_from(QUESTIONS))}"
    if kind == "garbage":
        return draw(st.text(max_size=60))
    if kind == "huge":
        return draw(HUGE)
    if kind == "empty":
        return ""
    return draw(st.sampled_from(QUESTIONS))


def true_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram computes for `text` (mentions and a leading command), in UTF-16 code units."""
    from fakes.fake_telegram import _entities

    return _entities(text, None)


ENTITY_TYPES = ("mention", "bot_command", "hashtag", "text_mention", "custom_emoji", "spoiler", "url",
                "text_link", "expandable_blockquote", "date_time", "no_such_type")


@st.composite
def garbage_entities(draw, text: str) -> list[dict[str, Any]]:
    """Entities of any type (unknown ones too) with offsets and lengths anywhere, inside or past the text."""
    size = _u16(text)
    out = []
    for _ in range(draw(st.integers(1, 3))):
        entity = {
            "type": draw(st.sampled_from(ENTITY_TYPES)),
            "offset": draw(st.one_of(st.integers(0, max(size, 1)), st.integers(-3, 40_000))),
            "length": draw(st.one_of(st.integers(0, max(size, 1)), st.integers(-3, 40_000))),
        }
        if entity["type"] == "text_mention":
            entity["user"] = draw(st.sampled_from((BOT, user(2, "二姨"))))
        if entity["type"] == "text_link":
            entity["url"] = "https://example.com"
        if entity["type"] == "custom_emoji":
            entity["custom_emoji_id"] = "5368324170671202286"
        out.append(entity)
    return out


STICKER = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
           "is_animated": False, "is_video": False, "emoji": "😂"}
PHOTO = [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]
SENDERS = {"aunt": user(2, "二姨"), "uncle": user(3, "舅舅", lang="en"), "owner": user(OWNER, "Owner"),
           "stranger": user(STRANGER, "Stranger"), "bot": {"id": 555, "is_bot": True, "first_name": "Other"}}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "U"}
    return {"id": chat_id, "type": "supergroup", "title": f"group {chat_id}"}


@st.composite
def messages(draw, chat_id: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(message, facts): a Bot API Message, and what the oracle needs to know about it."""
    sender_key = draw(st.sampled_from(tuple(SENDERS)))
    if chat_id is None:
        chat_id = draw(st.sampled_from((GROUP, GROUP, GROUP, CLOSED, "private")))
        if chat_id == "private":
            chat_id = int(SENDERS[sender_key]["id"])
    msg: dict[str, Any] = {"message_id": next(_ids), "date": int(time.time()), "chat": _chat(chat_id),
                           "from": SENDERS[sender_key]}
    content = draw(st.sampled_from(("text", "text", "text", "caption", "sticker", "photo")))
    text = draw(texts())
    garbage = draw(st.integers(0, 4)) == 0
    field = {"text": "text", "caption": "caption"}.get(content)
    if content == "sticker":
        msg["sticker"] = STICKER
    if content in ("caption", "photo"):
        msg["photo"] = PHOTO
    if field:
        msg[field] = text
        entities = draw(garbage_entities(text)) if garbage else true_entities(text)
        if entities:
            msg["entities" if field == "text" else "caption_entities"] = entities
    if draw(st.integers(0, 3)) == 0:
        msg["reply_to_message"] = draw(replied(chat_id))
    if draw(st.integers(0, 9)) == 0:
        msg["is_topic_message"], msg["message_thread_id"] = True, 5
    facts = {"sender": sender_key, "chat": chat_id, "text": text if field else None, "garbage": garbage}
    return msg, facts


@st.composite
def replied(draw, chat_id: int) -> dict[str, Any]:
    """What a message replies to: the bot's answer, a deleted message (no sender, no text), a relative's."""
    kind = draw(st.sampled_from(("bot", "deleted", "relative", "bot_unknown")))
    base = {"message_id": draw(st.integers(1, 5)), "date": int(time.time()), "chat": _chat(chat_id)}
    if kind == "bot":  # one of the bot's messages as the fake keeps them (maybe the answer with buttons)
        return {**base, "from": BOT, "text": draw(st.sampled_from(("已开通", "你打算什么时候结婚啊？", ""))) or "x"}
    if kind == "bot_unknown":  # an old answer the store does not know
        return {**base, "message_id": next(_ids), "from": BOT, "text": draw(st.sampled_from(QUESTIONS))}
    if kind == "relative":
        return {**base, "from": SENDERS["uncle"], "text": draw(st.sampled_from((*QUESTIONS, ""))) or "x"}
    return {**base, "date": 0}  # deleted: Telegram sends an inaccessible message, date 0 and nothing else


# -- the oracle -----------------------------------------------------------------------------------------
# A command as the bot layer reads it: "/name" or "/name@addressee", then a space or the end.
COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s|$)")


def must_answer(msg: dict[str, Any], facts: dict[str, Any]) -> bool | None:
    """True: exactly one reply to it; False: none; None: either (refusals once, garbage entities)."""
    if facts["sender"] == "bot":
        return False  # other bots are never answered (two bots could loop)
    if facts["garbage"]:
        return None
    text = msg.get("text") or msg.get("caption") or ""
    if not text and "sticker" not in msg:
        return False  # nothing PTB's filters let through (a photo without a caption, an empty text)
    command = COMMAND.match(text)
    if command and command.group(2) and command.group(2).lower() != USERNAME.lower():
        return False  # "/help@OtherBot": for another bot
    entities = msg.get("entities") or msg.get("caption_entities") or ()
    mentioned = any(e["type"] == "mention" and _part(text, e).lower() == "@" + USERNAME.lower() for e in entities)
    addressed = re.match(r"/[A-Za-z0-9_]+@([A-Za-z0-9_]+)", text)  # "/anything@us" names us as a mention does
    mentioned = mentioned or bool(addressed and addressed.group(1).lower() == USERNAME.lower())
    chat = facts["chat"]
    if chat == OWNER:
        return True
    if chat != GROUP:
        return None  # a stranger's or an unapproved group's: a refusal the first time, silence after
    if command:  # an unknown bare command may be meant for another bot: answered only when we are mentioned
        return command.group(1).lower() in KNOWN or mentioned
    to_bot = ((msg.get("reply_to_message") or {}).get("from") or {}).get("id") == BOT["id"]
    return mentioned or to_bot


def _part(text: str, entity: dict[str, Any]) -> str:
    raw = text.encode("utf-16-le")
    return raw[2 * entity["offset"]:2 * (entity["offset"] + entity["length"])].decode("utf-16-le")


def replies_to(fake: FakeTelegram, since: int, msg: dict[str, Any]) -> list:
    return [c for c in fake.calls[since:] if c.method == "sendMessage"
            and int(c.params["chat_id"]) == msg["chat"]["id"]
            and int((c.params.get("reply_parameters") or {}).get("message_id", 0)) == msg["message_id"]]


def check_sent(fake: FakeTelegram, since: int) -> None:
    for c in fake.calls[since:]:
        if c.method in ("sendMessage", "editMessageText"):
            assert 1 <= len(c.params["text"]) <= 4096


async def process(bot: Live, update: dict[str, Any]) -> None:
    """The fast path: PTB's parsing (Update.de_json) and its dispatch to our handlers, no polling."""
    from telegram import Update

    await bot.application.process_update(Update.de_json(update, bot.application.bot))


def settle(bot: Live, since: int) -> None:
    assert not bot.errors.take()
    check_sent(bot.fake, since)


# -- the tests ------------------------------------------------------------------------------------------
@settings(max_examples=examples(4000), **FUZZ)
@given(sample=messages())
@example(sample=({"message_id": 1, "date": 1, "chat": _chat(GROUP), "from": user(2), "text": "😂😂",
                  "entities": [{"type": "mention", "offset": 1, "length": 2}]}, {"sender": "aunt", "chat": GROUP,
                                                                                "text": "😂😂", "garbage": True}))
def test_generated_messages_are_answered_once_or_ignored(live, no_errors_logged, sample):
    msg, facts = sample
    since = len(live.fake.calls)
    live.run(process(live, {"update_id": next(_ids), "message": msg}))
    settle(live, since)
    expected, got = must_answer(msg, facts), len(replies_to(live.fake, since, msg))
    if expected is None:
        assert got <= 1
    else:
        assert got == int(expected), f"expected {int(expected)} replies, got {got}"


CALLBACK_DATA = st.one_of(st.just(""), st.text(max_size=70), st.sampled_from(("s:aaaaaaaaaa:tactful", "a:",
                          "a:zzzzzzzzzz", "s::", "x" * 64, "é" * 40, "s:" + "a" * 10 + ":" + "b" * 33)))


@settings(max_examples=examples(1500), **FUZZ)
@given(data=st.data())
def test_presses_with_forged_and_real_data_are_answered_once(live, no_errors_logged, data):
    real = [b["callback_data"] for row in live.answer["reply_markup"]["inline_keyboard"] for b in row]
    payload = data.draw(st.one_of(CALLBACK_DATA, st.sampled_from(real),
                                  st.builds(lambda r, s: r + s, st.sampled_from(real), st.text(max_size=5))))
    on = data.draw(st.sampled_from(("answer", "other_message", "other_chat", "inaccessible", "inline")))
    query: dict[str, Any] = {"id": str(next(_ids)), "from": data.draw(st.sampled_from(tuple(SENDERS.values()))),
                             "chat_instance": "ci"}
    if data.draw(st.booleans()) or payload:
        query["data"] = payload
    if on == "answer":
        query["message"] = live.answer
    elif on == "other_message":
        query["message"] = {**live.answer, "message_id": next(_ids)}
    elif on == "other_chat":
        query["message"] = {**live.answer, "chat": _chat(CLOSED)}
    elif on == "inaccessible":  # a press on a message too old for Telegram to send: date 0
        query["message"] = {"message_id": live.answer["message_id"], "date": 0, "chat": _chat(GROUP)}
    else:
        query["inline_message_id"] = "im1"
    since = len(live.fake.calls)
    live.run(process(live, {"update_id": next(_ids), "callback_query": query}))
    settle(live, since)
    answered = [c for c in live.fake.calls[since:] if c.method == "answerCallbackQuery"]
    assert [c.params["callback_query_id"] for c in answered] == [query["id"]]
    if on not in ("answer", "inaccessible") or payload not in real:  # only our own payload on our answer edits
        assert not [c for c in live.fake.calls[since:] if c.method == "editMessageText"]


@st.composite
def other_updates(draw) -> tuple[str, dict[str, Any]]:
    """Everything that is not a new message or a press: edits, channel posts, inline queries, membership
    changes, kinds PTB does not know."""
    kind = draw(st.sampled_from(("edited_message", "channel_post", "edited_channel_post", "inline_query",
                                 "my_chat_member", "chat_member", "message_reaction", "business_message",
                                 "no_such_kind")))
    if kind in ("edited_message", "business_message"):
        msg, _ = draw(messages())
        return kind, {**msg, "edit_date": int(time.time())}
    if kind in ("channel_post", "edited_channel_post"):
        msg, _ = draw(messages(chat_id=-100555))
        msg.pop("from")
        msg["chat"] = {"id": -100555, "type": "channel", "title": "channel"}
        msg["sender_chat"] = msg["chat"]
        return kind, msg
    if kind == "inline_query":
        return kind, {"id": str(next(_ids)), "from": draw(st.sampled_from(tuple(SENDERS.values()))),
                      "query": draw(st.one_of(st.sampled_from(QUESTIONS), st.text(max_size=300))), "offset": ""}
    if kind in ("my_chat_member", "chat_member"):
        member = {"user": BOT, "status": draw(st.sampled_from(("member", "left", "kicked", "administrator")))}
        if member["status"] == "administrator":
            member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
                          can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
                          can_change_info=True, can_invite_users=True, can_post_stories=False,
                          can_edit_stories=False, can_delete_stories=False)
        if member["status"] == "kicked":
            member["until_date"] = 0
        return kind, {"chat": _chat(GROUP), "from": SENDERS["owner"], "date": int(time.time()),
                      "old_chat_member": {"user": BOT, "status": "member"}, "new_chat_member": member}
    if kind == "message_reaction":
        return kind, {"chat": _chat(GROUP), "message_id": 1, "user": SENDERS["aunt"], "date": int(time.time()),
                      "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}
    return kind, {"anything": draw(st.text(max_size=20))}


@settings(max_examples=examples(4100), **FUZZ)  # cheap: mostly nothing to answer
@given(sample=other_updates())
def test_other_update_kinds_are_ignored_or_answered_once(live, no_errors_logged, sample):
    kind, payload = sample
    since = len(live.fake.calls)
    live.run(process(live, {"update_id": next(_ids), kind: payload}))
    settle(live, since)
    calls = live.fake.calls[since:]
    if kind == "inline_query":
        assert [c.params["inline_query_id"] for c in calls if c.method == "answerInlineQuery"] == [payload["id"]]
        assert not [c for c in calls if c.method != "answerInlineQuery"]
    else:  # edits would answer twice; channel posts have no one to answer; the rest is not for the bot
        assert not calls, [c.method for c in calls]


# -- through getUpdates: PTB's Updater parses what the server sends ---------------------------------------
FRESH = -424242  # an explicit example's update_id, replaced by a new one (older ones count as confirmed)
WRONG = st.sampled_from([None, "", "x", 0, -1, 2**70, 1.5, True, [], [1], {}, {"x": 1}])


@st.composite
def corrupted(draw) -> dict[str, Any]:
    """A well-formed update with one to three fields removed or replaced by a value of the wrong type."""
    which = draw(st.sampled_from(("message", "callback_query", "edited_message", "inline_query")))
    if which in ("message", "edited_message"):
        payload = draw(messages())[0]
    elif which == "inline_query":
        payload = {"id": str(next(_ids)), "from": SENDERS["owner"], "query": "在吗", "offset": ""}
    else:
        payload = {"id": str(next(_ids)), "from": SENDERS["aunt"], "chat_instance": "ci",
                   "message": {"message_id": 1, "date": 1, "chat": _chat(GROUP), "from": BOT, "text": "x"},
                   "data": "s:aaaaaaaaaa:tactful"}
    update = copy.deepcopy({"update_id": next(_ids), which: payload})  # it shares SENDERS, STICKER...
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(update))
        if not paths:  # everything removed already: {} is malformed enough
            break
        path = draw(st.sampled_from(paths))
        parent = update
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif path == ("update_id",):  # not a huge one: every later update would count as confirmed
            parent[path[-1]] = draw(st.sampled_from([None, "x", [], {}, 0, -1]))
        else:  # a copy: sampled values are shared between examples, and later corruptions reach inside them
            parent[path[-1]] = copy.deepcopy(draw(WRONG))
    return update


def _paths(node, prefix=()):
    """Every key path in a JSON tree (the update_id too: what if Telegram sent none?)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, str) and len(value) > 100:
            continue
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


async def through_polling(bot: Live, updates: list[dict[str, Any]], probe: dict[str, Any]) -> None:
    """Queue `updates` and then a well-formed probe on getUpdates; wait until PTB has fetched and the bot
    has processed all of them (a stalled Updater never confirms the batch: the wait times out)."""
    fake = bot.fake
    for u in updates:
        if u.get("update_id") == FRESH:
            u = {**u, "update_id": next(_ids)}
        fake.updates.append(u)
    fake.updates.append({"update_id": next(_ids), "message": probe})
    fake._new_update.set()
    last = fake.updates[-1]["update_id"]
    await fake.wait_for(lambda: fake.offset_seen > last, timeout=10)
    await bot.application.update_queue.join()


@settings(max_examples=examples(400), **FUZZ)  # each example is a poll: 1 to 3 updates and the probe
@given(updates=st.lists(corrupted(), min_size=1, max_size=3))
@example(updates=[{"update_id": FRESH, "edited_message": {"message_id": 1, "date": 1, "from": user(2), "text": "hi",
                                                       "chat": {"id": [], "type": "supergroup"}}}])
@example(updates=[{"update_id": FRESH, "message": {"message_id": 1, "date": "yesterday", "chat": _chat(GROUP),
                                               "from": user(2), "text": "hi"}}])
def test_malformed_updates_from_get_updates_never_stall_the_bot(live, no_errors_logged, updates):
    probe = {"message_id": next(_ids), "date": int(time.time()), "chat": _chat(OWNER), "from": SENDERS["owner"],
             "text": "在吗"}
    since = len(live.fake.calls)
    live.run(through_polling(live, updates, probe))
    settle(live, since)
    assert len(replies_to(live.fake, since, probe)) == 1, "the bot answers on after malformed updates"
