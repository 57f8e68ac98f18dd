"""Turn a chat message into the bare question retrieval sees. The original text is kept by the caller.

The same function prepares the corpus phrasings the intent model and the index are built from, so a
question and a phrasing that differ only in script, width or punctuation look the same to both.
"""

from __future__ import annotations

import re
import unicodedata

from engine.traditional import to_simplified

# A leading form of address: "小王啊，", "二姨，", "大侄子呀~", "闺女！". Short on purpose so that a real
# clause ("你今年挣了多少，") is never mistaken for one.
_ADDRESS = re.compile(
    r"^(?:(?:小|老|大|二|三|四|五|六|七|八|九|幺)?[\u4e00-\u9fff]{1,3}?"
    r"(?:啊|呀|哇|呢|哦|喂|儿)?)[，,！!～~]+\s*"
)
_KINSHIP = re.compile(
    r"(?:姑|舅|姨|叔|伯|婶|姐|哥|弟|妹|侄|甥|孙|囡|闺女|丫头|小子|孩子|娃|宝|儿子|女儿|同学|朋友|"
    r"小[\u4e00-\u9fff]|老[\u4e00-\u9fff]|阿[\u4e00-\u9fff])"
)
_MENTION = re.compile(r"(?<![\w.])@[\w.\-]+")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[\w]+)?\s*")
# Sticker and emoticon codes chat apps put in text: [捂脸] [图片] [微笑].
_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
_REPEAT_PUNCT = re.compile(r"([，。！？、,.!?~～…])[，。！？、,.!?~～…\s]+")
# ASCII punctuation typed next to Chinese text, and the half-width CJK forms (｡｢｣､), as their full forms.
_PUNCT = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "：", "~": "～"})
_ASCII_PUNCT_BY_CHINESE = re.compile(r"(?<=[^\x00-\x7f])[,?!;:~]|[,?!;:~](?=[^\x00-\x7f])|[,?!;:~]$")
_HALF_WIDTH_CJK = str.maketrans({"\uff61": "。", "\uff62": "「", "\uff63": "」", "\uff64": "、"})


# Cantonese words as the Mandarin ones the corpus mostly uses (after OpenCC: 幾時 is already 几时).
# Longest first; only words whose Mandarin reading is unambiguous in a relative's question.
_CANTONESE = [(re.compile(pattern), mandarin) for pattern, mandarin in (
    # OpenCC leaves 搵 as it is (揾 is its simplified form): both spellings come through.
    (r"[揾搵]紧?几钱", "挣多少钱"), (r"[揾搵]钱|赚钱", "挣钱"), (r"[揾搵]工", "找工作"), (r"几钱", "多少钱"),
    (r"买返?[间层]?屋", "买房"), (r"返工", "上班"), (r"放工", "下班"), (r"返屋企", "回家"),
    (r"屋企", "家里"), (r"拍拖", "谈恋爱"), (r"人工", "工资"), (r"几多", "多少"), (r"几时|哪时候", "什么时候"),
    (r"几耐", "多久"), (r"点解", "为什么"), (r"点样", "怎么样"), (r"点呀|点啊", "怎么样"), (r"边度|边处", "哪里"),
    (r"边个", "谁"), (r"而家", "现在"), (r"系咪|系唔系", "是不是"), (r"乜嘢|咩嘢", "什么"), (r"[咩乜]", "什么"),
    (r"冇", "没有"), (r"唔", "不"), (r"咗", "了"), (r"嘅", "的"), (r"佢哋", "他们"), (r"哋", "们"),
    (r"佢", "他"), (r"喺", "在"), (r"俾", "给"), (r"睇", "看"), (r"啲", "些"), (r"嘢", "东西"), (r"[揾搵]", "找"),
    (r"食饭", "吃饭"), (r"饮茶", "喝茶"), (r"饮酒", "喝酒"),
    (r"未(?=[呀啊吖呢？?！!。]*$)", "了没有"),  # 结婚未呀？ -> 结婚了没有呀？
    # Not Cantonese: mainland text run through OpenCC's Taiwan phrase table comes back with 对象 (a partner)
    # as 物件 (an object); relatives' lines reposted that way say 找物件了没.
    (r"(?<=[找有带谈交个])物件|物件(?=[呢吗没了])", "对象"),
)]


def _mandarin(text: str) -> str:
    for pattern, mandarin in _CANTONESE:
        text = pattern.sub(mandarin, text)
    return text


def _is_emoji_or_symbol(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in ("So", "Sk", "Cs", "Co", "Cn") or ch in "\u200d\ufe0f\ufe0e"


def _narrow(ch: str) -> str:
    """Full-width letters, digits and space as ASCII (Ａ１ -> A1); everything else unchanged."""
    code = ord(ch)
    if code == 0x3000:
        return " "
    if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
        return chr(code - 0xFEE0)
    return ch


def strip_address(text: str) -> str:
    """Drop a leading form of address ("小王啊，") when what precedes the comma names a person."""
    m = _ADDRESS.match(text)
    if m and _KINSHIP.search(m.group(0)) and len(text) > m.end():
        return text[m.end():]
    return text


def normalize(text: str, max_chars: int = 300) -> tuple[str, bool]:
    """The cleaned question and whether it had to be cut to max_chars."""
    text = to_simplified(unicodedata.normalize("NFC", text or ""))  # 幾時結婚 -> 几时结婚, before anything else
    text = _mandarin(text)
    text = "".join(_narrow(ch) for ch in text)
    text = _COMMAND.sub("", text.strip())
    text = _MENTION.sub(" ", text)
    text = _EMOTICON.sub(" ", text)
    text = "".join(" " if _is_emoji_or_symbol(ch) else ch for ch in text)
    text = _ASCII_PUNCT_BY_CHINESE.sub(lambda m: m.group(0).translate(_PUNCT), text).translate(_HALF_WIDTH_CJK)
    text = re.sub(r"\s+", " ", text).strip(" ,，.。!！~～、;；:：")
    text = strip_address(text)
    text = _REPEAT_PUNCT.sub(r"\1", text).strip()
    cut = len(text) > max_chars
    return (text[:max_chars].rstrip() if cut else text), cut


def has_words(text: str) -> bool:
    """True when anything letter-like is left (not just punctuation or digits)."""
    return any(ch.isalpha() for ch in text)


# Whether a line asks something (a question mark, or a question word a relative would not say in a remark)
# or only remarks (你又胖了, 快叫人, 多吃点). General replies come in both shapes: 谢谢您惦记，有好消息
#头一个告诉您 answers a question and is odd after a lecture; 您说的我记下了 is the other way round.
# 么 only as the final particle (这么/那么 are no question); 几 not in 好几年/十几岁 (a count, not a question).
_QUESTION = re.compile(
    r"[？?]|吗|么$|呢$|(?:了|的|是|对|没|有|够)吧$|啥|什么|多少|多大|多久|多长|(?<![好十])几[个岁点时天年月号次位分]|"
    r"怎么|怎样|咋|为什么|为啥|干嘛|干吗|是不是|有没有|要不要|能不能|会不会|好不好|行不行|对不对|可不可以|肯不肯|"
    r"想不想|哪|谁|了没|[了过]没有$|[没未不]$"
)


def is_question(text: str) -> bool:
    """True when the normalised line asks something; False for a remark, lecture, jab or request."""
    return bool(_QUESTION.search(text))
