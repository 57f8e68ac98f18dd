"""Training files for fine-tuning, from the corpus: Alpaca, XTuner conversation, or OpenAI chat.

One file per style, plus a combined file in which every example carries its style (the original
project's combined file dropped it, so its model learned a blur of all five styles):

- alpaca:  {instruction, input, output}. Per style: instruction = question. Combined: instruction =
           the style prompt, input = question (XTuner's alpaca_map_fn joins them).
- xtuner:  {"conversation": [{system, input, output}]}, system = the system prompt the bot sends
           at run time for that style (engine.generation.prompts), so the merged model is prompted as it was trained.
- openai:  JSON lines of {"messages": [system, user, assistant]}, system as for xtuner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from engine.corpus import Corpus
from engine.generation.prompts import system_prompt
from engine.styles import Style

FORMATS = ("alpaca", "xtuner", "openai")
COMBINED = "all-styles"


@dataclass(frozen=True)
class Example:
    style: str
    question: str
    answer: str


def examples(corpus: Corpus, styles: list[str]) -> dict[str, list[Example]]:
    """Every (question phrasing, answer) pair of every item, per style, in corpus order."""
    out: dict[str, list[Example]] = {s: [] for s in styles}
    for item in corpus.items.values():
        for style in styles:
            for answer in item.answers.get(style, ()):
                out[style].extend(Example(style, q, answer) for q in item.questions)
    return out


def style_prompt(style: Style) -> str:
    """The style's instruction without the spaces YAML folding leaves between Chinese lines."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", style.instruction)


def record(fmt: str, ex: Example, style: Style, *, combined: bool) -> dict:
    """One training record in `fmt`; `combined` puts the style into the alpaca instruction."""
    if fmt == "alpaca":
        if combined:
            return {"instruction": style_prompt(style), "input": ex.question, "output": ex.answer}
        return {"instruction": ex.question, "input": "", "output": ex.answer}
    system = system_prompt(style)
    if fmt == "xtuner":
        return {"conversation": [{"system": system, "input": ex.question, "output": ex.answer}]}
    if fmt == "openai":
        return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": ex.question},
                             {"role": "assistant", "content": ex.answer}]}
    raise ValueError(f"unknown export format {fmt!r} ({' | '.join(FORMATS)})")


def _write(path: Path, fmt: str, records: list[dict]) -> None:
    if fmt == "openai":  # OpenAI's fine-tuning format is JSON lines
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    path.write_text(text, encoding="utf-8")


def export(corpus: Corpus, styles: dict[str, Style], fmt: str, out_dir: Path) -> dict[Path, int]:
    """Write one file per style that has answers and the combined file; {path: examples written}."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} ({' | '.join(FORMATS)})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl" if fmt == "openai" else ".json"
    written: dict[Path, int] = {}
    combined: list[dict] = []
    for style_id, exs in examples(corpus, list(styles)).items():
        if not exs:
            continue
        style = styles[style_id]
        path = out_dir / f"{style_id}{suffix}"
        _write(path, fmt, [record(fmt, ex, style, combined=False) for ex in exs])
        written[path] = len(exs)
        combined.extend(record(fmt, ex, style, combined=True) for ex in exs)
    path = out_dir / f"{COMBINED}{suffix}"
    _write(path, fmt, combined)
    written[path] = len(combined)
    return written
