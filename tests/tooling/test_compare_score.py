"""The side-by-side scorer counts each reply under the corpus the key says it came from, whatever its place."""

from __future__ import annotations

import yaml

from bench.compare_replies import key_path, score


def test_verdicts_follow_the_key_not_the_order(tmp_path, capsys):
    sheet = tmp_path / "cmp.yaml"
    def line(q, first, second):
        return {"style": "tactful", "question": q, "replies": [{"reply": r, "send": v} for r, v in (first, second)]}

    sheet.write_text(yaml.safe_dump([
        line("q1", ("a", "yes"), ("b", "no")),
        line("q2", ("c", "no"), ("d", True)),
        line("q3", ("e", "yes"), ("e", "yes")),
        line("q4", ("f", "yes"), ("g", None)),
    ], allow_unicode=True), encoding="utf-8")
    key_path(sheet).write_text(yaml.safe_dump([
        {"style": "tactful", "question": "q1", "order": ["after", "before"]},
        {"style": "tactful", "question": "q2", "order": ["before", "after"]},
        {"style": "tactful", "question": "q3", "order": ["before", "after"]},
        {"style": "tactful", "question": "q4", "order": ["before", "after"]},
    ]), encoding="utf-8")
    score(sheet)
    # q1: after yes, before no; q2: before no, after yes; q3 the same reply, both yes; q4 half read: not counted
    assert "| tactful | 3 | 1 | 1/3 | 3/3 | 0 | 2 |" in capsys.readouterr().out
