"""An XTuner QLoRA config for InternLM2-chat, laid out like XTuner's internlm2_chat_7b_qlora_alpaca_e3.

The dataset is a local JSON file written by `springfest data export`; its format (alpaca, xtuner or
openai) is read from the file, so the right dataset_map_fn and evaluation prompts go into the config.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from engine.tooling.finetune_template import TEMPLATE

# Base models: the hub id XTuner loads by default (a local directory can be given instead).
BASES = {
    "internlm2-chat-7b": "internlm/internlm2-chat-7b",
    "internlm2-chat-1.8b": "internlm/internlm2-chat-1_8b",
}
MODELSCOPE_IDS = {
    "internlm2-chat-7b": "Shanghai_AI_Laboratory/internlm2-chat-7b",
    "internlm2-chat-1.8b": "Shanghai_AI_Laboratory/internlm2-chat-1_8b",
}
MAX_EVAL_STYLES = 5


class DatasetError(ValueError):
    pass


@dataclass
class DataInfo:
    format: str  # alpaca | xtuner | openai
    records: int
    prompts: list[str] = field(default_factory=list)  # distinct style prompts (instruction or system)
    questions: list[str] = field(default_factory=list)  # a few questions from the data, first seen first


def inspect_data(path: Path) -> DataInfo:
    """The format and style prompts of an exported training file (JSON array or JSON lines)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        records = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not JSON or JSON lines: {e}") from None
    if not records or not isinstance(records[0], dict):
        raise DatasetError(f"{path}: no training records")
    first = records[0]
    prompts: dict[str, None] = {}
    questions: dict[str, None] = {}
    try:
        if "conversation" in first:
            fmt = "xtuner"
            for r in records:
                prompts[r["conversation"][0].get("system", "")] = None
                questions[r["conversation"][0]["input"]] = None
        elif "messages" in first:
            fmt = "openai"
            for r in records:
                by_role = {m["role"]: m["content"] for m in r["messages"]}
                prompts[by_role.get("system", "")] = None
                questions[by_role["user"]] = None
        elif {"instruction", "output"} <= set(first):
            fmt = "alpaca"
            for r in records:  # a combined export has the style in the instruction, the question in input
                if r.get("input"):
                    prompts[r["instruction"]] = None
                questions[r.get("input") or r["instruction"]] = None
        else:
            raise DatasetError(f"{path}: records are neither alpaca, xtuner nor openai format")
    except (KeyError, IndexError, TypeError, AttributeError) as e:
        raise DatasetError(f"{path}: malformed {first.keys()} record: {e!r}") from None
    return DataInfo(fmt, len(records), [p for p in prompts if p], list(questions)[:4])


@dataclass
class FinetuneSettings:
    base: str
    data_path: Path
    model: str = ""  # local directory of the base model; default: the hub id
    max_length: int = 2048
    batch_size: int = 1
    accumulative_counts: int = 16
    max_epochs: int = 3
    lr: float = 2e-4
    evaluation_freq: int = 500

    @property
    def model_path(self) -> str:
        return self.model or BASES[self.base]


def evaluation_inputs(info: DataInfo, questions: list[str]) -> tuple[str, list[str], list[str]]:
    """(SYSTEM expression, evaluation inputs, one system per extra evaluation hook)."""
    if info.format == "alpaca":
        inputs = [f"{p}\n{q}" for p in info.prompts[:MAX_EVAL_STYLES] for q in questions[:2]] \
            if info.prompts else list(questions)
        return "SYSTEM_TEMPLATE.alpaca", inputs, []
    systems = info.prompts[:MAX_EVAL_STYLES] or [""]
    return repr(systems[0]), list(questions), systems[1:]


def render_config(s: FinetuneSettings, info: DataInfo, questions: list[str]) -> str:
    """The config file's Python source."""
    if s.base not in BASES:
        raise ValueError(f"unknown base {s.base!r} ({' | '.join(BASES)})")
    system_expr, inputs, more_systems = evaluation_inputs(info, questions)
    map_fn = {"alpaca": "alpaca_map_fn", "openai": "openai_map_fn", "xtuner": "None"}[info.format]
    imports = ", ".join(x for x in ("alpaca_map_fn" if info.format == "alpaca" else "",
                                    "openai_map_fn" if info.format == "openai" else "",
                                    "template_map_fn_factory") if x)
    inputs_src = "[\n" + "".join(f"    {q!r},\n" for q in inputs) + "]"
    hooks = "".join(f"""
    dict(
        type=EvaluateChatHook,
        tokenizer=tokenizer,
        every_n_iters=evaluation_freq,
        evaluation_inputs=evaluation_inputs,
        system={sys_!r},
        prompt_template=prompt_template),""" for sys_ in more_systems)
    return TEMPLATE.format(
        base=s.base, data_format=info.format, records=info.records, model=s.model_path,
        data_path=str(Path(s.data_path).resolve()), max_length=s.max_length, batch_size=s.batch_size,
        accumulative_counts=s.accumulative_counts, max_epochs=s.max_epochs, lr=s.lr,
        evaluation_freq=s.evaluation_freq, system=system_expr, inputs=inputs_src, map_fn=map_fn,
        map_imports=imports, extra_hooks=hooks)


def commands(config: Path, settings: FinetuneSettings, work_dir: Path) -> list[str]:
    """The shell commands that train, convert the last checkpoint, and merge the adapter."""
    cfg, work = shlex.quote(str(config)), Path(work_dir)
    adapter, merged = shlex.quote(str(work / "hf_adapter")), shlex.quote(str(work / "merged"))
    last_pth = f'"$(ls -td {shlex.quote(str(work))}/iter_*.pth | head -n 1)"'
    return [
        f"xtuner train {cfg} --work-dir {shlex.quote(str(work))} --deepspeed deepspeed_zero2",
        f"xtuner convert pth_to_hf {cfg} {last_pth} {adapter}",
        f"xtuner convert merge {shlex.quote(settings.model_path)} {adapter} {merged} --max-shard-size 2GB",
    ]
