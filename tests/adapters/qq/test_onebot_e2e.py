"""End to end, without NoneBot internals: `springfest run --only onebot` in its own process, and a fake
OneBot v11 client (as NapCat is one) connecting to it over a real WebSocket on 127.0.0.1 with X-Self-ID and
the access token, posting group events with at, reply and text segments and answering the bot's API calls
(send_group_msg, get_msg, delete_msg, set_msg_emoji_like) with OneBot responses; /healthz follows the client.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest
import websockets
import yaml
from conftest import MINI, copy_mini, write_config
from fakes.fake_onebot import NICKNAME, SELF_ID, FakeOneBot, at, failed, plain, reply, text

from .process import Process, free_port

TOKEN = "ob11-7f3a9c2e51d84b6a"  # token-shaped, so a leak would be visible in the log
GROUP, OWNER, AUNT, UNCLE = 42, 1, 2002, 3003
MARRIAGE, SALARY = "你打算什么时候结婚啊？", "一个月挣多少钱啊"
EMOJI = {"tactful": "128522", "deflect": "9749", "sarcastic": "128527", "another": "10024"}


def answers(item: str, style: str) -> list[str]:
    topic = item.split("-")[0]
    items = yaml.safe_load((MINI / "qa" / f"{topic}.yaml").read_text(encoding="utf-8"))
    return next(i for i in items if i["id"] == item)["answers"][style]


def started(tmp_path: Path, metrics_port: int | None = None, **onebot) -> tuple[Process, int]:
    data = copy_mini(tmp_path)
    port = free_port()
    # A test group talks faster than a family: the send budget is the default's three times.
    onebot = {"enabled": True, "port": port, "group_messages_per_minute": 30, **onebot}
    metrics = {"enabled": True, "port": metrics_port} if metrics_port else {"enabled": False}
    config = write_config(tmp_path, data, onebot=onebot, access={"owners": [OWNER]}, metrics=metrics)
    return Process.springfest(config, tmp_path / "springfest.log", env={"ONEBOT_ACCESS_TOKEN": TOKEN}).start(), port


def said(call: dict) -> str:
    """The answer text of a send call (the hint line left out)."""
    return plain(call["params"]["message"]).split("\n💡")[0]


@pytest.fixture
def run(tmp_path):
    procs: list[Process] = []

    def start(**onebot) -> tuple[Process, int]:
        proc, port = started(tmp_path, **onebot)
        procs.append(proc)
        return proc, port

    yield start
    for proc in procs:
        proc.stop()


async def test_done_when_mention_sarcastic_on_a_relative_tactful_on_its_answer_and_a_restart(run):
    proc, port = run(reactions=True, recall_replaced=True)
    client = FakeOneBot(port, token=TOKEN)
    await client.connect_when_up()
    await proc.wait_log(f"onebot: QQ {SELF_ID} connected")

    await client.post(client.group_message(GROUP, OWNER, [at(SELF_ID), text(" /approve")]))
    [approved] = await client.wait_calls("send_group_msg")
    assert "已开通" in said(approved)

    # 1. A group @-mention: answered, quoting the question, with the hint and the reaction buttons.
    question = client.group_message(GROUP, AUNT, [at(SELF_ID), text(f" {MARRIAGE}")])
    await client.post(question)
    first = (await client.wait_calls("send_group_msg", 2))[1]
    segments = first["params"]["message"]
    assert segments[0] == reply(question["message_id"]) and {s["type"] for s in segments} == {"reply", "text"}
    assert said(first) in answers("marriage-when", "tactful") and "💡 回复本条" in plain(segments)
    first_id = client.id_of(first)
    likes = await client.wait_calls("set_msg_emoji_like", 4)
    assert [(c["params"]["message_id"], c["params"]["emoji_id"]) for c in likes] == [
        (first_id, e) for e in EMOJI.values()]

    # 2. /sarcastic as a reply to a relative's message (QQ puts an @ of its author after the reply segment):
    # the adapter fetches it with get_msg, the bot answers it.
    relative = client.group_message(GROUP, UNCLE, [text(SALARY)], nickname="三舅")
    await client.post(relative)
    command = client.group_message(GROUP, AUNT, [reply(relative["message_id"]), at(UNCLE), text(" /sarcastic")])
    await client.post(command)
    [fetched] = await client.wait_calls("get_msg")
    assert int(fetched["params"]["message_id"]) == relative["message_id"]
    second = (await client.wait_calls("send_group_msg", 3))[2]
    assert second["params"]["message"][0] == reply(command["message_id"])
    assert said(second) in answers("salary-how-much", "sarcastic")

    # 3. /tactful as a reply to its own answer: that question again, another tactful answer; the old answer is
    # recalled (onebot.recall_replaced), so the new one quotes the request.
    again = client.group_message(GROUP, AUNT, [reply(first_id), at(SELF_ID), text(" /tactful")])
    await client.post(again)
    third = (await client.wait_calls("send_group_msg", 4))[3]
    assert third["params"]["message"][0] == reply(again["message_id"])
    assert said(third) in answers("marriage-when", "tactful") and said(third) != said(first)
    [recalled] = await client.wait_calls("delete_msg")
    assert recalled["params"]["message_id"] == first_id and first_id not in client.messages

    # 4. A reaction on an answer is a style button.
    await client.post(client.reaction(GROUP, UNCLE, client.id_of(third), EMOJI["deflect"]))
    fourth = (await client.wait_calls("send_group_msg", 5))[4]
    assert said(fourth) in answers("marriage-when", "deflect")

    # 5. Restart; replying to an answer from before the restart still works.
    await client.drop()
    assert proc.stop() == 0
    proc.start()
    await client.connect_when_up()
    await proc.wait_log(f"onebot: QQ {SELF_ID} connected", timeout=60)
    before = len(client.sent_by_bot())
    await client.post(client.group_message(GROUP, UNCLE, [reply(client.id_of(second)), at(SELF_ID), text(" 换一个")]))
    after = (await client.wait_calls("send_group_msg", before + 1))[before]
    assert said(after) in answers("salary-how-much", "sarcastic") and said(after) != said(second)
    assert TOKEN not in proc.log()


async def test_faults_are_logged_and_nothing_is_lost(run):
    proc, port = run()
    client = FakeOneBot(port, token=TOKEN)
    await client.connect_when_up()
    await proc.wait_log(f"onebot: QQ {SELF_ID} connected")
    await client.post(client.group_message(GROUP, OWNER, [at(SELF_ID), text(" /approve")]))
    await client.wait_calls("send_group_msg")
    sends = 1

    async def answered(*segments, user: int = AUNT) -> dict:
        nonlocal sends
        event = client.group_message(GROUP, user, list(segments))
        await client.post(event)
        sends += 1
        call = (await client.wait_calls("send_group_msg", sends))[sends - 1]
        assert call["params"]["message"][0] == reply(event["message_id"])
        return call

    # A wrong token and a missing one: refused at the handshake, said clearly, the token never logged.
    for token in ("not-the-token", None):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await FakeOneBot(port, token=token, self_id=20000).connect()
        assert refused.value.response.status_code == 403
    await proc.wait_log("onebot: refused a client (X-Self-ID 20000): it sent another access token than the one "
                        "in $ONEBOT_ACCESS_TOKEN")
    await proc.wait_log("onebot: refused a client (X-Self-ID 20000): it sent no access token; give it the one in "
                        "$ONEBOT_ACCESS_TOKEN")

    # A malformed event: logged, the connection stays, the next question is answered.
    await client.post({"post_type": "message", "message_type": "group", "message": "缺了好多字段"})
    await proc.wait_log("Failed to parse event")
    assert said(await answered(at(SELF_ID), text(f" {MARRIAGE}"))) in answers("marriage-when", "tactful")

    # An unknown segment type (a market sticker): skipped with a log line, the text answered.
    sticker = {"type": "mface", "data": {"emoji_id": "abc", "summary": "[新年快乐]"}}
    assert said(await answered(at(SELF_ID), sticker, text(MARRIAGE))) in answers("marriage-when", "tactful")
    await proc.wait_log("message segments of type 'mface' are skipped")

    # A send answered with retcode ≠ 0 (the bot muted): logged; the next question goes out.
    client.failures["send_group_msg"] = failed(1200, "账号被禁言")
    event = client.group_message(GROUP, AUNT, [at(SELF_ID), text(f" {MARRIAGE}")])
    await client.post(event)
    await proc.wait_log(f"onebot: could not answer message {event['message_id']} in g{GROUP}: "
                        "retcode 1200 (账号被禁言)")
    sends += 1
    assert said(await answered(at(SELF_ID), text(f" {MARRIAGE}"))) in answers("marriage-when", "tactful")

    # get_msg failing: the command arrives without the message it quoted, and the bot says what it needs.
    client.failures["get_msg"] = failed(1404, "消息不存在")
    relative = client.group_message(GROUP, UNCLE, [text(SALARY)])
    empty = await answered(reply(relative["message_id"]), text("/sarcastic"))
    assert "/sarcastic" in said(empty) and "回复亲戚的消息" in said(empty)

    # The connection dropped right after a question: answered once the client is back.
    event = client.group_message(GROUP, AUNT, [at(SELF_ID), text(f" {MARRIAGE}")])
    await client.post(event)
    await client.drop()
    await proc.wait_log(f"onebot: QQ {SELF_ID} disconnected; answers wait for it to reconnect")
    await asyncio.sleep(1)
    await client.connect()
    sends += 1
    late = (await client.wait_calls("send_group_msg", sends))[sends - 1]
    assert late["params"]["message"][0] == reply(event["message_id"])

    # Not even JSON: NoneBot's adapter closes that connection (logged); the client reconnects, nothing lost.
    event = client.group_message(GROUP, AUNT, [at(SELF_ID), text(f" {MARRIAGE}")])
    await client.post(event)
    await client.send_raw("{这不是 JSON")
    await proc.wait_log("Error while process data from websocket")
    await client.drop()
    await client.connect()
    sends += 1
    late = (await client.wait_calls("send_group_msg", sends))[sends - 1]
    assert late["params"]["message"][0] == reply(event["message_id"])

    assert proc.alive() and TOKEN not in proc.log()


async def test_healthz_follows_the_onebot_client_and_help_names_the_account(run):
    metrics = free_port()
    proc, port = run(metrics_port=metrics)
    healthz = f"http://127.0.0.1:{metrics}/healthz"

    async def health() -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(healthz) as response:
            return response.status, await response.text()

    async def until(status: int, text: str) -> None:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientConnectionError):
                got = await health()
                if got[0] == status and text in got[1]:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"/healthz never said {status} {text!r}: {await health()}")

    await until(503, f"onebot: no OneBot client connected yet (it connects to ws://127.0.0.1:{port}/onebot/v11/ws)")
    client = FakeOneBot(port, token=TOKEN)
    await client.connect()
    await until(200, '{"ok":true}')
    # On connecting, the bot asked the client for the account's nickname: the help text uses it.
    await client.wait_calls("get_login_info")
    await client.post(client.private_message(OWNER, [text("/help")]))
    [helped] = await client.wait_calls("send_private_msg")
    assert f"@{NICKNAME} 你什么时候结婚" in plain(helped["params"]["message"])
    await client.drop()
    await until(503, f"onebot: QQ {SELF_ID} disconnected; waiting for a OneBot client to reconnect")
    await client.connect()
    await until(200, '{"ok":true}')
