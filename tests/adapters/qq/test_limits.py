"""The OneBot account's send budget and how failed calls are read (adapters/nonebot/limits.py), on their own."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import ActionFailed, ApiNotAvailable, NetworkError
from nonebot.exception import WebSocketClosed
from uvicorn.protocols.utils import ClientDisconnected

from adapters.delivery import TRANSIENT
from adapters.nonebot.limits import budget, classify, describe
from bot.config import OneBotConfig


def test_each_group_has_its_minute_and_the_account_one_for_everything():
    now = [0.0]
    spend = budget(OneBotConfig(group_messages_per_minute=2, messages_per_minute=3), clock=lambda: now[0])
    spend.take("g1")
    spend.take("g1")
    assert spend.delay("g1") == 60  # the group's minute is full...
    assert spend.delay("g2") == 0 and spend.delay("u5") == 0  # ...other chats are not
    spend.take("u5")  # a private chat counts for the account only
    assert spend.delay("g2") == 60 and spend.delay("u6") == 60  # the account's minute is full
    now[0] = 60.0
    assert spend.delay("g1") == 0


def test_what_is_retried():
    assert classify(ApiNotAvailable()) == TRANSIENT  # no client connected: nothing reached QQ
    assert classify(WebSocketClosed(1006)) == TRANSIENT
    assert classify(ClientDisconnected()) == TRANSIENT
    assert classify(NetworkError("WebSocket call api send_group_msg timeout")) is None  # maybe delivered
    assert classify(TimeoutError()) is None
    assert classify(ActionFailed(status="failed", retcode=1200, wording="账号被禁言")) is None


def test_failures_described_in_one_line():
    assert describe(ActionFailed(status="failed", retcode=100, message="发送失败，可能被风控")) == \
        "retcode 100 (发送失败，可能被风控)"
    assert describe(ApiNotAvailable()) == "no QQ client is connected"
