"""`springfest data check` on the shipped corpus, and what it catches on a broken one."""

from __future__ import annotations

import yaml
from conftest import REPO, write_config

from adapters.cli import main
from engine.corpus import TOPICS


def test_shipped_corpus_passes(capsys):
    assert main(["--config", str(REPO / "config.yaml"), "data", "check"]) == 0, capsys.readouterr().err
    assert "corpus OK" in capsys.readouterr().out


def test_shipped_corpus_is_the_grown_one():
    """450+ items over every topic (data check holds each item and topic file to its counts)."""
    items = [i for p in (REPO / "data" / "qa").glob("*.yaml") for i in yaml.safe_load(p.read_text("utf-8"))]
    per_topic = {t: sum(1 for i in items if i["topic"] == t) for t in TOPICS}
    assert all(n >= 12 for n in per_topic.values()), per_topic
    assert len(items) >= 450
    assert {p.stem for p in (REPO / "data" / "topics").glob("*.yaml")} == set(TOPICS)


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
                     "needs at least 12 questions (has 2)", "needs at least 2 questions in traditional characters",
                     "duplicate question '你打算什么时候结婚啊？'",
                     "generator framing", "outside 10..80", "unknown style 'snarky'",
                     "slash placeholder", "banned word", "needs at least 4 deflect answers (has 0)",
                     "needs at least 2 humorous answers (has 0)"]:
        assert expected in err, expected


def test_check_catches_relatives_repeats_and_missing_topic_file(tmp_path, mini_data, capsys):
    """An answer naming a relative no phrasing names, an answer shared by two items, a topic without its file."""
    item = yaml.safe_load((mini_data / "qa" / "salary.yaml").read_text("utf-8"))[0]
    item = {**item, "id": "salary-again", "questions": [q + "呀" for q in item["questions"]],
            "answers": {**item["answers"],
                        "deflect": ["嗨，不值一提～二姨，您这镯子真好看！", *item["answers"]["deflect"]]}}
    other = {**item, "id": "car-which", "topic": "car", "questions": [q + "车" for q in item["questions"]]}
    (mini_data / "qa" / "extra.yaml").write_text(yaml.safe_dump([item, other], allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    err = capsys.readouterr().err
    assert "extra.yaml: salary-again: deflect: names a relative no phrasing names (姨)" in err
    assert "salary.yaml: salary-how-much: tactful: answer also in salary-again" in err
    assert "topics/: no answers file for topic 'car' (car.yaml)" in err
    # A relative the asker is addressed by in a phrasing may be named back.
    assert "大侄子" in item["questions"][2] and "names a relative no phrasing names (侄" not in err


def test_check_reports_yaml_syntax_errors_by_file(tmp_path, mini_data, capsys):
    (mini_data / "qa" / "oops.yaml").write_text("- id: x\n  questions: [unclosed\n", encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    assert "oops.yaml: cannot read" in capsys.readouterr().err


def test_check_counts_each_shape_of_general_replies(tmp_path, mini_data, capsys):
    """fallbacks.yaml may split a style's replies into `question` and `remark`: each shape needs its count."""
    path = mini_data / "fallbacks.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    replies = list(raw["tactful"])
    raw["tactful"] = {"question": replies, "remark": replies[:1], "statement": replies[:1]}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    err = capsys.readouterr().err
    assert "needs at least 5 tactful answers for a remark (has 1)" in err
    assert "tactful answers for a question" not in err
    assert "tactful: unknown shape 'statement'" in err


def test_check_counts_each_shape_of_topic_answers(tmp_path, mini_data, capsys):
    """A topic file may split a style's answers into `question` and `remark` too: 5 per shape, 6 in all."""
    path = next((mini_data / "topics").glob("*.yaml"))
    raw = yaml.safe_load(path.read_text("utf-8"))
    answers = list(raw["answers"]["tactful"])
    raw["answers"]["tactful"] = {"question": answers[:5], "remark": answers[:2]}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    err = capsys.readouterr().err
    assert f"topics/{path.name}: needs at least 5 tactful answers for a remark (has 2)" in err
    assert "tactful answers for a question" not in err
    assert f"topics/{path.name}: needs at least 6 tactful answers (has 5)" in err


def test_general_replies_do_not_speak_of_the_parents(tmp_path, mini_data, capsys):
    """A topic answer or a fallback may be said to the mother or father themself: 跟爸妈商量 is wrong there
    (an item's answer may say it: its phrasings show who asks)."""
    path = mini_data / "topics" / "salary.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    raw["answers"]["tactful"] = [*raw["answers"]["tactful"], "收入的事我都跟爸妈商量着来，您放心就好。"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    fallbacks = mini_data / "fallbacks.yaml"
    fb = yaml.safe_load(fallbacks.read_text("utf-8"))
    fb["deflect"] = [*fb["deflect"], "这个问我妈就知道～先吃饺子吧！"]
    fallbacks.write_text(yaml.safe_dump(fb, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    err = capsys.readouterr().err
    assert "topics/salary.yaml: tactful: speaks of the parents (爸妈), but the asker may be one" in err
    assert "fallbacks.yaml: deflect: speaks of the parents (我妈)" in err
    assert "salary-how-much" not in err  # an item's answers may, where its phrasings bring the parents up


def test_an_item_speaks_of_the_parents_only_where_its_phrasings_do(tmp_path, mini_data, capsys):
    path = mini_data / "qa" / "salary.yaml"
    items = yaml.safe_load(path.read_text("utf-8"))
    items[0]["answers"]["tactful"] = [*items[0]["answers"]["tactful"], "够花够用，每个月还能给爸妈打点，您放心。"]
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 1
    assert "salary-how-much: tactful: speaks of the parents (爸妈), which no phrasing does" in capsys.readouterr().err
    items[0]["questions"] = [*items[0]["questions"], "你妈说你现在一个月挣不少？"]
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(write_config(tmp_path, mini_data)), "data", "check"]) == 0, capsys.readouterr().err
