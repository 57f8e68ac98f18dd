"""The platform-neutral bot layer: triggers, commands, buttons, access, rate limits, state, bad input."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import module_engine, write_config

from bot.app import BotApp
from bot.buttons import Action, unpack
from bot.config import load_config
from bot.store import Store
from bot.types import ButtonPress, IncomingMessage, User

OWNER, AUNT = User("1", "Owner"), User("2", "二姨")
GROUP = "-42"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The mini data directory and an engine over it, built once for the module."""
    data, _, engine = module_engine(tmp_path_factory, seed=3)
    return data, engine


@pytest.fixture
def engine(shared):
    return shared[1]


@pytest.fixture
def make_app(engine, tmp_path, shared):
    mini_data = shared[0]
    apps = []

    def make(clock=None, **sections) -> BotApp:
        sections.setdefault("access", {"owners": [1]})
        cfg = load_config(write_config(tmp_path, mini_data, **sections))
        store = Store(cfg.path(cfg.state.path), clock=clock or Clock())
        app = BotApp(engine, cfg, store, clock=clock or Clock())
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.store.close()


def msg(
    text: str, *, chat: str = GROUP, user: User = AUNT, platform: str = "telegram", **kw
) -> IncomingMessage:
    kw.setdefault("is_private", chat == user.id)
    return IncomingMessage(platform, chat, kw.pop("message_id", "10"), user, text, **kw)


async def replies(gen) -> list:
    return [r async for r in gen]


async def test_group_policy_end_to_end(make_app, engine):
    app = make_app()
    [approved] = await replies(app.on_message(msg("/approve", user=OWNER)))
    assert "已开通" in approved.text
    [answer] = await replies(app.on_message(msg("@bot 你什么时候结婚", mentions_bot=True)))
    assert answer.text in engine.corpus.items["marriage-when"].answers["tactful"]
    assert answer.done and answer.record_id and answer.source == "curated"
    assert [b.selected for b in answer.buttons[0]] == [True, False, False]
    assert all(len(b.data.encode()) <= 64 for row in answer.buttons for b in row)
    await app.sent(answer.record_id, "500")
    press = ButtonPress("telegram", GROUP, AUNT, "500", answer.buttons[0][2].data)
    [switched] = await replies(app.on_press(press))
    assert switched.notice == "已换成阴阳怪气"
    assert switched.text in engine.corpus.items["marriage-when"].answers["sarcastic"]
    # The button on an older message that no longer shows this record is refused.
    [stale] = await replies(
        app.on_press(ButtonPress("telegram", GROUP, AUNT, "499", answer.buttons[0][0].data))
    )
    assert stale.text == "" and "失效" in stale.notice


async def test_messages_not_for_the_bot_are_ignored(make_app):
    app = make_app(access={"open": True})
    assert await replies(app.on_message(msg("大家新年好"))) == []
    assert await replies(app.on_message(msg("/weather", mentions_bot=False))) == []  # maybe another bot's
    assert await replies(app.on_message(msg("@bot 你什么时候结婚", mentions_bot=True, edited=True))) == []
    robot = User("9", "OtherBot", is_bot=True)
    assert await replies(app.on_message(msg("@bot 你什么时候结婚", user=robot, mentions_bot=True))) == []


async def test_bad_input_gets_a_short_clear_reply(make_app, engine):
    app = make_app(access={"open": True})
    [empty] = await replies(app.on_message(msg("@bot", mentions_bot=True)))
    assert "@我" in empty.text and not empty.buttons
    [emoji] = await replies(app.on_message(msg("😂😂🧧", chat="2", is_private=True)))
    assert "表情" in emoji.text
    [sticker] = await replies(app.on_message(msg("", chat="2", is_private=True)))
    assert "表情" in sticker.text
    [bare] = await replies(app.on_message(msg("/sarcastic")))
    assert "/sarcastic" in bare.text
    [unknown] = await replies(app.on_message(msg("/frobnicate", chat="2", is_private=True)))
    assert "/help" in unknown.text
    [long] = await replies(app.on_message(msg("@bot " + "你什么时候结婚" * 2900, mentions_bot=True)))
    assert long.done and long.buttons and "只看了前 300 个字" in long.text


async def test_mention_with_no_words_answers_the_replied_message(make_app, engine):
    app = make_app(access={"open": True})
    [answer] = await replies(
        app.on_message(msg("@bot 🙏", mentions_bot=True, reply_to_text="一个月挣多少钱啊"))
    )
    assert answer.text in engine.corpus.items["salary-how-much"].answers["tactful"]


