"""The plugin in an existing NoneBot2 project: a folder with the usual `bot.py` (which makes `import bot` find
that file, not our package) and a `.env`, run as `python bot.py`; a OneBot v11 client's @-mention is answered.
"""

from __future__ import annotations

import sys

from conftest import copy_mini, write_config
from fakes.fake_onebot import SELF_ID, FakeOneBot, at, plain, reply, text

from .process import Process, free_port

TOKEN = "ob11-project-token-93b1"
MARRIAGE = "你打算什么时候结婚啊？"

BOT_PY = '''\
print("the project's bot.py ran", flush=True)
import nonebot
from nonebot.adapters.onebot.v11 import Adapter

nonebot.init()
nonebot.get_driver().register_adapter(Adapter)
nonebot.load_plugin("adapters.nonebot")

if __name__ == "__main__":
    nonebot.run()
'''


async def test_the_plugin_answers_in_a_project_whose_bot_py_shadows_our_package(tmp_path):
    data = copy_mini(tmp_path)
    config = write_config(tmp_path, data, access={"open": True})
    project = tmp_path / "my-nonebot-project"
    project.mkdir()
    (project / "bot.py").write_text(BOT_PY, encoding="utf-8")
    port = free_port()
    (project / ".env").write_text(
        f"DRIVER=~fastapi\nHOST=127.0.0.1\nPORT={port}\nONEBOT_ACCESS_TOKEN={TOKEN}\nSPRINGFEST_CONFIG={config}\n",
        encoding="utf-8")
    proc = Process([sys.executable, "bot.py"], cwd=project, log=tmp_path / "project.log").start()
    try:
        client = FakeOneBot(port, token=TOKEN)
        await client.connect_when_up()
        await proc.wait_log("springfest: ready", timeout=60)  # the plugin built its engine at start-up
        question = client.group_message(77, 2002, [at(SELF_ID), text(f" {MARRIAGE}")])
        await client.post(question)
        [answer] = await client.wait_calls("send_group_msg")
        assert answer["params"]["group_id"] == 77
        assert answer["params"]["message"][0] == reply(question["message_id"])
        assert "💡 回复本条" in plain(answer["params"]["message"])
        log = proc.log()
        assert 'Succeeded to load plugin "nonebot" from "adapters.nonebot"' in log
        assert log.count("the project's bot.py ran") == 1  # never imported a second time as `bot`
    finally:
        proc.stop()


def test_a_foreign_bot_module_already_imported_is_a_clear_error(tmp_path):
    """When the project's bot.py was imported as `bot` before the plugin, the plugin says what to do."""
    import subprocess

    (tmp_path / "bot.py").write_text("VALUE = 1\n", encoding="utf-8")
    code = "import bot; import adapters.nonebot"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**Process([], log=tmp_path / "x").env}, timeout=120)
    assert done.returncode != 0
    assert "SpringFestQA needs the module name 'bot'" in done.stderr and "Load the plugin before" in done.stderr
