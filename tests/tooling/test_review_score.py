"""The blind-read scorer counts a reader's verdicts as written, booleans or the strings yaml.safe_dump writes."""

from __future__ import annotations

import yaml

from bench.sample_replies import score


def test_a_quoted_no_is_counted_as_a_no(tmp_path, capsys):
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(yaml.safe_dump([
        {"style": "tactful", "question": "q1", "reply": "r1", "send": "no", "why": "答非所问"},
        {"style": "tactful", "question": "q2", "reply": "r2", "send": "yes", "why": None},
        {"style": "tactful", "question": "q3", "reply": "r3", "send": False, "why": "语气不对"},
        {"style": "tactful", "question": "q4", "reply": "r4", "send": True, "why": None},
        {"style": "tactful", "question": "q5", "reply": "r5", "send": None, "why": None},
    ], allow_unicode=True), encoding="utf-8")
    score(sheet)
    assert "| tactful | 4 | 2 | 50% |" in capsys.readouterr().out