async def test_answer_command_and_chat_default_style(make_app, engine):
    app = make_app(access={"open": True})
    [shown] = await replies(app.on_message(msg("/style")))
    assert "委婉认真" in shown.text
    [bad] = await replies(app.on_message(msg("/style nosuch")))
    assert "nosuch" in bad.text
    [ok] = await replies(app.on_message(msg("/style 转换话题")))
    assert "转换话题" in ok.text
    [answer] = await replies(app.on_message(msg("/answer", reply_to_text="你什么时候结婚")))
    assert answer.text in engine.corpus.items["marriage-when"].answers["deflect"]
    assert "转换话题" in app.help_text("zh", f"telegram:{GROUP}")


async def test_follow_up_keeps_the_style_and_passes_context(make_app, engine):
    app = make_app(access={"open": True})
    [first] = await replies(app.on_message(msg("/sarcastic 你什么时候结婚")))
    await app.sent(first.record_id, "77")
    asked: list = []
    original = engine.answer

    async def recording(text, style, **kw):  # observe what the real engine is asked, then let it answer
        asked.append((style, kw.get("context")))
        return await original(text, style, **kw)

    engine.answer = recording
    try:
        [follow] = await replies(
            app.on_message(
                msg(
                    "那你一个月挣多少钱？",
                    reply_to_bot=True,
                    reply_to_message_id="77",
                    reply_to_text=first.text,
                )
            )
        )
    finally:
        del engine.answer
    assert follow.text in engine.corpus.items["salary-how-much"].answers["sarcastic"]
    assert asked == [("sarcastic", [("你什么时候结婚", first.text)])]


async def test_refusal_once_per_chat_and_owner_hint(make_app):
    app = make_app()
    [refusal] = await replies(app.on_message(msg("@bot 你什么时候结婚", mentions_bot=True)))
    assert "/approve" in refusal.text
    assert await replies(app.on_message(msg("@bot 你什么时候结婚", mentions_bot=True))) == []
    assert await replies(app.on_message(msg("/help"))) == []
    [hint] = await replies(app.on_message(msg("/help", user=OWNER)))
    assert "/approve" in hint.text
    [revoked] = await replies(app.on_message(msg("/revoke", user=OWNER)))
    assert "关闭" in revoked.text
    [private] = await replies(app.on_message(msg("你好", chat="2", is_private=True)))
    assert "2" in private.text


async def test_the_web_page_is_trusted(make_app):
    app = make_app()
    [answer] = await replies(
        app.on_message(msg("你什么时候结婚", chat="session-1", platform="web", is_private=True))
    )
    assert answer.buttons


async def test_rate_limit_notice_once_then_refills(make_app):
    clock = Clock()
    app = make_app(
        clock, access={"open": True, "rate_limit": {"per_user_per_minute": 2, "per_chat_per_minute": 50}}
    )
    ask = msg("@bot 你什么时候结婚", mentions_bot=True)
    for _ in range(2):
        assert (await replies(app.on_message(ask)))[0].buttons
    [notice] = await replies(app.on_message(ask))
    assert "太快" in notice.text and not notice.buttons
    assert await replies(app.on_message(ask)) == []  # said once; silence until the bucket refills
    clock.now += 31
    assert (await replies(app.on_message(ask)))[0].buttons


async def test_state_survives_a_restart_and_expires_after_retention(make_app, engine):
    clock = Clock()
    app = make_app(clock, access={"open": True}, state={"retention_days": 1})
    [answer] = await replies(app.on_message(msg("@bot 你什么时候结婚", mentions_bot=True)))
    await app.sent(answer.record_id, "5")
    app.store.close()
    app = make_app(clock, access={"open": True}, state={"retention_days": 1})  # same file, new objects
    press = ButtonPress("telegram", GROUP, AUNT, "5", answer.buttons[1][0].data)
    [another] = await replies(app.on_press(press))
    assert another.text and another.text != answer.text
    clock.now += 2 * 86400
    app.prune()
    [expired] = await replies(app.on_press(press))
    assert expired.text == "" and "失效" in expired.notice


async def test_english_users_get_english(make_app):
    app = make_app(access={"open": True})
    bob = User("3", "Bob", lang="en")
    [help_] = await replies(app.on_message(msg("/help", user=bob)))
    assert "How to use me" in help_.text and "/sarcastic" in help_.text
    [answer] = await replies(app.on_message(msg("@bot 你什么时候结婚", user=bob, mentions_bot=True)))
    assert answer.buttons[1][0].label == "🔄 Another"
    assert ("help", "how to use the bot") in app.command_list("en")


