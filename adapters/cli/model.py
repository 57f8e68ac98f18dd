"""`springfest model pull [ID]`: download the language model from ModelScope once, with progress."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.config import Config
from engine.retrieval.model_files import ModelMissing, is_modelscope_id, resolve_model


def register(sub) -> None:
    model = sub.add_parser("model", help="download and check the language model")
    msub = model.add_subparsers(dest="model_command", required=True)
    p = msub.add_parser("pull", help="download a ModelScope model unless already complete")
    p.add_argument("model_id", nargs="?", help="ModelScope id (default: llm.model)")
    p.add_argument("--cache-dir", help="ModelScope cache (default: $MODELSCOPE_CACHE or ~/.cache/modelscope)")
    p.set_defaults(func=pull)


def missing_files(path: Path) -> list[str]:
    """What a model directory lacks to be loadable: config, tokenizer, every weight shard."""
    missing = [] if (path / "config.json").is_file() else ["config.json"]
    if not any((path / name).is_file() for name in ("tokenizer.model", "tokenizer.json")):
        missing.append("tokenizer.model")
    indexes = sorted(path.glob("*.index.json"))
    if indexes:
        shards = set(json.loads(indexes[0].read_text(encoding="utf-8")).get("weight_map", {}).values())
        missing += sorted(s for s in shards if not (path / s).is_file())
    elif not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        missing.append("model weights (*.safetensors or *.bin)")
    return missing


def pull(cfg: Config, args) -> int:
    model = args.model_id or cfg.model_location(cfg.llm.model)
    if Path(model).expanduser().is_dir() or not is_modelscope_id(model):
        path = resolve_model(model)  # ModelMissing names a directory that does not exist
        if missing := missing_files(path):
            print(f"springfest: model directory {path} lacks: {', '.join(missing)}", file=sys.stderr)
            return 1
        print(f"{model} is a local model directory; nothing to download")
        return 0
    try:
        path = resolve_model(model, cache_dir=args.cache_dir)  # local files only: never downloads
    except ModelMissing:
        pass  # not downloaded yet
    else:
        if not (missing := missing_files(path)):
            print(f"{model} is already downloaded and complete: {path}")
            return 0
        print(f"{model}: an earlier download is incomplete ({', '.join(missing)}); resuming", file=sys.stderr)
    from modelscope import snapshot_download  # shows a progress bar per file

    print(f"downloading {model} from ModelScope (a 7B model is about 15 GB)...", file=sys.stderr)
    try:
        path = Path(snapshot_download(model, cache_dir=args.cache_dir))
    except Exception as e:  # network, unknown id, disk full: the message is what the user needs
        print(f"springfest: downloading {model} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if missing := missing_files(path):
        print(f"springfest: {model} downloaded to {path} but lacks: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{model} downloaded: {path}")
    return 0
