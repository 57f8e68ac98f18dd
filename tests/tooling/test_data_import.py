"""`springfest data import`: CSV (with BOM) and Alpaca JSON rows cleaned into corpus items, with a report.

The edge cases use rows written for these tests; the original SpringFestQA files are read from
../shared/seed-data (or $SPRINGFEST_SEED_DATA) and never copied into the repository.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest
from conftest import MINI, REPO, copy_mini, write_config

from adapters.cli import main
from engine.corpus import read_item_file
from engine.safety import SafetyFilter
from engine.styles import load_styles
from engine.tooling.corpus_check import LOOSE, check_corpus
from engine.tooling.data_import import clean_rows, read_rows
from engine.tooling.text_cleaning import clean_answer


def seed_dir() -> Path | None:
    path = Path(os.environ.get("SPRINGFEST_SEED_DATA") or REPO.parent / "shared" / "seed-data")
    return path if (path / "origin_data").is_dir() else None


SEED = seed_dir()
needs_seed = pytest.mark.skipif(
    SEED is None,
    reason="original SpringFestQA data not found at ../shared/seed-data "
           "(set SPRINGFEST_SEED_DATA to its folder)")

LONG = "我跟您说啊，这个工资的事情说来话长，" * 5 + "反正够用。"
ROWS = [  # (question, answer) -> what the importer must do with it
    ("你一个月挣多少钱？", "哎呀，够花就行，您别惦记啦，过年多吃两个饺子！"),  # kept as is
    ("你一个月挣多少钱？",
     "我可能会微笑着回答：“工资嘛，刚好够我给您拜年买礼物。”这样既回避了问题，又显得有礼貌。"),
    ("你一个月挣多少钱？", "“工资条我都不敢细看，怕它自己先哭了。”"),  # wrapping quotes
    ("你一个月挣多少钱？", "我还在忙工作/学习，钱的事儿以后再跟您细说吧。"),  # slash placeholder
    ("你一个月挣多少钱？", "最近在追电视剧《XXX》，您看过没？咱聊聊剧吧。"),  # unfixable placeholder
    ("你一个月挣多少钱？", "哎呀，够花就行，您别惦记啦，过年多吃两个饺子！"),  # duplicate
    ("你一个月挣多少钱？", LONG),  # too long
    ("你什么时候结婚？", "缘分这事儿急不得，到时候一定第一个请您喝喜酒。"),
    ("你什么时候结婚？", ""),  # empty
    ("你什么时候结婚？", "好的。"),  # too short
]
EXPECTED = {
    "你一个月挣多少钱？": ["哎呀，够花就行，您别惦记啦，过年多吃两个饺子！",
                   "工资嘛，刚好够我给您拜年买礼物。",
                   "工资条我都不敢细看，怕它自己先哭了。",
                   "我还在忙工作，钱的事儿以后再跟您细说吧。"],
    "你什么时候结婚？": ["缘分这事儿急不得，到时候一定第一个请您喝喜酒。"],
}


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:  # with a BOM, like the original files
        w = csv.writer(f)
        w.writerow(["", "question", "answer"])
        w.writerows([i, q, a] for i, (q, a) in enumerate(ROWS))
    return path


def write_alpaca(path: Path) -> Path:
    path.write_text(json.dumps([{"instruction": q, "input": "", "output": a} for q, a in ROWS],
                               ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.mark.parametrize("writer", [write_csv, write_alpaca])
def test_rows_grouped_cleaned_and_counted(tmp_path, writer):
    path = writer(tmp_path / ("rows.csv" if writer is write_csv else "rows.json"))
    safety = SafetyFilter.from_file(REPO / "data/safety_words.txt")
    report = clean_rows(read_rows(path), "humorous", path, safety)
    assert {g.question: g.answers for g in report.groups} == EXPECTED
    assert (report.rows, report.kept, report.cleaned) == (10, 5, 3)
    assert report.dropped == {"placeholder": 1, "duplicate answer": 1, "too long (over 80 characters)": 1,
                              "empty question or answer": 1, "too short (under 10 characters)": 1}
    assert report.fixes == {"generator framing": 1, "trailing commentary": 1, "wrapping quotes": 1,
                            "slash placeholder": 1}


@pytest.mark.parametrize("raw, expected", [
    ("我可以这样回答：\n\n\"嗯，这事儿我心里有数，您放心吧。\" \n\n这样就可以巧妙地转移话题了。",
     "嗯，这事儿我心里有数，您放心吧。"),
    ("您家孩子最近怎么样？听说他/她学习挺好的，真替您高兴！",
     "您家孩子最近怎么样？听说他学习挺好的，真替您高兴！"),
    ("先吃菜先吃菜，二姨/三舅，您尝尝这个鱼！转移话题也是一种不错的策略。",
     "先吃菜先吃菜，二姨，您尝尝这个鱼！"),
    ("您家的小帅哥/小美女是不是又长高了？", None),  # no safe way to pick: dropped
    ("这事儿不急，您先尝尝我带回来的点心。（这种回答既回避了问题，又显得轻松。）",
     "这事儿不急，您先尝尝我带回来的点心。"),
])
def test_cleaning_edge_cases(raw, expected):
    got = clean_answer(raw)
    assert got.text == expected, (got.text, got.reason)


def test_cli_import_with_retrieved_topics_writes_checkable_items(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    out = tmp_path / "imported.yaml"
    assert main(["--config", str(cfg), "data", "import", str(write_csv(tmp_path / "rows.csv")),
                 "--style", "humorous", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rows.csv (humorous): 10 rows read, 5 kept (3 of them cleaned), 5 dropped" in printed
    assert re.search(r"dropped\s+1\s+duplicate answer", printed)
    items = read_item_file(out)
    assert [(i["topic"], i["questions"]) for i in items] == [("salary", ["你一个月挣多少钱？"]),
                                                             ("marriage", ["你什么时候结婚？"])]
    assert all(i["id"].startswith(i["topic"] + "-import-humorous-") for i in items)
    assert items[0]["answers"] == {"humorous": EXPECTED["你一个月挣多少钱？"]}
    assert out.read_text("utf-8").startswith("# Imported by `springfest data import`")
    # The file as a corpus: only the whole-item rules an import cannot meet on its own may fail.
    styles = list(load_styles(mini_data / "styles.yaml"))
    errors = check_corpus([out], mini_data / "fallbacks.yaml", styles, [],
                          SafetyFilter.from_file(mini_data / "safety_words.txt"), rules=LOOSE)
    assert errors and all("needs at least 3 questions" in e for e in errors), errors


def test_cli_import_given_topic_and_inferred_style(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    src = write_alpaca(tmp_path / "bg5.json")  # the original project's file name gives the style
    assert main(["--config", str(cfg), "data", "import", str(src), "--topic", "money"]) == 0
    out = tmp_path / ".springfest" / "imported" / "bg5-mysterious.yaml"
    assert f"to {out}" in capsys.readouterr().out
    items = read_item_file(out)
    assert {i["topic"] for i in items} == {"money"} and all("mysterious" in i["answers"] for i in items)


def test_cli_import_rejects_unknown_style_and_bad_file(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)
    assert main(["--config", str(cfg), "data", "import", str(write_csv(tmp_path / "x.csv"))]) == 2
    assert "--style must be one of" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    assert main(["--config", str(cfg), "data", "import", str(bad), "--style", "tactful"]) == 1
    assert "not valid JSON" in capsys.readouterr().err


@pytest.fixture(scope="module")
def seed_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    return write_config(root, copy_mini(root)), root


def _count_rows(path: Path) -> int:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return sum(1 for _ in csv.reader(f)) - 1
    return len(json.loads(path.read_text("utf-8")))


SEED_FILES = [f"{d}/bg{n}.{ext}" for d, ext in (("origin_data", "csv"), ("alpaca_data", "json"))
              for n in range(1, 6)]


@needs_seed
@pytest.mark.parametrize("name", SEED_FILES)
def test_import_original_files(seed_config, name, capsys):
    cfg, root = seed_config
    src = SEED / name
    out = root / (name.replace("/", "-") + ".yaml")
    # The JSON files hold the CSV files' rows: retrieval is exercised on the CSVs, a given topic here.
    topic = ["--topic", "dating"] if src.suffix == ".json" else []
    assert main(["--config", str(cfg), "data", "import", str(src), "--out", str(out), *topic]) == 0
    printed = capsys.readouterr().out
    rows = _count_rows(src)
    head = re.search(r"\((\w+)\): (\d+) rows read, (\d+) kept \((\d+) of them cleaned\), (\d+) dropped",
                     printed)
    assert head, printed
    style, read, kept, _, dropped = head.groups()
    assert int(read) == rows and int(kept) + int(dropped) == rows and int(kept) > rows // 2
    assert style == {"bg1": "humorous", "bg2": "deflect", "bg3": "tactful", "bg4": "sarcastic",
                     "bg5": "mysterious"}[src.stem]
    items = read_item_file(out)
    assert sum(len(i["answers"][style]) for i in items) == int(kept)
    errors = check_corpus([out], MINI / "fallbacks.yaml", list(load_styles(REPO / "data/styles.yaml")), [],
                          SafetyFilter.from_file(REPO / "data/safety_words.txt"), rules=LOOSE)
    # Only whole-item rules an import cannot meet on its own, and answers that name a relative (叔叔) or the
    # parents (我妈) their one phrasing does not: those must be rewritten before they join an item.
    other = [e for e in errors if "needs at least 3 questions" not in e and "names a relative" not in e
             and "speaks of the parents" not in e]
    assert not other, other[:5]
    if src.stem == "bg4":
        assert re.search(r"cleaned\s+\d+\s+wrapping quotes", printed)


@needs_seed
def test_csv_and_alpaca_files_give_the_same_items(seed_config):
    safety = SafetyFilter.from_file(REPO / "data/safety_words.txt")
    a = clean_rows(read_rows(SEED / "origin_data/bg3.csv"), "tactful", Path("bg3.csv"), safety)
    b = clean_rows(read_rows(SEED / "alpaca_data/bg3.json"), "tactful", Path("bg3.json"), safety)
    assert [(g.question, g.answers) for g in a.groups] == [(g.question, g.answers) for g in b.groups]
    assert (a.rows, a.kept, a.dropped) == (b.rows, b.kept, b.dropped)
