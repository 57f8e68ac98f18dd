"""A tiny sentence-transformers model built on the spot (random weights, a few dozen characters): tests of
the loading and the plumbing, never a download."""

from __future__ import annotations

from pathlib import Path


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
