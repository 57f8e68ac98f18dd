"""The knowledge base: incremental builds, embedder records, reopening offline."""

from __future__ import annotations

import pytest
import yaml
from conftest import write_config

from bot.config import load_config
from bot.wiring import build_engine, load_data, open_knowledge
from engine.retrieval.index import EmbedderMismatch


def test_incremental_build_embeds_only_new_phrasings(mini_config, mini_data):
    _, _, corpus = load_data(mini_config)
    kb = open_knowledge(mini_config)
    assert kb.status(corpus) == "missing"
    first = kb.build(corpus)
    assert (first.added, first.removed) == (24, 0)
    assert kb.status(corpus) == "ready"
    assert kb.build(corpus).added == 0

    path = mini_data / "qa" / "salary.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    items[0]["questions"][-1] = "你今年工资涨了多少？"  # one phrasing replaced
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    _, _, corpus = load_data(mini_config)
    assert kb.status(corpus) == "stale"
    before = kb.search("你今年工资涨了多少？")[0].score  # remembered until the next build
    second = kb.build(corpus)
    assert (second.added, second.removed, second.kept) == (1, 1, 23)
    assert kb.stats()["phrasings"] == 24
    assert before < 0.99 < kb.search("你今年工资涨了多少？")[0].score


def test_stale_index_is_rebuilt_by_the_engine(mini_config, mini_data):
    build_engine(mini_config)
    path = mini_data / "qa" / "marriage.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    items[0]["questions"].append("喜糖啥时候能吃上？")
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    engine = build_engine(mini_config)
    assert engine.kb.stats()["phrasings"] == 25
    assert engine.kb.search("喜糖啥时候能吃上？")[0].score > 0.99


def test_search_returns_one_entry_per_item_best_first(mini_config):
    engine = build_engine(mini_config)
    matches = engine.kb.search("你一个月工资多少", k=5)
    assert [m.id for m in matches] == ["salary-how-much", "marriage-when"]
    assert matches[0].score > matches[1].score
    assert matches[0].question == "你一个月挣多少钱？"


def test_reopening_uses_the_recorded_embedder_not_chromas_default(mini_config):
    build_engine(mini_config)
    # A fresh client reading the collection without being told the embedding function must get ours
    # (Chroma's default would try to download an ONNX model).
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(mini_config.path(mini_config.knowledge.path)),
                                       settings=Settings(anonymized_telemetry=False))
    col = client.get_collection(mini_config.knowledge.collection)
    res = col.query(query_texts=["你啥时候结婚"], n_results=1)
    assert res["metadatas"][0][0]["item"] == "marriage-when"


def test_embedder_mismatch_says_to_rebuild(tmp_path, mini_config, mini_data):
    build_engine(mini_config)
    kb = open_knowledge(mini_config)
    kb.embedder.name = "other-embedder"  # what a changed embedding.backend looks like to the index
    _, _, corpus = load_data(mini_config)
    with pytest.raises(EmbedderMismatch, match="springfest kb build --rebuild"):
        kb.status(corpus)
    assert kb.build(corpus, rebuild=True).added == 24


def test_extra_corpus_paths_are_indexed(tmp_path, mini_data):
    extra = tmp_path / "extra.yaml"
    extra.write_text(yaml.safe_dump([{
        "id": "car-what", "topic": "car", "questions": ["买车了没？", "开的啥车回来的？", "啥时候买辆车？"],
        "answers": {s: ["还在看呢，等攒够了首付再说吧。", "地铁挺方便的，暂时还用不上车。"]
                    for s in ("tactful", "deflect", "sarcastic")}}], allow_unicode=True), encoding="utf-8")
    cfg = load_config(write_config(tmp_path, mini_data, knowledge={"extra_corpus": [str(extra)]}))
    engine = build_engine(cfg)
    assert engine.kb.search("你开的什么车")[0].id == "car-what"
