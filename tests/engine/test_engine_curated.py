"""The curated path of Engine.answer on a tiny fixed corpus."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bot.wiring import build_engine
from engine.engine import EmptyQuestion, UnknownStyle
from engine.types import answer_id


@pytest.fixture
def engine(mini_config):
    e = build_engine(mini_config)
    e.rng = random.Random(7)
    return e


async def test_paraphrase_gets_the_items_answer_in_the_style(engine):
    answer = await engine.answer("二姨，你俩到底啥时候结婚啊？", "sarcastic")
    text = await answer.collect()
    assert answer.source == "curated"
    assert answer.understanding.tier == "item" and answer.understanding.item == "marriage-when"
    assert answer.matched == "你打算什么时候结婚啊？"
    assert answer.matches == []  # no neighbour search on the curated path unless asked for
    assert text in engine.corpus.items["marriage-when"].answers["sarcastic"]


async def test_each_style_answers_from_its_own_list(engine):
    for style in ("tactful", "deflect", "sarcastic"):
        answer = await engine.answer("你现在一个月挣多少钱啊", style)
        assert await answer.collect() in engine.corpus.items["salary-how-much"].answers[style]
        assert answer.style == style


async def test_another_answer_differs_until_all_were_shown(engine):
    item = engine.corpus.items["marriage-when"]
    shown: list[str] = []
    for _ in range(len(item.answers["tactful"])):
        answer = await engine.answer("你什么时候结婚", "tactful", exclude=[answer_id(t) for t in shown])
        shown.append(await answer.collect())
    assert sorted(shown) == sorted(item.answers["tactful"])
    # Once every answer of the item was shown, the topic's answers come next, then the fallbacks.
    topic = engine.corpus.topic_answers["marriage"]["tactful"]
    for _ in range(len(topic)):
        answer = await engine.answer("你什么时候结婚", "tactful", exclude=[answer_id(t) for t in shown])
        shown.append(await answer.collect())
        assert answer.source == "topic" and answer.matched is None
    assert sorted(shown[-len(topic):]) == sorted(topic)
    answer = await engine.answer("你什么时候结婚", "tactful", exclude=[answer_id(t) for t in shown])
    assert await answer.collect() not in shown
    assert answer.source == "fallback"
    everything = [answer_id(t) for t in [*shown, *engine.corpus.fallbacks["tactful"]]]
    answer = await engine.answer("你什么时候结婚", "tactful", exclude=everything)
    assert await answer.collect() in item.answers["tactful"]  # all shown: start over, never silence


async def test_off_topic_question_gets_a_fallback_line(engine):
    answer = await engine.answer("帮我写一段Python代码", "deflect")
    text = await answer.collect()
    assert answer.source == "fallback" and answer.understanding.tier == "none"
    assert text in engine.corpus.fallbacks["deflect"]
    answer = await engine.answer("帮我写一段Python代码", "deflect", neighbours=True)
    assert answer.matches, "neighbours are reported when asked for, even when nothing is about the question"


async def test_question_is_normalised_and_capped(mini_config):
    engine = build_engine(mini_config)
    answer = await engine.answer("@SpringFestBot 小王啊，你啥时候结婚？？？😂😂", "tactful")
    assert answer.question == "你啥时候结婚？"
    long = await engine.answer("结婚" * 10_000, "tactful")
    assert long.truncated and len(long.question) == mini_config.question.max_chars


async def test_empty_and_unknown_style_are_clear_errors(engine):
    with pytest.raises(EmptyQuestion):
        await engine.answer("@SpringFestBot 😂😂！！", "tactful")
    with pytest.raises(UnknownStyle):
        await engine.answer("你什么时候结婚", "humorous")  # defined but not enabled by default


async def test_answer_json_shape(engine):
    answer = await engine.answer("一个月挣多少", "tactful")
    await answer.collect()
    data = answer.to_json()
    assert set(data) == {"question", "style", "text", "source", "topic", "item", "confidence", "matches"}
    assert (data["topic"], data["item"], data["source"]) == ("salary", "salary-how-much", "curated")
    assert 0.5 < data["confidence"] <= 1
    assert answer.id == answer_id(data["text"])
    answer = await engine.answer("一个月挣多少", "tactful", neighbours=True)
    await answer.collect()
    assert set(answer.to_json()["matches"][0]) == {"id", "topic", "question", "score"}


async def test_general_reply_fits_the_shape_of_the_line(engine):
    """A line that asks something gets a general reply written for questions, a remark one for remarks:
    谢谢您惦记，有好消息头一个告诉您 is odd after 你又胖了, 您说的我记下了 is odd after 干嘛不买?"""
    engine.corpus.fallback_shapes["deflect"] = {"question": ("这个回头再说～先吃饺子！",),
                                                "remark": ("您说得是～先吃饺子！",)}
    asked = await engine.answer("帮我写一段Python代码好不好？", "deflect")
    said = await engine.answer("帮我写一段Python代码", "deflect")
    assert asked.source == said.source == "fallback"
    assert await asked.collect() == "这个回头再说～先吃饺子！"
    assert await said.collect() == "您说得是～先吃饺子！"
    # The same for a topic's answers, when only the topic is clear.
    engine.corpus.topic_shapes["marriage"]["tactful"] = {"question": ("这事我心里有数，定了告诉您。",),
                                                         "remark": ("您的话我记下了，谢谢您操心。",)}
    engine.retrieval = replace(engine.retrieval, item_threshold=1.01)  # only the topic tier answers
    asked = await engine.answer("你什么时候结婚？", "tactful")
    said = await engine.answer("你该结婚了", "tactful")
    assert asked.source == said.source == "topic", (asked.understanding, said.understanding)
    assert await asked.collect() == "这事我心里有数，定了告诉您。"
    assert await said.collect() == "您的话我记下了，谢谢您操心。"


async def test_a_parent_speaking_is_not_told_to_ask_the_parents(engine):
    """跟爸妈商量 is fine when an aunt asks and absurd when the mother does (我跟你爸…): the item's answers
    that name the parents are left out when the message shows a parent or grandparent speaking."""
    item = engine.corpus.items["marriage-when"]
    item.answers["tactful"] = ("这事我回去跟爸妈商量，定了就告诉您。", "缘分到了自然就办，您放心。")
    # Someone quoting the mother may be told 跟爸妈商量: with the other answer shown already, it comes next.
    quoted = await engine.answer("你妈说你今年该结婚了，啥时候结婚？", "tactful",
                                 exclude=[answer_id("缘分到了自然就办，您放心。")])
    assert (quoted.source, await quoted.collect()) == ("curated", "这事我回去跟爸妈商量，定了就告诉您。")
    for _ in range(6):  # the other answer only, however often it is asked
        answer = await engine.answer("我跟你爸都盼着呢，你到底啥时候结婚？", "tactful")
        assert answer.source == "curated", answer.understanding
        assert await answer.collect() == "缘分到了自然就办，您放心。"
    # Every answer of the item names them: the topic's answers (which never do) take over.
    item.answers["tactful"] = ("这事我回去跟爸妈商量，定了就告诉您。",)
    answer = await engine.answer("我跟你爸都盼着呢，你到底啥时候结婚？", "tactful")
    assert answer.source == "topic" and "爸妈" not in await answer.collect()
