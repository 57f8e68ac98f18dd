"""Building the LLM backend and the generator from the `llm` section of the config."""

from __future__ import annotations

import logging

from bot.config import Config
from engine.corpus import Corpus
from engine.generation.generator import GenerationSettings, Generator
from engine.generation.run import Limits
from engine.llm.base import LLM, Sampling
from engine.retrieval.model_files import resolve_model
from engine.safety import SafetyFilter
from engine.styles import Style

log = logging.getLogger(__name__)


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
                   llm: LLM | None = None) -> Generator:
    """The generator Engine uses when llm.backend is not none (`llm` given: that backend instead)."""
    from bot.wiring import data_paths  # bot.wiring imports this module lazily; no cycle at import time

    safety = SafetyFilter.from_file(data_paths(cfg).safety_words)
    return Generator(llm or make_llm(cfg), corpus, styles, generation_settings(cfg), safety=safety)
