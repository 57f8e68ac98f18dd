"""The sentence-transformers embedder with a tiny model this test builds (tests/support/tiny_st.py)."""

from __future__ import annotations

import pytest
from conftest import write_config
from support.tiny_st import build_tiny_model

from bot.config import load_config
from bot.wiring import build_engine
from engine.retrieval.model_files import ModelMissing, resolve_model

pytest.importorskip("sentence_transformers")


async def test_sentence_transformers_backend_end_to_end(tmp_path, mini_data):
    model_dir = build_tiny_model(tmp_path)
    cfg = load_config(write_config(tmp_path, mini_data, embedding={
        "backend": "sentence-transformers", "model": str(model_dir), "prefix": "query: "}))
    engine = build_engine(cfg)
    assert engine.kb.embedder.dim == 32
    assert engine.kb.stats()["embedder"] == f"sentence-transformers:{model_dir}"
    # An exact phrasing of the corpus is its own nearest neighbour whatever the weights.
    assert engine.kb.search("你一个月挣多少钱？")[0].id == "salary-how-much"
    answer = await engine.answer("你一个月挣多少钱？", "tactful")
    assert answer.understanding.item == "salary-how-much"


def test_a_relative_model_directory_is_found_next_to_the_config_file(tmp_path, mini_data, monkeypatch):
    """config.yaml says relative paths start at its own directory; a model directory is one of them, wherever
    `springfest run --config` is started from."""
    (tmp_path / "models").mkdir()
    build_tiny_model(tmp_path / "models")
    cfg = load_config(write_config(tmp_path, mini_data, embedding={
        "backend": "sentence-transformers", "model": "./models/tiny-st"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    engine = build_engine(cfg)
    assert engine.kb.embedder.dim == 32
    assert cfg.model_location("./models/tiny-st") == str(tmp_path / "models" / "tiny-st")
    assert cfg.model_location("internlm/internlm2-chat-7b") == "internlm/internlm2-chat-7b"  # a ModelScope id
    assert cfg.model_location(str(tmp_path / "abs")) == str(tmp_path / "abs")


def test_missing_modelscope_model_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    with pytest.raises(ModelMissing, match="springfest model pull someone/no-such-model"):
        resolve_model("someone/no-such-model")
    with pytest.raises(ModelMissing, match="does not exist"):
        resolve_model(str(tmp_path / "nowhere"))
