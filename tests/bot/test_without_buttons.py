"""The bot layer for platforms without buttons (QQ): Chinese command names, answering again by replying to an
answer or reacting on it, and the once-a-day hint that says how."""

from __future__ import annotations

import pytest
from conftest import module_engine, write_config

from bot.app import BotApp
from bot.config import load_config
from bot.store import Store
from bot.types import IncomingMessage, Regenerate, User

OWNER, AUNT = User("1", "Owner"), User("2", "二姨")
GROUP = "g42"
MARRIAGE = "你打算什么时候结婚啊？"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0  # 2023-11-14, mid-day in any time zone

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    data, _, engine = module_engine(tmp_path_factory, seed=5)
    return data, engine


@pytest.fixture
def engine(shared):
    return shared[1]


@pytest.fixture
def make_app(shared, tmp_path):
    apps = []

    def make(clock=None, **sections) -> BotApp:
        sections.setdefault("access", {"open": True})
        cfg = load_config(write_config(tmp_path, shared[0], **sections))
        clock = clock or Clock()
        app = BotApp(shared[1], cfg, Store(cfg.path(cfg.state.path), clock=clock), clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.store.close()


def msg(text: str, *, user: User = AUNT, message_id: str = "10", **kw) -> IncomingMessage:
    return IncomingMessage("onebot", kw.pop("chat", GROUP), message_id, user, text, kw.pop("is_private", False), **kw)


async def replies(gen) -> list:
    return [r async for r in gen]


def answers(engine, style: str) -> list[str]:
    return engine.corpus.items["marriage-when"].answers[style]


async def test_chinese_command_names_answer_the_replied_message(make_app, engine):
    app = make_app()
    [sarcastic] = await replies(app.on_message(msg("/阴阳", reply_to_text=MARRIAGE, reply_to_message_id="3")))
    assert sarcastic.text in answers(engine, "sarcastic")
    [tactful] = await replies(app.on_message(msg(f"/委婉认真 {MARRIAGE}")))  # the long name, then the question
    assert tactful.text in answers(engine, "tactful")
    [deflect] = await replies(app.on_message(msg(f"/转移{MARRIAGE}")))  # Chinese needs no space
    assert deflect.text in answers(engine, "deflect")
    # Without the slash it is only a word in the chat, unless it answers one of the bot's own messages.
    assert await replies(app.on_message(msg("阴阳", reply_to_text=MARRIAGE, reply_to_message_id="3"))) == []
    assert await replies(app.on_message(msg("换一个"))) == []
    [where] = await replies(app.on_message(msg("/换一个")))
    assert "回复我的某条回答" in where.text and not where.buttons


async def test_replying_to_an_answer_answers_its_question_again(make_app, engine):
    app = make_app()
    [first] = await replies(app.on_message(msg(f"@bot {MARRIAGE}", mentions_bot=True)))
    await app.sent(first.record_id, "500")
    on_answer = {"reply_to_bot": True, "reply_to_text": first.text, "reply_to_message_id": "500"}

    [sarcastic] = await replies(app.on_message(msg("/阴阳", **on_answer)))
    assert sarcastic.text in answers(engine, "sarcastic") and sarcastic.notice is None
    assert sarcastic.record_id != first.record_id  # a new answer: the old message keeps its own
    assert sarcastic.replaces == "500" and first.replaces is None
    await app.sent(sarcastic.record_id, "501")

    # 换一个 on the sarcastic answer: the same question, another sarcastic answer, never one shown before.
    on_sarcastic = {"reply_to_bot": True, "reply_to_text": sarcastic.text, "reply_to_message_id": "501"}
    seen = [sarcastic.text]
    for n in range(3):
        [another] = await replies(app.on_message(msg("换一个" if n % 2 else "/another", **on_sarcastic)))
        assert another.text in answers(engine, "sarcastic") and another.text not in seen
        seen.append(another.text)
        await app.sent(another.record_id, f"60{n}")
        on_sarcastic["reply_to_message_id"] = f"60{n}"

    # The first answer's message still works, in its own style history.
    [again] = await replies(app.on_message(msg("委婉", **on_answer)))
    assert again.text in answers(engine, "tactful") and again.text != first.text
    # A style command with a question of its own is a new question, not a regeneration.
    [new] = await replies(app.on_message(msg("/sarcastic 一个月挣多少钱啊", **on_answer)))
    assert new.text not in answers(engine, "sarcastic")


async def test_a_reaction_answers_again_with_a_notice(make_app, engine):
    app = make_app(access={"owners": [1]})
    await replies(app.on_message(msg("/approve", user=OWNER)))
    [first] = await replies(app.on_message(msg(f"@bot {MARRIAGE}", mentions_bot=True)))
    await app.sent(first.record_id, "700")

    [switched] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "700", "deflect")))
    assert switched.text in answers(engine, "deflect") and switched.notice == "已换成转换话题"
    assert switched.replaces == "700"
    [another] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "700")))
    assert another.text in answers(engine, "tactful") and another.text != first.text
    assert another.notice == "换了一个"

    [unknown] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "699")))
    assert unknown.text == "" and "失效" in unknown.notice
    [bad_style] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "700", "nonsense")))
    assert bad_style.text == "" and "失效" in bad_style.notice
    await replies(app.on_message(msg("/revoke", user=OWNER)))
    [refused] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "700")))
    assert refused.text == "" and "开通" in refused.notice


