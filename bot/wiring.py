"""Build every long-lived object once at start-up from the validated config: data, knowledge base, LLM
backend, generator, engine."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from engine.corpus import Corpus, load_corpus
from engine.engine import Engine, RetrievalSettings
from engine.generation.generator import GenerationSettings, Generator
from engine.generation.run import Limits
from engine.llm.base import LLM, Sampling
from engine.retrieval.embedders import make_embedder
from engine.retrieval.index import KnowledgeBase, make_client
from engine.retrieval.model_files import resolve_model
from engine.safety import SafetyFilter
from engine.styles import Style, enabled_styles, load_styles

log = logging.getLogger(__name__)


@dataclass
class DataPaths:
    styles: Path
    qa_dirs: list[Path]
    fallbacks: Path
    safety_words: Path
    topics: Path


def data_paths(cfg: Config) -> DataPaths:
    data = cfg.path(cfg.data_dir)
    extra = [cfg.path(p) for p in cfg.knowledge.extra_corpus]
    return DataPaths(data / "styles.yaml", [data / "qa", *extra], data / "fallbacks.yaml",
                     data / "safety_words.txt", data / "topics")


def load_data(cfg: Config) -> tuple[dict[str, Style], dict[str, Style], Corpus]:
    """(all styles, enabled styles, corpus)."""
    paths = data_paths(cfg)
    all_styles = load_styles(paths.styles)
    return all_styles, enabled_styles(all_styles, cfg.styles.enabled), load_corpus(paths.qa_dirs, paths.fallbacks,
                                                                                   paths.topics)


def open_knowledge(cfg: Config, *, download: bool = False) -> KnowledgeBase:
    server = (cfg.knowledge.server.host, cfg.knowledge.server.port) if cfg.knowledge.server else None
    client = make_client(cfg.path(cfg.knowledge.path), server)
    embedder = make_embedder(cfg.embedding.backend, cfg.embedding.model, cfg.embedding.prefix, download=download)
    return KnowledgeBase(client, embedder, backend=cfg.embedding.backend, model=cfg.embedding.model,
                         collection=cfg.knowledge.collection)


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
    retrieval = RetrievalSettings(k=cfg.knowledge.k, match_threshold=cfg.knowledge.match_threshold,
                                  max_question_chars=cfg.question.max_chars)
    return Engine(corpus, enabled, kb, retrieval, generator=make_generator(cfg, corpus, enabled))


def sampling(cfg: Config) -> Sampling:
    llm = cfg.llm
    return Sampling(temperature=llm.temperature, top_p=llm.top_p, top_k=llm.top_k,
                    repetition_penalty=llm.repetition_penalty, max_tokens=llm.max_tokens)


def make_llm(cfg: Config) -> LLM:
    """The backend llm.backend names (turbomind loads the model onto the GPU here)."""
    llm = cfg.llm
    if llm.backend == "openai":
        from engine.llm.openai_backend import OpenAILLM

        return OpenAILLM(llm.base_url, llm.model, cfg.secret(llm.api_key_env), timeout_s=llm.timeout_s)
    if llm.backend == "turbomind":
        from engine.llm.turbomind import TurboMindLLM, TurbomindOptions, build_engine

        tm = llm.turbomind
        # A missing model stops start-up with the exact command that fetches it (ModelMissing).
        path = resolve_model(llm.model)
        options = TurbomindOptions(tp=tm.tp, session_len=tm.session_len, max_batch_size=tm.max_batch_size,
                                   cache_max_entry_count=tm.cache_max_entry_count,
                                   model_format=tm.model_format, quant_policy=tm.quant_policy)
        log.info("loading %s into TurboMind (tp=%d)", path, tm.tp)
        return TurboMindLLM(build_engine(str(path), options, use_model_template=tm.chat_template == "model"))
    raise ValueError(f"llm.backend {llm.backend!r} has no language model")


def generation_settings(cfg: Config) -> GenerationSettings:
    llm = cfg.llm
    return GenerationSettings(
        examples_k=llm.examples_k, match_threshold=cfg.knowledge.match_threshold,
        prefer_curated=llm.prefer_curated, curated_threshold=llm.curated_threshold,
        prefetch_styles=llm.prefetch_styles, prefetch_ttl_s=llm.prefetch_ttl_s,
        retry_after_s=llm.retry_after_s,
        limits=Limits(timeout_s=llm.timeout_s, first_piece_timeout_s=llm.first_piece_timeout_s,
                      max_answer_chars=llm.max_answer_chars),
        sampling=sampling(cfg))


def make_generator(cfg: Config, corpus: Corpus, styles: dict[str, Style],
                   llm: LLM | None = None) -> Generator | None:
    """The generator Engine uses (None for llm.backend none; `llm` given: that backend instead)."""
    if cfg.llm.backend == "none" and llm is None:
        return None
    safety = SafetyFilter.from_file(data_paths(cfg).safety_words)
    return Generator(llm or make_llm(cfg), corpus, styles, generation_settings(cfg), safety=safety)
