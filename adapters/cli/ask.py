"""`springfest ask QUESTION [--style S] [--json]`, or `springfest ask -` for one question per line of stdin."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable

from bot.config import Config
from bot.wiring import build_engine
from engine.engine import EmptyQuestion


def register(sub) -> None:
    p = sub.add_parser("ask", help="answer a question (- : one per line from stdin)")
    p.add_argument("question", help="the question, or - to answer every line of stdin in one process")
    p.add_argument("--style", help="style id (default: styles.default, else the first enabled style)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.set_defaults(func=run)


def default_style(cfg: Config) -> str:
    return cfg.styles.default or cfg.styles.enabled[0]


def run(cfg: Config, args) -> int:
    style = args.style or default_style(cfg)
    if args.question == "-":
        return asyncio.run(_ask_lines(cfg, sys.stdin, style, args.json))
    return asyncio.run(_ask(cfg, args.question, style, args.json))


async def _ask_lines(cfg: Config, lines: Iterable[str], style: str, as_json: bool) -> int:
    """One answer per non-empty line, in order: a JSON object per line with --json, else `question\tanswer`."""
    engine = build_engine(cfg, progress=sys.stderr.isatty())
    try:
        for line in lines:
            question = line.strip()
            if not question:
                continue
            try:
                answer = await engine.answer(question, style, neighbours=as_json)
            except EmptyQuestion as e:
                print(json.dumps({"question": question, "style": style, "error": str(e)}, ensure_ascii=False)
                      if as_json else f"{question}\t", flush=True)
                continue
            await answer.collect()
            if as_json:
                print(json.dumps({**answer.to_json(), "question": question}, ensure_ascii=False), flush=True)
            else:
                print(f"{question}\t{answer.text}", flush=True)
    finally:
        await engine.aclose()
    return 0


async def _ask(cfg: Config, question: str, style: str, as_json: bool) -> int:
    engine = build_engine(cfg, progress=sys.stderr.isatty())
    try:
        answer = await engine.answer(question, style, neighbours=as_json)
        if as_json:
            await answer.collect()
            print(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            async for piece in answer:
                print(piece, end="", flush=True)
            print()
            if answer.truncated:
                print(f"(问题太长，只看了前 {cfg.question.max_chars} 个字)", file=sys.stderr)
    finally:
        await engine.aclose()
    return 0
