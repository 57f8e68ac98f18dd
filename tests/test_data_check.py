"""`springfest data check` on the shipped corpus, and what it catches on a broken one."""

from __future__ import annotations

import yaml
from conftest import REPO, write_config

from bot.cli import main
from engine.corpus import TOPICS


def test_shipped_corpus_passes(capsys):
    assert main(["--config", str(REPO / "config.yaml"), "data", "check"]) == 0, capsys.readouterr().err
    assert "corpus OK" in capsys.readouterr().out


def test_shipped_corpus_is_the_grown_one():
    """150+ items, 6+ per topic, 4+ phrasings, 3+ answers in each main style and 1+ in the others."""
    items = [i for p in (REPO / "data" / "qa").glob("*.yaml") for i in yaml.safe_load(p.read_text("utf-8"))]
    per_topic = {t: sum(1 for i in items if i["topic"] == t) for t in TOPICS}
    assert all(n >= 6 for n in per_topic.values()), per_topic
    assert len(items) >= 150
    for item in items:
        assert len(item["questions"]) >= 4, item["id"]
        for style, least in (("tactful", 3), ("deflect", 3), ("sarcastic", 3), ("humorous", 1), ("mysterious", 1)):
            assert len(item["answers"].get(style, [])) >= least, (item["id"], style)


def test_check_names_file_and_item(tmp_path, mini_data, capsys):
    bad = [{
        "id": "Bad_Id", "topic": "weather", "questions": ["你打算什么时候结婚啊？", "今天冷吗"],
        "answers": {"tactful": ["我可能会回答：再等等吧，不着急的。", "短"], "snarky": ["随便说说而已吧哈哈哈"],
                    "sarcastic": ["等我把工作/学习都搞定了再说吧，您别急。", "您是不是傻逼啊，这都问。"]},
    }]
    (mini_data / "qa" / "broken.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    err = capsys.readouterr().err
    for expected in ["broken.yaml: Bad_Id: id must be ascii kebab-case", "unknown topic 'weather'",
                     "needs at least 3 questions", "duplicate question '你打算什么时候结婚啊？'",
                     "generator framing", "outside 10..80", "unknown style 'snarky'",
                     "slash placeholder", "banned word", "needs at least 2 deflect answers"]:
        assert expected in err, expected


def test_check_reports_yaml_syntax_errors_by_file(tmp_path, mini_data, capsys):
    (mini_data / "qa" / "oops.yaml").write_text("- id: x\n  questions: [unclosed\n", encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    assert "oops.yaml: cannot read" in capsys.readouterr().err