async def test_inline_offers_one_answer_per_style_to_allowed_users(make_app, engine):
    app = make_app()
    results = await app.inline(OWNER, "你什么时候结婚")
    assert [r.notice for r in results] == ["🙏 委婉认真", "🔀 转换话题", "🙃 阴阳怪气"]
    assert results[2].text in engine.corpus.items["marriage-when"].answers["sarcastic"]
    assert await app.inline(AUNT, "你什么时候结婚") == []
    assert await app.inline(OWNER, "😂") == []


def test_payloads_round_trip_and_refuse_anything_else():
    action = Action("style", "abcdefghij", "sarcastic")
    assert unpack(action.pack()) == action
    assert unpack(Action("another", "abcdefghij").pack()) == Action("another", "abcdefghij")
    for forged in (
        "",
        "s:abc:tactful",
        "s:ABCDEFGHIJ:tactful",
        "a:abcdefghij:x",
        "x" * 65,
        "s:abcdefghij:" + "x" * 60,
        "a:abcdefghij\n",
    ):
        assert unpack(forged) is None


def test_bot_layer_imports_no_platform_library():
    for path in (Path(__file__).parent.parent.parent / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("telegram", "discord", "adapters", "gradio")], (
            path
        )


async def test_help_says_how_to_ask_on_each_platform(make_app):
    app = make_app(access={"open": True})
    [tg] = await replies(app.on_message(msg("/help", chat=AUNT.id, platform="telegram")))
    [dc] = await replies(app.on_message(msg("/help", chat=AUNT.id, platform="discord")))
    [web] = await replies(app.on_message(msg("/help", chat=AUNT.id, platform="web")))
    assert "回复亲戚的消息并发送 /tactful" in tg.text
    assert "用 SpringFest 回复" in dc.text and "回复亲戚的消息并发送" not in dc.text
    assert "输入框" in web.text and "@我" not in web.text
    assert all("/sarcastic" in r.text for r in (tg, dc, web))


async def test_structured_commands_are_taken_as_given_not_parsed_from_the_text(make_app, engine):
    """A slash command (or the web page's style button) hands over its name and argument: a "/cmd" inside
    the argument is part of the question, not a second command."""
    app = make_app(access={"open": True})
    [answer] = await replies(app.on_message(msg("/sarcastic 你什么时候结婚", command="deflect")))
    assert answer.text in engine.corpus.items["marriage-when"].answers["deflect"]
    [style] = await replies(app.on_message(msg("sarcastic", command="style")))
    assert "阴阳怪气" in style.text
    [bare] = await replies(app.on_message(msg("", command="tactful")))
    assert "/tactful" in bare.text, "a command without its question says what is missing"


async def test_restyle_and_another_by_record_for_front_ends_with_their_own_buttons(make_app, engine):
    app = make_app(access={"open": True})
    [first] = await replies(app.on_message(msg("你什么时候结婚", chat="2", user=User("2"), is_private=True,
                                               platform="web")))
    await app.sent(first.record_id, "a1")
    at = ButtonPress("web", "2", User("2"), "a1")
    [switched] = await replies(app.restyle(at, first.record_id, "sarcastic"))
    assert switched.text in engine.corpus.items["marriage-when"].answers["sarcastic"]
    assert switched.notice == "已换成阴阳怪气" and switched.record_id == first.record_id
    [other] = await replies(app.another(at, first.record_id))
    assert other.text != switched.text and other.text in engine.corpus.items["marriage-when"].answers["sarcastic"]
    # The same checks as a button press: another chat's record, or a message not showing it, is refused.
    [foreign] = await replies(app.another(ButtonPress("web", "3", User("3"), "a1"), first.record_id))
    [stale] = await replies(app.restyle(ButtonPress("web", "2", User("2"), "a0"), first.record_id, "tactful"))
    assert "失效" in foreign.notice and "失效" in stale.notice and not foreign.text and not stale.text


async def test_each_platform_has_its_own_bot_name_in_the_help(make_app):
    app = make_app(access={"open": True})
    [before] = await replies(app.on_message(msg("/help", chat=AUNT.id, platform="telegram")))
    assert "@SpringFestBot" in before.text, "a name, not a placeholder, until the platform says its own"
    app.set_bot_name("telegram", "FamilyQABot")
    app.set_bot_name("discord", "SpringFest")  # another platform's name never replaces Telegram's
    [tg] = await replies(app.on_message(msg("/help", chat=AUNT.id, platform="telegram")))
    assert "@FamilyQABot" in tg.text
