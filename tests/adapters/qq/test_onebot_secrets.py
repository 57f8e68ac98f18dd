"""The OneBot access token is one of the secrets the redaction removes (adapters/redact.py), and NoneBot's own
log (loguru) passes through it when the plugin runs embedded: a token-shaped value in NoneBot's records (as
`nonebot.init` logs its config at DEBUG, or an exception echoing an Authorization header) never reaches the
output. The end-to-end tests (test_onebot_e2e.py) check the same on a wrong token, a missing one, a refused
call and a dropped connection of the real `springfest run`."""

from __future__ import annotations

import logging

import pytest
from conftest import write_config

from adapters import redact
from adapters.nonebot import logs
from bot.config import load_config

SECRET = "ob11-Zq8w3Xv1Nc5Lp7Rt2Yk9"


@pytest.fixture
def installed():
    yield redact.install
    redact.REDACTOR.forget()


@pytest.mark.parametrize("variable", ["ONEBOT_ACCESS_TOKEN", "MY_QQ_TOKEN"])
def test_the_onebot_token_never_reaches_the_output(variable, installed, monkeypatch, tmp_path, mini_data, capfd,
                                                   caplog):
    from nonebot.log import logger

    monkeypatch.setenv(variable, SECRET)
    cfg = load_config(write_config(tmp_path, mini_data, onebot={"enabled": True, "access_token_env": variable}))
    assert redact.secret_variables(cfg) == {variable: SECRET}
    installed(cfg)
    logs.from_loguru()  # what the embedded server does first: NoneBot's records into the logging module
    caplog.set_level(logging.DEBUG)
    logger.warning(f"Loaded Config: {{'driver': '~fastapi', 'onebot_access_token': '{SECRET}'}}")
    try:
        raise RuntimeError(f"handshake failed: Authorization: Bearer {SECRET}")
    except RuntimeError:
        logger.exception("Error while process data from websocket")
    out = capfd.readouterr()
    text = out.out + out.err + caplog.text
    assert SECRET not in text
    assert f"'onebot_access_token': '<${variable}>'" in text and f"Bearer <${variable}>" in text
