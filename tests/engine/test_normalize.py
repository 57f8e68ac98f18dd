from __future__ import annotations

import pytest

from engine.normalize import has_words, is_question, normalize


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("小王啊，你什么时候结婚啊？？？", "你什么时候结婚啊？"),
        ("@SpringFestBot 二姨，一个月挣多少啊😂😂", "一个月挣多少啊"),
        ("/sarcastic@springfest_bot 有对象了吗", "有对象了吗"),
        ("大侄子呀~ 考公考得咋样了", "考公考得咋样了"),
        ("闺女！！啥时候带对象回来", "啥时候带对象回来"),
        ("你今年挣了多少，够买房不", "你今年挣了多少，够买房不"),  # a clause, not a form of address
        ("结婚了吗，小王", "结婚了吗，小王"),
        ("  有  对象   了吗  ", "有 对象 了吗"),
        # Traditional characters and Cantonese, as the Mandarin the corpus is mostly written in. OpenCC keeps
        # 搵 (not 揾), so the Cantonese rules see both spellings.
        ("你拍拖未呀？", "你谈恋爱了没有呀？"),
        ("返工搵緊幾錢一個月呀?", "上班挣多少钱一个月呀？"),
        ("幾時買返間屋呀？", "什么时候买房呀？"),
        ("哪时候回来欸?", "什么时候回来欸？"),
        ("找物件了沒", "找对象了没"),
    ],
)
def test_normalise(raw, clean):
    assert normalize(raw)[0] == clean


def test_cap_and_emptiness():
    text, cut = normalize("啊" * 500, 300)
    assert cut and len(text) == 300
    assert not has_words(normalize("😂🧧🎆！！？？")[0])
    assert not has_words(normalize("@bot")[0])


@pytest.mark.parametrize(
    ("raw", "asks"),
    [
        ("有房没?有车没?", True), ("幹嘛不買透天?", True), ("要不要幫你介紹", True), ("月薪多少", True),
        ("你拍拖未呀", True), ("结婚了没", True), ("你都快三十了吧", True), ("什么时候回来", True),
        ("臉圓了嘛", False), ("快叫人,叫小舅爹爹。", False), ("衰仔,淨係識食", False), ("多吃点", False),
        ("该找个对象了", False), ("生一个也是带,生两个也是带。", False), ("新年快乐", False),
        ("别太拼了，要不回来吧", False), ("有对象了吧", True), ("你结婚了么", True), ("南方的菜你吃得惯不", True),
        ("结婚了没有", True),
        ("我像你这么大的时候，孩子都上小学了", False), ("上了好几年班，手里连个存款都没有", False),
    ],
)
def test_question_or_remark(raw, asks):
    """The shape general replies are chosen by: a question mark or a question word, else a remark."""
    assert is_question(normalize(raw)[0]) is asks


@pytest.mark.parametrize("text, speaking", [
    ("我跟你爸都挺好的，你别惦记", True),
    ("年后别回家来拜年，我跟你爷爷都挺好的", True),
    ("你妈我当年二十就结婚了", True),
    ("等妈妈帮你存起来，大了再给你", True),
    ("你再气我，你妈都没了", True),
    ("你妈说你今年该结婚了", False),  # someone quoting the mother
    ("你爸身体咋样？", False),
    ("跟你爸妈商量了没？", False),
])
def test_a_parent_speaking_is_told_apart_from_one_quoted(text, speaking):
    from engine.parents import parent_speaking
    assert parent_speaking(normalize(text)[0]) is speaking
