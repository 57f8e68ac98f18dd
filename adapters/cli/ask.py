"""`springfest ask QUESTION [--style S] [--json]`."""

from __future__ import annotations

import asyncio
import json
import sys

from bot.config import Config
from bot.wiring import build_engine


def register(sub) -> None:
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--style", help="style id (default: styles.default, else the first enabled style)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.set_defaults(func=run)


def default_style(cfg: Config) -> str:
    return cfg.styles.default or cfg.styles.enabled[0]


def run(cfg: Config, args) -> int:
    return asyncio.run(_ask(cfg, args.question, args.style or default_style(cfg), args.json))


async def _ask(cfg: Config, question: str, style: str, as_json: bool) -> int:
    engine = build_engine(cfg, progress=sys.stderr.isatty())
    try:
        answer = await engine.answer(question, style)
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
