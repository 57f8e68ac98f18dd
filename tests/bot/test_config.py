"""One source of truth for settings: the pydantic models in bot/config.py hold the only defaults, config.yaml
shows exactly those, and the engine's settings types are built from them (bot.wiring)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from pydantic import BaseModel

from bot.config import DEFAULT_CONFIG, Config, load_config
from bot.wiring import from_section, generation_settings, retrieval_settings, sampling
from engine.engine import RetrievalSettings
from engine.generation.generator import GenerationSettings
from engine.generation.run import Limits
from engine.llm.base import Sampling
from engine.llm.turbomind import TurbomindOptions
from engine.retrieval.intent import Calibration, IntentSettings

ENGINE_SETTINGS = (RetrievalSettings, GenerationSettings, Limits, Sampling, TurbomindOptions, IntentSettings,
                   Calibration)
PER_REQUEST = {(Sampling, "seed")}  # not a setting: each request may pass its own


def test_config_yaml_shows_the_defaults():
    """config.yaml says "the values below are the defaults": it must stay true as either side changes."""
    shipped = load_config(DEFAULT_CONFIG).model_dump(exclude={"base_dir"})
    assert shipped == Config().model_dump(exclude={"base_dir"})


def _missing_keys(model: type[BaseModel], raw: dict, where: str = "") -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        key = f"{where}{name}"
        if name == "base_dir":
            continue
        if name not in raw:
            missing.append(key)
        elif isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            missing += _missing_keys(info.annotation, raw[name] or {}, key + ".")
    return missing


def test_config_yaml_documents_every_key():
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert _missing_keys(Config, raw) == []


@pytest.mark.parametrize("cls", ENGINE_SETTINGS, ids=lambda c: c.__name__)
def test_engine_settings_have_no_defaults_of_their_own(cls):
    """A default here would be a second one, free to drift from config.py (match_threshold was 0.9 here,
    0.91 there)."""
    own = [f.name for f in dataclasses.fields(cls)
           if (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)
           and (cls, f.name) not in PER_REQUEST]
    assert own == []


def test_engine_settings_carry_the_config_values():
    cfg = Config.model_validate({"knowledge": {"k": 7, "match_threshold": 0.88, "item_threshold": 0.6,
                                               "topic_threshold": 0.35, "topic_temperature": 0.25,
                                               "item_temperature": 0.15, "followup_weight": 3},
                                 "question": {"max_chars": 50},
                                 "llm": {"failures_to_pause": 5, "repeat_retries": 0, "top_k": 3,
                                         "max_answer_chars": 99, "examples_k": 1}})
    assert retrieval_settings(cfg) == RetrievalSettings(
        k=7, match_threshold=0.88, max_question_chars=50, item_threshold=0.6, topic_threshold=0.35,
        calibration=Calibration(topic_temperature=0.25, item_temperature=0.15, prior_weight=3))
    generation = generation_settings(cfg)
    assert generation.match_threshold == 0.88, "one threshold for retrieval and generation"
    assert (generation.failures_to_pause, generation.examples_k) == (5, 1)
    assert (generation.limits.retries, generation.limits.max_answer_chars) == (0, 99)
    assert generation.sampling == sampling(cfg) and sampling(cfg).top_k == 3 and sampling(cfg).seed is None
    assert from_section(TurbomindOptions, cfg.llm.turbomind).session_len == cfg.llm.turbomind.session_len


def test_a_setting_the_config_lacks_fails_at_start_up():
    @dataclasses.dataclass
    class Wants:
        k: int
        not_in_config: float

    with pytest.raises(TypeError, match="not_in_config"):
        from_section(Wants, Config().knowledge)
    assert from_section(Wants, Config().knowledge, not_in_config=1.5) == Wants(5, 1.5)
