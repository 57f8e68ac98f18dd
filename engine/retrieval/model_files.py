"""Finding model weights: a local directory, or a ModelScope id resolved through its cache."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


class ModelMissing(RuntimeError):
    """The model is neither a local directory nor in the ModelScope cache."""


def is_modelscope_id(model: str) -> bool:
    """owner/name, not a path."""
    return not (Path(model).is_absolute() or model.startswith((".", "~")) or model.count("/") != 1)


def pull_command(model_id: str) -> str:
    return f"springfest model pull {model_id}"


def resolve_model(model: str, *, cache_dir: str | None = None, download: bool = False) -> Path:
    """Local path of `model` (a directory, or a ModelScope id already downloaded).

    With download=True a missing ModelScope model is fetched (with ModelScope's progress bars);
    otherwise ModelMissing says exactly which command fetches it. A complete earlier download is found
    with local_files_only=True, so start-up never touches the network.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if not is_modelscope_id(model):
        raise ModelMissing(f"model directory {model!r} does not exist")
    try:
        from modelscope import snapshot_download
    except ImportError as e:  # modelscope is in the [st] and [gpu] extras
        raise ModelMissing(f"{model!r} is a ModelScope id but modelscope is not installed "
                           "(pip install 'springfestqa[st]')") from e
    try:
        return Path(snapshot_download(model, cache_dir=cache_dir, local_files_only=True))
    except Exception as e:
        if not download:
            raise ModelMissing(f"model {model!r} is not downloaded yet; fetch it with: "
                               f"{pull_command(model)}") from e
    log.info("downloading %s from ModelScope", model)
    return Path(snapshot_download(model, cache_dir=cache_dir))
