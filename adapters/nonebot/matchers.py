"""The plugin's NoneBot matchers, registered once per process: by loading the plugin in a NoneBot2 project
(`nonebot.load_plugin("adapters.nonebot")`) or by `springfest run`'s embedded server.

One matcher takes every OneBot v11 message (BotApp decides what is for it: commands, mentions, replies to its
answers, private chats, and ignores the rest), one NapCat's reaction notices, and one, when nonebot-adapter-qq
is installed, the official platform's @-mentions and private messages. None of them blocks: other plugins see
every event too.
"""

from __future__ import annotations

import logging

import nonebot
from nonebot import on_message, on_notice
from nonebot.adapters.onebot.v11 import Adapter, MessageEvent
from nonebot.matcher import Matcher
from nonebot.rule import is_type

from adapters.nonebot import handlers, runtime
from adapters.nonebot.events import GroupMsgEmojiLikeNoticeEvent

log = logging.getLogger(__name__)

PRIORITY = 50  # after most command plugins; we never block, so the order only decides who answers first
MATCHERS: list[type[Matcher]] = []


def register() -> list[type[Matcher]]:
    """Create the matchers and the start-up and shutdown hooks (once; later calls return the same)."""
    if MATCHERS:
        return MATCHERS
    Adapter.add_custom_model(GroupMsgEmojiLikeNoticeEvent)
    MATCHERS.append(on_message(rule=is_type(MessageEvent), priority=PRIORITY, handlers=[handlers.on_message]))
    MATCHERS.append(on_notice(rule=is_type(GroupMsgEmojiLikeNoticeEvent), priority=PRIORITY,
                              handlers=[handlers.on_reaction]))
    official = _official()
    if official:
        MATCHERS.append(official)
    driver = nonebot.get_driver()
    plugin_config = nonebot.get_plugin_config(runtime.PluginConfig)

    async def start() -> None:
        await runtime.start(plugin_config)

    driver.on_startup(start)
    driver.on_shutdown(runtime.stop)
    driver.on_bot_connect(handlers.on_connect)  # the inbox: what a restart left unanswered
    return MATCHERS


def _official() -> type[Matcher] | None:
    """The official platform's matcher, when its adapter is installed."""
    try:
        from nonebot.adapters.qq import C2CMessageCreateEvent, GroupAtMessageCreateEvent

        from adapters.nonebot import official
    except ImportError:
        return None
    nonebot.get_driver().on_bot_connect(official.on_connect)  # the inbox: what a restart left unanswered
    return on_message(rule=is_type(GroupAtMessageCreateEvent, C2CMessageCreateEvent), priority=PRIORITY,
                      handlers=[official.on_message])
