"""Build every long-lived object once at start-up from the validated config: data, knowledge base, LLM
backend, generator, engine."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.config import Config
from engine.corpus import Corpus, load_corpus
from engine.engine import Engine, RetrievalSettings
from engine.generation.generator import GenerationSettings, Generator
from engine.generation.run import Limits
from engine.llm.base import LLM, Sampling
from engine.retrieval.embedders import make_embedder
from engine.retrieval.index import KnowledgeBase, make_client
from engine.retrieval.intent import Calibration, IntentSettings
from engine.retrieval.model_files import resolve_model
from engine.retrieval.training import ensure_intent
from engine.retrieval.vectors import VectorCache, cache_name
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


def intent_file(cfg: Config) -> Path:
    """Where the trained intent model is cached (next to the vector cache; read on every restart)."""
    return cfg.path(cfg.knowledge.cache_path) / "intent.pickle"


def open_knowledge(cfg: Config, *, download: bool = False) -> KnowledgeBase:
    server = (cfg.knowledge.server.host, cfg.knowledge.server.port) if cfg.knowledge.server else None
    client = make_client(cfg.path(cfg.knowledge.path), server)
    embedder = make_embedder(cfg.embedding.backend, cfg.model_location(cfg.embedding.model), cfg.embedding.prefix,
                             download=download)
    name = cache_name(embedder.name)
    vectors = VectorCache(embedder.name, embedder.dim, cfg.path(cfg.knowledge.cache_path) / name,
                          shipped=[data_paths(cfg).vectors / name])
    return KnowledgeBase(client, embedder, backend=cfg.embedding.backend, model=cfg.embedding.model,
                         collection=cfg.knowledge.collection, vectors=vectors)


def build_engine(cfg: Config, *, llm: LLM | None = None, progress: bool = False) -> Engine:
    """The engine, its knowledge base built or updated if needed.

    The one place an engine is assembled. `llm` replaces the backend llm.backend names (tests and
    benchmarks pass a scripted model or one over a fake server); the rest comes from `cfg` as in production.
    """
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
    intent = ensure_intent(kb, corpus, IntentSettings(cfg.knowledge.dense_weight, cfg.knowledge.svm_c,
                                                        cfg.knowledge.none_weight),
                           intent_file(cfg))
    return Engine(corpus, enabled, kb, intent, retrieval_settings(cfg),
                  generator=make_generator(cfg, corpus, enabled, llm))


# -- engine settings: every value from the config (config.py holds the only defaults) --------------------
S = TypeVar("S")


def from_section(cls: type[S], section: BaseModel, **named: Any) -> S:
    """An engine settings dataclass filled from a config section: each field the section has under the same
    name, then `named` (fields the config names differently or keeps in another section). A field found
    in neither is a TypeError at start-up, so a new engine setting cannot silently get a second default."""
    values = section.model_dump()
    same = {f.name: values[f.name] for f in fields(cls) if f.name in values and f.name not in named}  # type: ignore[arg-type]
    return cls(**same, **named)


def retrieval_settings(cfg: Config) -> RetrievalSettings:
    k = cfg.knowledge
    return from_section(RetrievalSettings, k, max_question_chars=cfg.question.max_chars,
                        calibration=Calibration(k.topic_temperature, k.item_temperature, k.followup_weight))


def sampling(cfg: Config) -> Sampling:
    return from_section(Sampling, cfg.llm)


def generation_settings(cfg: Config) -> GenerationSettings:
    return from_section(GenerationSettings, cfg.llm, match_threshold=cfg.knowledge.match_threshold,
                        limits=from_section(Limits, cfg.llm, retries=cfg.llm.repeat_retries),
                        sampling=sampling(cfg))


# -- language model backends ---------------------------------------------------------------------------
def _openai(cfg: Config) -> LLM:
    from engine.llm.openai_backend import OpenAILLM  # imports the openai client: only when chosen

    llm = cfg.llm
    return OpenAILLM(llm.base_url, llm.model, cfg.secret(llm.api_key_env), timeout_s=llm.timeout_s)


def _turbomind(cfg: Config) -> LLM:
    from engine.llm.turbomind import TurboMindLLM, TurbomindOptions
    from engine.llm.turbomind import build_engine as build_turbomind

    tm = cfg.llm.turbomind
    # A missing model stops start-up with the exact command that fetches it (ModelMissing).
    path = resolve_model(cfg.model_location(cfg.llm.model))
    log.info("loading %s into TurboMind (tp=%d)", path, tm.tp)
    return TurboMindLLM(build_turbomind(str(path), from_section(TurbomindOptions, tm),
                                        use_model_template=tm.chat_template == "model"))


BACKENDS: dict[str, Callable[[Config], LLM]] = {"openai": _openai, "turbomind": _turbomind}


def make_llm(cfg: Config) -> LLM:
    """The backend llm.backend names (turbomind loads the model onto the GPU here)."""
    try:
        make = BACKENDS[cfg.llm.backend]
    except KeyError:
        raise ValueError(f"llm.backend {cfg.llm.backend!r} has no language model") from None
    return make(cfg)


def make_generator(cfg: Config, corpus: Corpus, styles: dict[str, Style],
                   llm: LLM | None = None) -> Generator | None:
    """The generator Engine uses: None for llm.backend none unless `llm` is given, which then replaces
    the configured backend."""
    if cfg.llm.backend == "none" and llm is None:
        return None
    safety = SafetyFilter.from_file(data_paths(cfg).safety_words)
    return Generator(llm or make_llm(cfg), corpus, styles, generation_settings(cfg), safety=safety)
