"""`springfest data export`: per-style and combined training files in alpaca, xtuner and openai format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import write_config

from adapters.cli import main
from engine.generation.prompts import system_prompt
from engine.styles import load_styles

STYLES = ("tactful", "deflect", "sarcastic", "humorous", "mysterious")  # the styles the mini corpus has answers in


def corpus_pairs(data: Path) -> dict[str, set[tuple[str, str]]]:
    """(question, answer) pairs per style, read straight from the YAML."""
    pairs: dict[str, set[tuple[str, str]]] = {}
    for path in sorted((data / "qa").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text("utf-8")):
            for style, answers in item["answers"].items():
                pairs.setdefault(style, set()).update((q, a) for q in item["questions"] for a in answers)
    return pairs


def load(path: Path) -> list[dict]:
    text = path.read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()] if path.suffix == ".jsonl" else json.loads(text)


def style_prompts(data: Path) -> dict[str, str]:
    return {s.id: s.instruction for s in load_styles(data / "styles.yaml").values()}


def runtime_systems(data: Path) -> dict[str, str]:
    """The system prompt the bot sends at run time, per style."""
    return {s.id: system_prompt(s) for s in load_styles(data / "styles.yaml").values()}


def unfold(text: str) -> str:
    return "".join(text.split())


def as_triple(fmt: str, rec: dict) -> tuple[str, str, str]:
    """(style prompt or system, question, answer) of one record."""
    if fmt == "alpaca":
        return rec["instruction"], rec["input"], rec["output"]
    if fmt == "xtuner":
        (turn,) = rec["conversation"]
        assert set(turn) == {"system", "input", "output"}
        return turn["system"], turn["input"], turn["output"]
    roles = [m["role"] for m in rec["messages"]]
    assert roles == ["system", "user", "assistant"]
    return tuple(m["content"] for m in rec["messages"])


@pytest.mark.parametrize("fmt", ["alpaca", "xtuner", "openai"])
def test_export_per_style_and_combined(tmp_path, mini_data, capsys, fmt):
    cfg = write_config(tmp_path, mini_data)
    out = tmp_path / "export"
    assert main(["--config", str(cfg), "data", "export", "--format", fmt, "--out", str(out)]) == 0
    suffix = ".jsonl" if fmt == "openai" else ".json"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}{suffix}" for s in (*STYLES, "all-styles"))
    pairs = corpus_pairs(mini_data)
    prompts = {s: unfold(p) for s, p in style_prompts(mini_data).items()}
    systems = runtime_systems(mini_data)
    printed = capsys.readouterr().out
    for style in STYLES:
        records = load(out / f"{style}{suffix}")
        assert f"{len(pairs[style])} examples" in printed
        if fmt == "alpaca":  # the original layout: the question is the instruction
            assert all(r["input"] == "" for r in records)
            got = {(r["instruction"], r["output"]) for r in records}
        else:
            triples = [as_triple(fmt, r) for r in records]
            assert all(t[0] == systems[style] for t in triples)  # trained as it will be prompted
            got = {(t[1], t[2]) for t in triples}
        assert got == pairs[style] and len(records) == len(pairs[style])
    # Combined: every example names its style, and it is the style its answer was written in.
    combined = [as_triple(fmt, r) for r in load(out / f"all-styles{suffix}")]
    assert len(combined) == sum(len(pairs[s]) for s in STYLES)
    by_prompt = {prompt: style for style, prompt in prompts.items()} if fmt == "alpaca" else \
        {system: style for style, system in systems.items()}
    seen = set()
    for prompt, question, answer in combined:
        style = by_prompt[unfold(prompt) if fmt == "alpaca" else prompt]
        assert (question, answer) in pairs[style]
        seen.add(style)
    assert seen == set(STYLES)


def test_export_includes_extra_item_files(tmp_path, mini_data, capsys):
    extra = tmp_path / "imported.yaml"
    extra.write_text(yaml.safe_dump([{
        "id": "money-import-humorous-1", "topic": "money", "questions": ["压岁钱给多少合适？"],
        "answers": {"humorous": ["我的压岁钱还在银行排队，等它长大了再给您汇报。",
                                 "红包薄厚不要紧，重要的是我脸皮够厚。"]},
    }], allow_unicode=True), encoding="utf-8")
    cfg = write_config(tmp_path, mini_data)
    out = tmp_path / "export"
    assert main(["--config", str(cfg), "data", "export", "--format", "alpaca", "--out", str(out),
                 "--extra", str(extra)]) == 0
    humorous = {(r["instruction"], r["output"]) for r in load(out / "humorous.json")}
    assert humorous - corpus_pairs(mini_data)["humorous"] == {
        ("压岁钱给多少合适？", "我的压岁钱还在银行排队，等它长大了再给您汇报。"),
        ("压岁钱给多少合适？", "红包薄厚不要紧，重要的是我脸皮够厚。")}
    assert len(load(out / "all-styles.json")) == sum(len(v) for v in corpus_pairs(mini_data).values()) + 2
