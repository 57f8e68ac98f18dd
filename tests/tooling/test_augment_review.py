"""Augmentation with the scripted LLM into a review queue, and the terminal review walk fed from stdin."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from conftest import write_config

from adapters.cli import main
from bot.config import Config
from bot.wiring import load_data, open_knowledge, sampling
from engine.llm.scripted import ScriptedLLM
from engine.tooling.augment import augment
from engine.tooling.review_queue import append_queue, load_queue, new_candidate
from engine.tooling.yaml_text import YamlEditError, insert_entry

SAMPLING = sampling(Config())  # the configured defaults


@pytest.fixture
def setup(mini_config):
    styles, _, corpus = load_data(mini_config)
    kb = open_knowledge(mini_config)
    kb.ensure(corpus)
    return styles, corpus, kb


async def test_answers_prompt_and_filtering(setup):
    styles, corpus, kb = setup
    llm = ScriptedLLM()
    llm.enqueue("1. 我的婚期啊，正在跟春晚节目单抢档期呢。\n"
                "2. 谢谢您惦记，缘分到了我第一个告诉您。\n"  # already in the corpus
                "- 我可能会微笑着回答：“结婚这事儿，我先去问问月老的排班表。”\n"  # framing, repaired
                "3) 您比我妈还急，要不您先把份子钱预付一下呀？\n"  # near-duplicate of a corpus answer
                "工作/学习都忙，先不谈这个了吧，您说呢？\n"  # placeholder the cleaner cannot resolve
                "我的婚期啊，正在跟春晚的节目单抢档期呢！\n"  # near-duplicate of the first candidate
                "短")
    report = await augment(corpus, llm, kb.embedder, topic="marriage", kind="answers", n=4,
                           style=styles["sarcastic"], kb=kb, sampling=SAMPLING)
    assert [c.text for c in report.kept] == ["我的婚期啊，正在跟春晚节目单抢档期呢。",
                                             "结婚这事儿，我先去问问月老的排班表。"]
    expected = ("answers", "marriage-when", "marriage", "sarcastic", "pending")
    assert all((c.kind, c.item, c.topic, c.style, c.status) == expected for c in report.kept)
    assert report.dropped == {"duplicate of the corpus or the queue": 1,
                              "near-duplicate of the corpus or the queue": 1,
                              "slash placeholder (e.g. 工作/学习)": 1,
                              "near-duplicate of another candidate": 1,
                              "too short (under 10 characters)": 1}
    (messages, sampling), = llm.history
    assert messages[0]["role"] == "system"
    # A worked example from another item: its answers shown, one held back as the model's reply.
    assert messages[1]["role"] == "user" and "你一个月挣多少钱？" in messages[1]["content"]
    assert messages[2] == {"role": "assistant", "content": "您问得比我们财务还细，要不我把工资条给您审一遍？"}
    request = messages[-1]["content"]
    assert "你打算什么时候结婚啊？" in request and "请再写4条" in request
    assert "您比我妈还急，要不您先把份子钱预付一下？" in request  # existing answers, so it avoids them
    assert "风格：阴阳怪气" in request


async def test_questions_and_queue_dedup(setup, tmp_path):
    _, corpus, kb = setup
    reply = ("你打算什么时候结婚呀？\n"  # near-duplicate of a corpus phrasing
             "闺女啊，你跟那小伙子处得咋样了，今年能办事儿不？\n"
             "那你打算啥时候把喜糖给大伙儿发了？")
    llm = ScriptedLLM()
    llm.enqueue(reply, reply)
    first = await augment(corpus, llm, kb.embedder, topic="marriage", kind="questions", n=3, kb=kb, sampling=SAMPLING)
    assert [c.text for c in first.kept] == ["闺女啊，你跟那小伙子处得咋样了，今年能办事儿不？",
                                            "那你打算啥时候把喜糖给大伙儿发了？"]
    assert first.dropped == {"near-duplicate of the corpus or the queue": 1}
    assert all(c.style is None and c.item == "marriage-when" for c in first.kept)
    queue = tmp_path / "queue.jsonl"
    assert append_queue(queue, first.kept) == 2
    second = await augment(corpus, llm, kb.embedder, topic="marriage", kind="questions", n=3, kb=kb,
                           queue=load_queue(queue), sampling=SAMPLING)
    assert second.kept == [] and second.dropped == {"duplicate of the corpus or the queue": 2,
                                                    "near-duplicate of the corpus or the queue": 1}


def test_cli_augment_without_llm_says_what_to_configure(tmp_path, mini_data, capsys):
    cfg = write_config(tmp_path, mini_data)  # llm.backend defaults to none
    assert main(["--config", str(cfg), "data", "augment", "--topic", "marriage", "--style", "tactful",
                 "--n", "3"]) == 2
    err = capsys.readouterr().err
    assert "llm.backend is none" in err and "llm.backend: openai" in err and "llm.backend: turbomind" in err
    assert not (tmp_path / ".springfest" / "review-queue.jsonl").exists()


def queue_of(tmp_path, *cands) -> str:
    path = tmp_path / "queue.jsonl"
    path.write_text("".join(c.to_json() + "\n" for c in cands), encoding="utf-8")
    return str(path)


def test_review_accept_edit_reject_quit_and_resume(tmp_path, mini_data, capsys, monkeypatch):
    cfg = str(write_config(tmp_path, mini_data))
    marriage = mini_data / "qa" / "marriage.yaml"
    before = marriage.read_text("utf-8")
    item = ("marriage-when", "marriage")
    queue = queue_of(
        tmp_path,
        new_candidate("answers", *item, "deflect", "这事儿不急～您家小孙子会背唐诗了吧？"),
        new_candidate("answers", *item, "humorous", "我的婚礼还在排期，比春运抢票还难。"),
        new_candidate("answers", *item, "tactful", "结婚的事我有打算，谢谢您一直惦记着。"),
        new_candidate("questions", *item, None, "那你打算啥时候把婚事定下来？"),
    )
    # accept; edit (first too short, then fine) and accept; reject; quit before the fourth
    session = "a\ne\n短\ne\n我的婚期还在排队，比春运抢票都难。\na\nr\nq\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(session))
    assert main(["--config", cfg, "data", "review", "--queue", queue]) == 0
    out = capsys.readouterr().out
    assert "not usable: too short" in out
    assert "accepted 2, rejected 1, skipped 0; 1 still pending" in out and "resume with" in out
    after = marriage.read_text("utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["      - 这事儿不急～您家小孙子会背唐诗了吧？", "      - 我的婚期还在排队，比春运抢票都难。"]
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert removed == []  # nothing else moved
    item = yaml.safe_load(after)[0]
    assert item["answers"]["deflect"][-1] == "这事儿不急～您家小孙子会背唐诗了吧？"
    assert item["answers"]["humorous"][-1] == "我的婚期还在排队，比春运抢票都难。"
    states = [(c.status, c.original) for c in load_queue(queue)]
    assert states == [("accepted", ""), ("accepted", "我的婚礼还在排期，比春运抢票还难。"), ("rejected", ""),
                      ("pending", "")]
    # Resume: only the pending phrasing is shown.
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n"))
    assert main(["--config", cfg, "data", "review", "--queue", queue]) == 0
    out = capsys.readouterr().out
    assert "[1/1] new phrasing for marriage-when" in out
    assert "accepted 1, rejected 0, skipped 0; 0 still pending" in out
    assert yaml.safe_load(marriage.read_text("utf-8"))[0]["questions"][-1] == "那你打算啥时候把婚事定下来？"
    assert main(["--config", cfg, "data", "check"]) == 0, capsys.readouterr().err


def test_review_refuses_duplicates_and_stops_on_eof(tmp_path, mini_data, capsys, monkeypatch):
    cfg = str(write_config(tmp_path, mini_data))
    queue = queue_of(tmp_path,
                     new_candidate("questions", "salary-how-much", "salary", None, "你打算什么时候结婚啊？"),
                     new_candidate("answers", "gone-item", "salary", "tactful",
                                   "这条的条目已经不在语料里了。"))
    before = (mini_data / "qa" / "salary.yaml").read_text("utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n"))  # then EOF: treated as quit
    assert main(["--config", cfg, "data", "review", "--queue", queue]) == 0
    out = capsys.readouterr().out
    assert "cannot add it: item marriage-when already has this question" in out
    assert "2 still pending" in out
    assert (mini_data / "qa" / "salary.yaml").read_text("utf-8") == before
    assert [json.loads(line)["status"] for line in open(queue, encoding="utf-8")] == ["pending", "pending"]


def test_insert_entry_flow_lists_comments_and_errors(tmp_path):
    path = tmp_path / "x.yaml"
    text = ("# keep me\n- id: a   # and me\n  questions: [一, 二]\n  answers:\n    tactful:\n    - 甲\n"
            "    # a comment inside\n    deflect: []\n- id: b\n  questions:\n  - 三\n")
    path.write_text(text, encoding="utf-8")
    insert_entry(path, "a", ("questions",), "新的, 问法")
    insert_entry(path, "a", ("answers", "tactful"), "乙")
    insert_entry(path, "a", ("answers", "deflect"), "丙")
    insert_entry(path, "a", ("answers", "humorous"), "丁: 带冒号")
    insert_entry(path, "b", ("questions",), "四")
    got = path.read_text("utf-8")
    assert got.startswith("# keep me\n- id: a   # and me\n") and "    # a comment inside\n" in got
    data = yaml.safe_load(got)
    assert data[0]["questions"] == ["一", "二", "新的, 问法"]
    assert data[0]["answers"] == {"tactful": ["甲", "乙"], "deflect": ["丙"], "humorous": ["丁: 带冒号"]}
    assert data[1]["questions"] == ["三", "四"]
    with pytest.raises(YamlEditError, match="not found"):
        insert_entry(path, "zzz", ("questions",), "x")
    assert path.read_text("utf-8") == got


class FakeOpenAI:
    """A streaming /v1/chat/completions on 127.0.0.1 (its own thread and loop): replies in order."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.requests = list(replies), []

    async def _chat(self, request):
        from aiohttp import web

        body = await request.json()
        self.requests.append(body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        text = self.replies.pop(0)
        for i in range(0, len(text), 5):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"content": text[i:i + 5]}, "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        return resp

    def __enter__(self) -> str:
        import asyncio
        import threading

        from aiohttp import web

        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_cli_augment_through_an_openai_server_then_review(tmp_path, mini_data, capsys, monkeypatch):
    new = "您这么关心我，我更得把日子过好，到时候第一个请您喝喜酒。"
    fake = FakeOpenAI([f"1. {new}\n2. 谢谢您惦记，缘分到了我第一个告诉您。"])
    with fake as base_url:
        llm = {"backend": "openai", "base_url": base_url, "model": "m"}
        cfg = str(write_config(tmp_path, mini_data, llm=llm))
        assert main(["--config", cfg, "data", "augment", "--topic", "marriage", "--style", "tactful",
                     "--n", "2"]) == 0
    out = capsys.readouterr().out
    queue = tmp_path / ".springfest" / "review-queue.jsonl"
    assert f"asked for 2, got 2 lines, queued 1 for review in {queue}" in out
    assert "dropped   1  duplicate of the corpus or the queue" in out
    (request,) = fake.requests
    assert request["stream"] is True and request["messages"][-1]["role"] == "user"
    assert "你打算什么时候结婚啊？" in request["messages"][-1]["content"]
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n"))
    assert main(["--config", cfg, "data", "review"]) == 0
    item = yaml.safe_load((mini_data / "qa" / "marriage.yaml").read_text("utf-8"))[0]
    assert item["answers"]["tactful"][-1] == new


def test_review_names_a_damaged_queue_line(tmp_path, mini_data, capsys):
    cfg = str(write_config(tmp_path, mini_data))
    queue = tmp_path / "queue.jsonl"
    good = new_candidate("questions", "marriage-when", "marriage", None, "结婚的事想好没？")
    queue.write_text(good.to_json() + "\n{not json\n", encoding="utf-8")
    assert main(["--config", cfg, "data", "review", "--queue", str(queue)]) == 1
    assert f"{queue}:2: not a queue entry" in capsys.readouterr().err
