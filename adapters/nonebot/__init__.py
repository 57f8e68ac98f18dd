"""QQ through NoneBot2: a plugin for OneBot v11 clients (NapCat, Lagrange) and QQ's official bot platform.

Two ways to run it:

- `springfest run` with `onebot.enabled: true` starts NoneBot2 embedded (adapters.nonebot.embedded);
- in an existing NoneBot2 project, `nonebot.load_plugin("adapters.nonebot")` (after registering the OneBot v11
  or QQ adapter); the plugin then reads SpringFestQA's config file from the NoneBot setting
  `SPRINGFEST_CONFIG` (or $SPRINGFEST_CONFIG, or ./config.yaml) and builds its own engine at start-up.

Files: events.py (OneBot events → neutral messages), surface.py (how an answer is sent, through the shared
adapters.delivery), limits.py (the account's send budget, which failures are retried), handlers.py (the path
from event to answer), official.py (the official platform), matchers.py (NoneBot matchers), runtime.py (which
BotApp answers, with which deliveries), embedded.py (`springfest run`), logs.py, packages.py (the `bot.py`
name clash).
"""

from adapters.nonebot.packages import ensure_ours

ensure_ours()  # before anything imports `bot`: a NoneBot project's bot.py would shadow our package

from nonebot.plugin import PluginMetadata  # noqa: E402

from adapters.nonebot.embedded import serve, wanted  # noqa: E402
from adapters.nonebot.runtime import PluginConfig  # noqa: E402

__all__ = ["serve", "wanted"]

__plugin_meta__ = PluginMetadata(
    name="SpringFestQA 春节问答",
    description="亲戚问到尴尬问题时，按选定的风格（委婉、转移话题、阴阳怪气）帮你回一句",
    usage="@机器人 你什么时候结婚？ / 回复亲戚的消息发送 /委婉 /转移 /阴阳 / 回复机器人的回答发送 换一个",
    type="application",
    config=PluginConfig,
    supported_adapters={"~onebot.v11", "~qq"},
)

if globals().get("__plugin__") is not None:  # loaded by nonebot.load_plugin: NoneBot is initialised
    from adapters.nonebot import logs, matchers

    logs.to_loguru()
    matchers.register()
