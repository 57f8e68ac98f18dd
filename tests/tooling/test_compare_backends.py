"""compare_replies --after-llm: the same held-out lines answered without a model and by a model server
(here the fake OpenAI-compatible server of the tests, through the real `openai` client), shuffled per line,
with each reply's source in the key, and the score counting the model's side by source."""

from __future__ import annotations

import yaml
from fakes.fake_openai import FakeOpenAI

from bench.compare_replies import key_path, llm_section, score, sheet

GENERATED = "这个嘛，等忙完这阵子再跟您细说。"


async def test_generated_against_curated_on_the_same_lines(tmp_path, mini_data, capsys):
    async with FakeOpenAI(default=GENERATED) as server:
        llm = {"backend": "openai", "base_url": server.base_url, "model": server.model, "prefer_curated": False}
        rows, key = await sheet(None, 4, "t", ["tactful"], None, None, llm, mini_data, tmp_path / "cache")
    assert len(rows) == len(key) == 4
    assert len(server.requests) == 4  # prefer_curated off: every "after" reply was asked of the model
    for row, entry in zip(rows, key, strict=True):
        assert entry["question"] == row["question"] and sorted(entry["order"]) == ["after", "before"]
        by_side = dict(zip(entry["order"], (r["reply"] for r in row["replies"]), strict=True))
        assert entry["sources"]["after"] == "generated" and by_side["after"] == GENERATED
        assert entry["sources"]["before"] in ("curated", "topic", "fallback")
        assert by_side["before"] != GENERATED
        assert all(r["send"] is None for r in row["replies"])  # the reader's to fill in
    # The reader sends every generated reply and none of the curated ones (which is which comes from the key).
    for row, entry in zip(rows, key, strict=True):
        for side, reply in zip(entry["order"], row["replies"], strict=True):
            reply["send"] = "yes" if side == "after" else "no"
    path = tmp_path / "cmp.yaml"
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    key_path(path).write_text(yaml.safe_dump(key, allow_unicode=True), encoding="utf-8")
    score(path)
    out = capsys.readouterr().out
    assert "| tactful | 4 | 0 | 0/4 | 4/4 | 0 | 4 |" in out
    assert "| generated | 4 | 4/4 |" in out


def test_a_model_directory_relative_to_config_is_made_absolute(tmp_path):
    """The llm section is copied into a config file in a temporary folder, where ./models/x would not be."""
    (tmp_path / "models" / "internlm2").mkdir(parents=True)
    config = tmp_path / "gpu.yaml"
    config.write_text(yaml.safe_dump({"llm": {"backend": "turbomind", "model": "./models/internlm2"}}), "utf-8")
    assert llm_section(config)["model"] == str(tmp_path / "models" / "internlm2")
    config.write_text(yaml.safe_dump({"llm": {"backend": "turbomind", "model": "internlm/internlm2-chat-7b"}}),
                      "utf-8")
    assert llm_section(config)["model"] == "internlm/internlm2-chat-7b"  # a ModelScope id stays an id
