"""`springfest finetune config`: an XTuner QLoRA config that parses, names the right fields, and runs.

XTuner is not installed here (it needs its own environment and a GPU), so the config is executed
with stand-ins for its imports: that proves every name it uses is defined and the settings come out
as intended, but not that XTuner trains with it.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest
from conftest import write_config

from adapters.cli import main

CORPUS_QUESTIONS = ["你打算什么时候结婚啊？", "你一个月挣多少钱？"]  # canonical questions of the mini corpus


def export(tmp_path: Path, cfg: Path, fmt: str) -> Path:
    out = tmp_path / fmt
    assert main(["--config", str(cfg), "data", "export", "--format", fmt, "--out", str(out)]) == 0
    return out / ("all-styles.jsonl" if fmt == "openai" else "all-styles.json")


def settings(source: str) -> dict[str, ast.expr]:
    """Top-level `name = value` assignments of the config."""
    tree = ast.parse(source)
    return {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


class Stand:
    """Any attribute, call or import of XTuner's world; remembers its dotted name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Stand:
        return Stand(f"{self.name}.{attr}")

    def __call__(self, *a, **k) -> Stand:
        return Stand(f"{self.name}()")

    def __repr__(self) -> str:
        return self.name


def run_config(source: str) -> dict:
    real_import = builtins.__import__

    def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name.split(".")[0] in ("xtuner", "mmengine", "peft", "datasets", "transformers"):
            return Stand(name)
        return real_import(name, globals, locals, fromlist, level)

    namespace: dict = {"__builtins__": {**vars(builtins), "__import__": fake_import}}
    exec(compile(source, "config.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("base, hub_id", [("internlm2-chat-7b", "internlm/internlm2-chat-7b"),
                                          ("internlm2-chat-1.8b", "internlm/internlm2-chat-1_8b")])
def test_config_for_combined_xtuner_data(tmp_path, mini_data, capsys, base, hub_id):
    cfg = write_config(tmp_path, mini_data)
    data = export(tmp_path, cfg, "xtuner")
    out = tmp_path / "ft" / "springfest_qlora.py"
    assert main(["--config", str(cfg), "finetune", "config", "--base", base, "--data", str(data),
                 "--out", str(out), "--epochs", "2"]) == 0
    source = out.read_text("utf-8")
    s = settings(source)
    literal = {k: ast.literal_eval(v) for k, v in s.items()
               if k in ("pretrained_model_name_or_path", "data_path", "max_length", "batch_size",
                        "max_epochs", "evaluation_inputs", "lr", "accumulative_counts")}
    assert literal == {"pretrained_model_name_or_path": hub_id, "data_path": str(data.resolve()),
                       "max_length": 2048, "batch_size": 1, "max_epochs": 2, "lr": 2e-4,
                       "accumulative_counts": 16, "evaluation_inputs": CORPUS_QUESTIONS}
    assert ast.unparse(s["prompt_template"]) == "PROMPT_TEMPLATE.internlm2_chat"
    ns = run_config(source)
    ds = ns["train_dataset"]
    assert repr(ds["dataset"]["type"]) == "datasets.load_dataset" and ds["dataset"]["path"] == "json"
    assert ds["dataset"]["data_files"] == {"train": str(data.resolve())}
    assert ds["dataset_map_fn"] is None  # the xtuner conversation format needs no mapping
    assert ns["model"]["llm"]["quantization_config"]["load_in_4bit"] is True  # QLoRA
    assert ns["model"]["lora"]["r"] == 64
    # One sample-generation hook per style prompt, so training shows every style.
    systems = [h["system"] for h in ns["custom_hooks"][1:]]
    assert len(systems) == 5
    assert all(h["evaluation_inputs"] == CORPUS_QUESTIONS for h in ns["custom_hooks"][1:])
    labels = ["风格：委婉认真", "风格：转换话题", "风格：阴阳怪气", "风格：诙谐幽默", "风格：故作深沉"]
    for system, label in zip(systems, labels, strict=True):
        assert label in system
    printed = capsys.readouterr().out
    work = tmp_path / "ft" / "work_dirs" / "springfest_qlora"
    assert f"xtuner train {out} --work-dir {work} --deepspeed deepspeed_zero2" in printed
    last_pth = f'"$(ls -td {work}/iter_*.pth | head -n 1)"'
    assert f"xtuner convert pth_to_hf {out} {last_pth} {work}/hf_adapter" in printed
    assert f"xtuner convert merge {hub_id} {work}/hf_adapter {work}/merged --max-shard-size 2GB" in printed
    assert f"llm.backend: turbomind and llm.model: {work.resolve()}/merged" in printed


def test_config_for_alpaca_data_uses_alpaca_map_fn(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    data = export(tmp_path, cfg, "alpaca")
    out = tmp_path / "alpaca_cfg.py"
    model_dir = tmp_path / "models" / "internlm2-chat-1_8b"
    assert main(["--config", str(cfg), "finetune", "config", "--base", "internlm2-chat-1.8b",
                 "--data", str(data), "--out", str(out), "--model", str(model_dir)]) == 0
    source = out.read_text("utf-8")
    s = settings(source)
    assert ast.unparse(s["SYSTEM"]) == "SYSTEM_TEMPLATE.alpaca"
    assert ast.literal_eval(s["pretrained_model_name_or_path"]) == str(model_dir)
    inputs = ast.literal_eval(s["evaluation_inputs"])
    # alpaca_map_fn joins instruction and input with a newline: the style prompt, then the question.
    assert len(inputs) == 10  # 2 items x 5 styles
    assert all(i.startswith("风格：") and i.split("\n")[1] in CORPUS_QUESTIONS for i in inputs)
    ns = run_config(source)
    assert repr(ns["train_dataset"]["dataset_map_fn"]) == "xtuner.dataset.map_fns.alpaca_map_fn"
    assert f"xtuner convert merge {model_dir} " in capsys.readouterr().out


def test_config_for_openai_data_and_bad_data(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    data = export(tmp_path, cfg, "openai")
    out = tmp_path / "openai_cfg.py"
    assert main(["--config", str(cfg), "finetune", "config", "--base", "internlm2-chat-7b",
                 "--data", str(data), "--out", str(out)]) == 0
    ns = run_config(out.read_text("utf-8"))
    assert repr(ns["train_dataset"]["dataset_map_fn"]) == "xtuner.dataset.map_fns.openai_map_fn"
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "x"}]', encoding="utf-8")
    assert main(["--config", str(cfg), "finetune", "config", "--base", "internlm2-chat-7b",
                 "--data", str(bad), "--out", str(tmp_path / "x.py")]) == 1
    assert "neither alpaca, xtuner nor openai" in capsys.readouterr().err
    assert not (tmp_path / "x.py").exists()
