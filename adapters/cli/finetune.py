"""`springfest finetune config`: an XTuner QLoRA config for an exported dataset, and the commands."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config import Config
from bot.wiring import load_data
from engine.corpus import Corpus, CorpusError
from engine.tooling.finetune import BASES, MODELSCOPE_IDS, DatasetError, FinetuneSettings, commands, inspect_data
from engine.tooling.finetune import render_config as render

EVAL_QUESTIONS = 4


def register(sub) -> None:
    ft = sub.add_parser("finetune", help="fine-tuning with XTuner")
    fsub = ft.add_subparsers(dest="finetune_command", required=True)
    c = fsub.add_parser("config", help="write an XTuner QLoRA config; print the train/convert/merge commands")
    c.add_argument("--base", required=True, choices=list(BASES))
    c.add_argument("--data", required=True, type=Path, help="a file written by `springfest data export`")
    c.add_argument("--out", required=True, type=Path, help="config file to write (.py)")
    c.add_argument("--model", default="", help=f"local directory of the base model (default: the hub id, "
                                                f"e.g. {BASES['internlm2-chat-7b']})")
    c.add_argument("--work-dir", type=Path,
                   help="checkpoints, adapter and merged model (default: next to --out)")
    c.add_argument("--epochs", type=int, default=3)
    c.add_argument("--max-length", type=int, default=2048)
    c.add_argument("--batch-size", type=int, default=1)
    c.add_argument("--lr", type=float, default=2e-4)
    c.add_argument("--eval-freq", type=int, default=500, help="iterations between sample generations")
    c.set_defaults(func=config_cmd)


def eval_questions(corpus: Corpus, n: int = EVAL_QUESTIONS) -> list[str]:
    """Canonical questions of the first item of `n` different topics."""
    seen: dict[str, str] = {}
    for item in corpus.items.values():
        seen.setdefault(item.topic, item.canonical)
    return list(seen.values())[:n]


def config_cmd(cfg: Config, args) -> int:
    try:
        info = inspect_data(args.data)
    except (DatasetError, OSError) as e:
        print(f"springfest: {e}", file=sys.stderr)
        return 1
    try:
        questions = eval_questions(load_data(cfg)[2]) or info.questions
    except CorpusError:
        questions = info.questions
    settings = FinetuneSettings(base=args.base, data_path=args.data, model=args.model,
                                max_length=args.max_length, batch_size=args.batch_size,
                                max_epochs=args.epochs, lr=args.lr, evaluation_freq=args.eval_freq)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(settings, info, questions), encoding="utf-8")
    work_dir = args.work_dir or args.out.parent / "work_dirs" / args.out.stem
    print(f"wrote {args.out} ({info.format} data, {info.records} records, "
          f"{len(info.prompts)} style prompt(s))")
    if not args.model:
        print(f"base model: {settings.model_path} from Hugging Face; to use a local copy, download "
              f"{MODELSCOPE_IDS[args.base]} from ModelScope and pass --model DIR")
    print("on a GPU machine with XTuner installed (pip install 'xtuner[deepspeed]'; its own environment):")
    steps = ("# 1. train", "# 2. convert the last checkpoint to a Hugging Face adapter",
             "# 3. merge the adapter into the base model")
    for step, command in zip(steps, commands(args.out, settings, work_dir), strict=True):
        print(step)
        print(command)
    print("# 4. serve it: in config.yaml set llm.backend: turbomind and "
          f"llm.model: {(work_dir / 'merged').resolve()}")
    return 0
