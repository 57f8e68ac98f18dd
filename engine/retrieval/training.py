"""Train the intent model for a corpus, or load the one trained last time from next to the index."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from engine.corpus import Corpus
from engine.normalize import normalize
from engine.retrieval.index import KnowledgeBase
from engine.retrieval.intent import IntentModel, IntentSettings, fingerprint

log = logging.getLogger(__name__)


def training_rows(corpus: Corpus) -> tuple[list[str], list[str], list[str], list[str]]:
    """(normalised phrasings, their items, their topics, normalised chat lines), in corpus order."""
    texts, items, topics = [], [], []
    for item in corpus.items.values():
        for q in item.questions:
            texts.append(normalize(q)[0])
            items.append(item.id)
            topics.append(item.topic)
    negatives = list(dict.fromkeys(n for n in (normalize(line)[0] for line in corpus.not_questions) if n))
    return texts, items, topics, negatives


def ensure_intent(kb: KnowledgeBase, corpus: Corpus, settings: IntentSettings, cache: Path | None) -> IntentModel:
    """The model for this corpus and embedder: from `cache` when it matches, else trained (and cached)."""
    texts, items, topics, negatives = training_rows(corpus)
    fp = fingerprint(texts, items, topics, negatives, kb.embedder.name, settings)
    if cache is not None and (model := IntentModel.load(cache, fp)) is not None:
        return model
    t0 = time.perf_counter()
    vectors = kb.vectors.vectors(texts, kb.embedder)
    neg_vectors = kb.vectors.vectors(negatives, kb.embedder) if negatives else np.zeros((0, kb.embedder.dim))
    kb.vectors.save()
    model = IntentModel.fit(texts, vectors, items, topics, negatives, neg_vectors, settings, fp)
    log.info("intent model: %d phrasings, %d chat lines, %d topics trained in %.1fs", len(texts), len(negatives),
             len(set(topics)), time.perf_counter() - t0)
    if cache is not None:
        model.save(cache)
    return model
