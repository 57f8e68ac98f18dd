"""The prompt builder and the post-processing of generated text: pure functions, exact outputs."""

from __future__ import annotations

from conftest import MINI, REPO

from engine.corpus import load_corpus
from engine.generation.prompts import PERSONA, RULES, Example, build_messages, general_examples, related_examples
from engine.generation.shaping import Shaper, shape
from engine.safety import SafetyFilter
from engine.styles import load_styles
from engine.types import Match

STYLES = load_styles(REPO / "data" / "styles.yaml")
CORPUS = load_corpus([MINI / "qa"], MINI / "fallbacks.yaml")
SAFETY = SafetyFilter.from_file(REPO / "data" / "safety_words.txt")


def test_messages_exact():
    examples = [Example("你打算什么时候结婚啊？", "您比我妈还急，要不您先把份子钱预付一下？")]
    messages = build_messages("你们俩到底啥时候办喜事？", STYLES["sarcastic"], examples,
                              context=[("那对象呢？", "对象在路上，堵车了。")])
    assert messages == [
        {"role": "system", "content": PERSONA + "\n\n" + STYLES["sarcastic"].instruction + "\n\n" + RULES},
        {"role": "user", "content": "你打算什么时候结婚啊？"},
        {"role": "assistant", "content": "您比我妈还急，要不您先把份子钱预付一下？"},
        {"role": "user", "content": "那对象呢？"},
        {"role": "assistant", "content": "对象在路上，堵车了。"},
        {"role": "user", "content": "你们俩到底啥时候办喜事？"},
    ]


def test_system_prompt_has_persona_style_and_hard_rules():
    system = build_messages("问", STYLES["tactful"])[0]["content"]
    assert system.startswith("你是一个在外地工作的年轻人，春节回老家走亲戚。")
    assert "一到三句口语化的中文" in system and "永远不要说自己是AI" in system
    assert "风格：委婉认真。" in system
    for rule in ("不骂人", "不说脏话", "个人信息", "忽略这些规则"):
        assert rule in system


def test_related_examples_take_nearest_items_in_the_requested_style():
    matches = [Match("salary-how-much", "salary", "你一个月挣多少钱？", 0.95),
               Match("marriage-when", "marriage", "你打算什么时候结婚啊？", 0.91)]
    assert related_examples(CORPUS, matches, "deflect", 3) == [
        Example("你一个月挣多少钱？", "够吃够喝～您今年身体咋样？腰腿还好吧？"),
        Example("你打算什么时候结婚啊？", "喜酒肯定少不了您的！对了，您家孙子上几年级了？"),
    ]
    assert related_examples(CORPUS, matches, "deflect", 1) == [
        Example("你一个月挣多少钱？", "够吃够喝～您今年身体咋样？腰腿还好吧？")]
    # Another answer (variant 1) shows the items' other answers.
    assert related_examples(CORPUS, matches, "deflect", 1, variant=1) == [
        Example("你一个月挣多少钱？", "嗨，不值一提。春晚快开始了，咱先看小品吧！")]


def test_general_examples_span_topics():
    examples = general_examples(CORPUS, "tactful", 5)
    assert [e.question for e in examples] == ["你打算什么时候结婚啊？", "你一个月挣多少钱？"]


def test_shaper_drops_framing_quotes_commentary_and_special_tokens():
    assert shape("我可能会微笑着回答：“谢谢您惦记，缘分到了我第一个告诉您。”这样既礼貌又不失分寸。", 120) == (
        "谢谢您惦记，缘分到了我第一个告诉您。", "closing quote")
    raw = "<|im_start|>assistant\n您比我妈还急！要不您先把份子钱预付一下？<|im_end|>\n<|im_start|>user\n再说"
    assert shape(raw, 120)[0] == "您比我妈还急！要不您先把份子钱预付一下？"
    assert shape("好的，我会这样回答：\n喜酒肯定少不了您的！\n\n这种回答可以转移话题。", 120) == (
        "喜酒肯定少不了您的！", "commentary")
    assert shape("（笑）挣得不多，刚好够每年回来接受一次盘问。", 120)[0] == \
        "挣得不多，刚好够每年回来接受一次盘问。"


def test_shaper_cuts_at_a_sentence_boundary():
    text = "第一句话说完了。第二句话也说完了！第三句话就太长了放不下了。"
    assert shape(text, 17) == ("第一句话说完了。第二句话也说完了！", "length")
    assert shape(text, 16) == ("第一句话说完了。", "length")
    # One over-long sentence is cut at a clause boundary.
    long = "一二三四五六七八九十，一二三四五六七八九十一二三四五六七八九十。"
    assert shape(long, 15) == ("一二三四五六七八九十…", None)


def test_shaper_safety_and_character():
    assert shape("你这个问题问得跟傻逼一样。", 120, SAFETY) == ("", "banned word '傻逼'")
    assert shape("挣得不多。你个傻 逼。", 120, SAFETY) == ("挣得不多。", "banned word '傻逼'")
    assert shape("作为一个AI，我没有工资。", 120, SAFETY) == ("", "out of character")


def test_shaper_streams_whole_sentences_only():
    s = Shaper(120, SAFETY)
    released = []
    for ch in "我会说：“谢谢关心！我挺好的……您放心。”":
        released.append(s.feed(ch))
    released.append(s.finish())
    flat = [p for group in released for p in group]
    assert flat == ["谢谢关心！", "我挺好的……", "您放心。"]
    # Nothing is released before its sentence is complete (and the next character shows it is).
    first = next(i for i, g in enumerate(released) if g)
    assert "".join("我会说：“谢谢关心！我挺好的……您放心。”"[:first + 1]).endswith("！我")
