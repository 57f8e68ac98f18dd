"""`springfest run` and the QQ platform: imported only when switched on, and a missing token said clearly."""

from __future__ import annotations

import pytest
from conftest import write_config

from adapters.errors import PlatformFatal
from adapters.run import load_platforms
from bot.config import load_config


def test_onebot_is_loaded_only_when_enabled(mini_config, tmp_path, mini_data):
    assert "onebot" not in load_platforms(None, mini_config)  # a base install never warns about it
    enabled = load_config(write_config(tmp_path, mini_data, onebot={"enabled": True}))
    module = load_platforms(["onebot"], enabled)["onebot"]
    assert module.wanted(enabled) and not module.wanted(mini_config)


async def test_a_missing_token_is_fatal_and_names_the_variable(tmp_path, mini_data, monkeypatch):
    from adapters.nonebot import serve

    monkeypatch.delenv("QQ_TOKEN_FOR_TEST", raising=False)
    onebot = {"enabled": True, "access_token_env": "QQ_TOKEN_FOR_TEST"}
    cfg = load_config(write_config(tmp_path, mini_data, onebot=onebot))
    with pytest.raises(PlatformFatal, match=r"\$QQ_TOKEN_FOR_TEST is not set"):
        await serve(None, cfg)
