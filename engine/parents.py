"""The young person's parents in a line: named in an answer, or speaking themselves.

One copy of the rule for both sides: `springfest data check` keeps general replies free of the parents
(the asker is as often the mother or father themself), and the engine drops the item answers that name
them when the message shows that a parent or grandparent is the one speaking (我跟你爸都挺好的).
"""

from __future__ import annotations

import re

# The parents in the third person, as an answer says them: 我跟爸妈商量, 问我妈.
_NAMED = re.compile(r"[我俺]?爸妈|[我俺]爸|[我俺]妈|爸爸|妈妈|老爸|老妈|父母")

# A phrasing that brings the parents up (你妈说…, 你爸身体咋样): then the item's answers may name them.
_ASKED = re.compile(r"爸|妈|父母|爹|娘|二老")

# A parent or grandparent talking about themself to their child, on the normalised (simplified) text:
# 我跟你爸 / 你妈我 / 等妈妈帮你 / 你妈都没了 / 我跟你爷爷都挺好的. Only first-person forms: 你妈说你… is
# someone else quoting the mother, and then 跟我妈商量 is a fine reply.
_SPEAKING = re.compile(
    r"[我俺](?:跟|和|同)你(?:爸|妈|爷|奶|外公|外婆|姥)|你(?:爸|妈)(?:跟|和)我|你[爸妈]我|"
    r"(?:等|让)?(?:妈妈|爸爸)(?:帮|给|替)你|你[爸妈]都(?:没了|要|快|被)"
)


def parents_named(text: str) -> str | None:
    """The words naming the parents in an answer, or None."""
    m = _NAMED.search(text)
    return m.group(0) if m else None


def parents_asked(question: str) -> bool:
    """Whether a phrasing brings the parents up."""
    return bool(_ASKED.search(question))


def parent_speaking(text: str) -> bool:
    """Whether the (normalised) message is said by the young person's parent or grandparent."""
    return bool(_SPEAKING.search(text))
