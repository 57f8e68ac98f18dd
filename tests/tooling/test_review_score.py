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


class _Judge:
    """Understands each question as the tier its text names (q-item, q-topic, q-none)."""

    def understand(self, question):
        return type("U", (), {"tier": question.split("-")[1]})()


def test_verdicts_split_by_the_tier_that_answered(tmp_path, capsys):
    from bench.sample_replies import score_by_tier

    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(yaml.safe_dump([
        {"style": "deflect", "question": "1-item", "reply": "r", "send": "yes"},
        {"style": "deflect", "question": "2-topic", "reply": "r", "send": "no"},
        {"style": "deflect", "question": "3-topic", "reply": "r", "send": True},
        {"style": "deflect", "question": "4-none", "reply": "r", "send": "no"},
        {"style": "tactful", "question": "5-topic", "reply": "r", "send": None},  # unread: not counted
    ], allow_unicode=True), encoding="utf-8")
    score_by_tier(sheet, _Judge())
    out = capsys.readouterr().out
    assert "| deflect | 1/1 | 1/2 | 0/1 |" in out
    assert "tactful" not in out.split("\n", 3)[-1]
