"""`springfest model pull`: recognises a complete earlier download without the network."""

from __future__ import annotations

import json

from conftest import write_config

from adapters.cli import main as cli_main
from adapters.cli.model import missing_files

MODEL = "binbeing/SpringFestQA"


def snapshot(cache, *, shards=("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")):
    """A ModelScope cache entry laid out as modelscope 1.40 writes it."""
    path = cache / "models" / MODEL.replace("/", "--") / "snapshots" / "master"
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    (path / "tokenizer.model").write_bytes(b"x")
    weight_map = {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}
    index = json.dumps({"weight_map": weight_map})
    (path / "model.safetensors.index.json").write_text(index, encoding="utf-8")
    for shard in shards:
        (path / shard).write_bytes(b"w")
    return path


def test_complete_download_is_recognised(tmp_path, mini_data, capsys):
    path = snapshot(tmp_path / "ms")
    config = write_config(tmp_path, mini_data)
    assert cli_main(["--config", str(config), "model", "pull", "--cache-dir", str(tmp_path / "ms")]) == 0
    out = capsys.readouterr().out
    assert "already downloaded and complete" in out and str(path) in out


def test_incomplete_download_is_not_taken_for_complete(tmp_path):
    # (Resuming it needs ModelScope, which tests cannot reach; the client retries for ~20 s offline.)
    path = snapshot(tmp_path / "ms", shards=["model-00001-of-00002.safetensors"])
    assert missing_files(path) == ["model-00002-of-00002.safetensors"]
    (path / "tokenizer.model").unlink()
    (path / "model.safetensors.index.json").unlink()
    for shard in path.glob("*.safetensors"):
        shard.unlink()
    assert missing_files(path) == ["tokenizer.model", "model weights (*.safetensors or *.bin)"]


def test_local_directory_is_checked(tmp_path, mini_data, capsys):
    local = snapshot(tmp_path / "ms")
    config = write_config(tmp_path, mini_data)
    assert cli_main(["--config", str(config), "model", "pull", str(local)]) == 0
    assert "local model directory" in capsys.readouterr().out
    assert cli_main(["--config", str(config), "model", "pull", str(tmp_path / "nothing")]) == 1
    assert "does not exist" in capsys.readouterr().err
