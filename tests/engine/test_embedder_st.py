"""The sentence-transformers embedder with a tiny model this test builds (random weights: the test is
the loading and the plumbing, never a download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_config

from bot.config import load_config
from bot.wiring import build_engine
from engine.retrieval.model_files import ModelMissing, resolve_model

pytest.importorskip("sentence_transformers")


def build_tiny_model(root: Path) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel, BertTokenizer

    chars = sorted(set("你什么时候结婚啊挣多少钱工资一个月喜酒办事打算今年的吗了呢开车没有房子买"))
    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]), encoding="utf-8")
    bert_dir = root / "bert"
    BertTokenizer(str(vocab)).save_pretrained(bert_dir)
    config = BertConfig(vocab_size=5 + len(chars), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(bert_dir)
    word = models.Transformer(str(bert_dir), max_seq_length=32)
    model = SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension())])
    out = root / "tiny-st"
    model.save(str(out))
    return out


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


def test_missing_modelscope_model_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    with pytest.raises(ModelMissing, match="springfest model pull someone/no-such-model"):
        resolve_model("someone/no-such-model")
    with pytest.raises(ModelMissing, match="does not exist"):
        resolve_model(str(tmp_path / "nowhere"))
