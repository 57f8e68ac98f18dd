"""`springfest data augment|review`: LLM-suggested phrasings and answers, reviewed by a person."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

from bot.config import Config
from bot.wiring import data_paths, load_data, open_knowledge
from bot.wiring import sampling as configured_sampling
from engine.corpus import TOPICS
from engine.llm.base import LLMError
from engine.safety import SafetyFilter
from engine.tooling.augment import KINDS, NEAR_DUPLICATE, augment
from engine.tooling.review import review
from engine.tooling.review_queue import append_queue, load_queue

QUEUE = Path(".springfest/review-queue.jsonl")
NO_LLM = """\
springfest: `data augment` asks a language model for candidates, but llm.backend is none.
Configure one in config.yaml, then run the command again:
  llm.backend: openai      an OpenAI-compatible server (e.g. `lmdeploy serve api_server` on a GPU box):
                           set llm.base_url and llm.model (and llm.api_key_env if it needs a key)
  llm.backend: turbomind   InternLM2 in this process on a local GPU (pip install '.[gpu]'):
                           set llm.model to a model directory or ModelScope id"""


def register(dsub) -> None:
    a = dsub.add_parser("augment", help="ask the LLM for new phrasings or answers, into the review queue")
    a.add_argument("--topic", required=True, choices=TOPICS)
    a.add_argument("--style", help="style of the new answers (required for --kind answers)")
    a.add_argument("--n", type=int, default=10, help="how many candidates to ask for (default 10)")
    a.add_argument("--kind", choices=KINDS, default="answers")
    a.add_argument("--item", help="extend only this item (default: the topic's thinnest items)")
    a.add_argument("--threshold", type=float, default=NEAR_DUPLICATE,
                   help=f"cosine similarity counted as a near-duplicate (default {NEAR_DUPLICATE})")
    a.add_argument("--queue", type=Path, help=f"review queue file (default: {QUEUE})")
    a.set_defaults(func=augment_cmd)
    r = dsub.add_parser("review", help="accept, edit or reject queued candidates; resumes where you stopped")
    r.add_argument("--queue", type=Path, help=f"review queue file (default: {QUEUE})")
    r.set_defaults(func=review_cmd)


def _queue_path(cfg: Config, args) -> Path:
    return args.queue or cfg.path(QUEUE)


def augment_cmd(cfg: Config, args) -> int:
    if cfg.llm.backend == "none":
        print(NO_LLM, file=sys.stderr)
        return 2
    try:
        from bot.wiring import make_llm
    except ImportError as e:
        print(f"springfest: the language model backends cannot be loaded: {e}", file=sys.stderr)
        return 1
    all_styles, _, corpus = load_data(cfg)
    style = all_styles.get(args.style) if args.style else None
    if args.kind == "answers" and style is None:
        print(f"springfest: --kind answers needs --style ({', '.join(all_styles)})", file=sys.stderr)
        return 2
    if args.item and (args.item not in corpus.items or corpus.items[args.item].topic != args.topic):
        print(f"springfest: no item {args.item!r} in topic {args.topic}", file=sys.stderr)
        return 2
    if not corpus.by_topic(args.topic):
        print(f"springfest: topic {args.topic} has no items to extend yet", file=sys.stderr)
        return 1
    kb = open_knowledge(cfg, download=True)
    kb.ensure(corpus)
    queue_path = _queue_path(cfg, args)
    # Livelier than answering, and room for a list of n lines.
    sampling = replace(configured_sampling(cfg), temperature=max(cfg.llm.temperature, 0.9),
                       max_tokens=100 * max(args.n, 1) + 100)
    try:
        report = asyncio.run(_run(make_llm, cfg, corpus, kb, style, args, load_queue(queue_path), sampling))
    except LLMError as e:
        print(f"springfest: the language model failed: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # a damaged queue line
        print(f"springfest: {e}", file=sys.stderr)
        return 1
    added = append_queue(queue_path, report.kept)
    print(f"asked for {report.asked}, got {report.received} lines, queued {added} for review in {queue_path}")
    for reason, n in report.dropped.most_common():
        print(f"  dropped {n:>3}  {reason}")
    if added:
        print("review them with: springfest data review")
    return 0


async def _run(make_llm, cfg: Config, corpus, kb, style, args, queue, sampling):
    llm = make_llm(cfg)  # inside the loop: an in-process engine binds to the running loop
    try:
        return await augment(corpus, llm, kb.embedder, topic=args.topic, kind=args.kind, n=args.n,
                             style=style, item_id=args.item, queue=queue, sampling=sampling,
                             threshold=args.threshold,
                             safety=SafetyFilter.from_file(data_paths(cfg).safety_words), kb=kb)
    finally:
        await llm.aclose()


def review_cmd(cfg: Config, args) -> int:
    queue_path = _queue_path(cfg, args)
    if not queue_path.exists():
        print(f"nothing to review: {queue_path} does not exist (fill it with: springfest data augment)")
        return 0
    all_styles, _, _ = load_data(cfg)
    try:
        report = review(queue_path, lambda: load_data(cfg)[2], all_styles,
                        safety=SafetyFilter.from_file(data_paths(cfg).safety_words))
    except ValueError as e:  # a damaged queue line names its file and line
        print(f"springfest: {e}", file=sys.stderr)
        return 1
    print(f"accepted {report.accepted}, rejected {report.rejected}, skipped {report.skipped}; "
          f"{report.pending} still pending in {queue_path}")
    if report.pending:
        print("resume with: springfest data review")
    if report.accepted:
        print("changed: " + ", ".join(sorted(str(p) for p in report.files or ())) +
              "; run `springfest data check`")
    return 0