async def test_reactions_count_against_the_rate_limit(make_app):
    app = make_app(access={"open": True, "rate_limit": {"per_user_per_minute": 2}})
    [first] = await replies(app.on_message(msg(f"@bot {MARRIAGE}", mentions_bot=True)))
    await app.sent(first.record_id, "800")
    [ok] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "800", "sarcastic")))
    assert ok.text
    [limited] = await replies(app.on_regenerate(Regenerate("onebot", GROUP, AUNT, "800", "deflect")))
    assert limited.text == "" and "太快" in limited.notice


async def test_the_hint_comes_once_per_chat_per_day_and_survives_a_restart(make_app):
    clock = Clock()
    app = make_app(clock)
    hint = app.button_hint("onebot", GROUP)
    assert hint == "💡 回复本条 /委婉 /转移 /阴阳 换风格，/换一个 换一条"
    assert app.button_hint("onebot", GROUP) is None
    assert app.button_hint("onebot", "g43") == hint  # another chat: its own day
    assert app.button_hint("onebot", "g44", "en").startswith("💡 Reply to this with /tactful /deflect /sarcastic")
    app.store.close()
    app = make_app(clock)  # the same state file after a restart
    assert app.button_hint("onebot", GROUP) is None
    clock.now += 86400
    assert app.button_hint("onebot", GROUP) == hint


async def test_help_on_qq_tells_how_to_switch_without_buttons(make_app):
    app = make_app()
    [help_] = await replies(app.on_message(msg("/help", mentions_bot=True)))
    assert "换一个" in help_.text and "/委婉" in help_.text and "按钮" not in help_.text
    assert "按钮" in app.help_text("zh", platform="telegram")


async def test_answering_again_keeps_the_topic_the_question_was_understood_in(make_app, engine):
    # "那去年呢？" means last year's pay only after a salary question; answered again much later (by a reply
    # on its answer), it is still about pay, as a button press on Telegram would keep it.
    clock = Clock()
    app = make_app(clock=clock)
    salary = {*engine.corpus.items["salary-how-much"].answers["deflect"],
              *engine.corpus.topic_answers["salary"]["deflect"]}
    [first] = await replies(app.on_message(msg("@bot 你一个月挣多少钱？", mentions_bot=True)))
    await app.sent(first.record_id, "500")
    [fragment] = await replies(app.on_message(msg("@bot 那去年呢？", mentions_bot=True, message_id="11")))
    await app.sent(fragment.record_id, "501")
    clock.now += 3600  # the chat's last topic has long expired
    [again] = await replies(app.on_message(msg("/转移", reply_to_bot=True, reply_to_message_id="501",
                                               reply_to_text=fragment.text, message_id="12")))
    assert again.text in salary and again.replaces == "501"
