"""Build every long-lived object once at start-up from the validated config."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from engine.corpus import Corpus, load_corpus
from engine.engine import Engine, RetrievalSettings
from engine.retrieval.embedders import make_embedder
from engine.retrieval.index import KnowledgeBase, make_client
from engine.retrieval.intent import Calibration, IntentSettings
from engine.retrieval.training import ensure_intent
from engine.retrieval.vectors import VectorCache, cache_name
from engine.styles import Style, enabled_styles, load_styles

log = logging.getLogger(__name__)


@dataclass
class DataPaths:
    styles: Path
    qa_dirs: list[Path]
    fallbacks: Path
    safety_words: Path
    topics: Path
    not_questions: Path
    vectors: Path  # the shipped vector cache (data/vectors/)


def data_paths(cfg: Config) -> DataPaths:
    data = cfg.path(cfg.data_dir)
    extra = [cfg.path(p) for p in cfg.knowledge.extra_corpus]
    return DataPaths(data / "styles.yaml", [data / "qa", *extra], data / "fallbacks.yaml",
                     data / "safety_words.txt", data / "topics", data / "not_questions.yaml", data / "vectors")


def load_data(cfg: Config) -> tuple[dict[str, Style], dict[str, Style], Corpus]:
    """(all styles, enabled styles, corpus)."""
    paths = data_paths(cfg)
    all_styles = load_styles(paths.styles)
    return all_styles, enabled_styles(all_styles, cfg.styles.enabled), load_corpus(
        paths.qa_dirs, paths.fallbacks, paths.topics, paths.not_questions)


def open_knowledge(cfg: Config, *, download: bool = False) -> KnowledgeBase:
    server = (cfg.knowledge.server.host, cfg.knowledge.server.port) if cfg.knowledge.server else None
    client = make_client(cfg.path(cfg.knowledge.path), server)
    embedder = make_embedder(cfg.embedding.backend, cfg.embedding.model, cfg.embedding.prefix, download=download)
    name = cache_name(embedder.name)
    vectors = VectorCache(embedder.name, embedder.dim, cfg.path(cfg.knowledge.cache_path) / name,
                          shipped=[data_paths(cfg).vectors / name])
    return KnowledgeBase(client, embedder, backend=cfg.embedding.backend, model=cfg.embedding.model,
                         collection=cfg.knowledge.collection, vectors=vectors)


def retrieval_settings(cfg: Config) -> RetrievalSettings:
    k = cfg.knowledge
    return RetrievalSettings(
        k=k.k, match_threshold=k.match_threshold, max_question_chars=cfg.question.max_chars,
        item_threshold=k.item_threshold, topic_threshold=k.topic_threshold,
        calibration=Calibration(k.topic_temperature, k.item_temperature, k.followup_weight))


def build_engine(cfg: Config, *, progress: bool = False) -> Engine:
    """The engine with its knowledge base built or updated if needed."""
    _, enabled, corpus = load_data(cfg)
    kb = open_knowledge(cfg, download=True)
    status = kb.status(corpus)
    if status != "ready":  # the first start embeds the whole corpus: say so rather than sit silent
        print(f"springfest: {'building' if status == 'missing' else 'updating'} the knowledge base "
              f"({len(corpus.phrasings())} phrasings)…", file=sys.stderr, flush=True)
    report = kb.ensure(corpus, progress=progress)
    if report:
        log.info("knowledge base: %d phrasings added, %d removed in %.1fs", report.added, report.removed,
                 report.seconds)
    intent = ensure_intent(kb, corpus, IntentSettings(cfg.knowledge.dense_weight, cfg.knowledge.svm_c),
                           cfg.path(cfg.knowledge.cache_path) / "intent.pickle")
    return Engine(corpus, enabled, kb, intent, retrieval_settings(cfg),
                  generator=make_generator(cfg, corpus, enabled))


def make_generator(cfg: Config, corpus: Corpus, styles: dict[str, Style]):
    """The LLM-backed generator for llm.backend, or None for curated answers only."""
    if cfg.llm.backend == "none":
        return None
    from bot.llm_wiring import make_generator as _make  # generation wiring lives with its backends

    return _make(cfg, corpus, styles)
