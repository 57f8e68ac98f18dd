"""The web page's behaviour, driven through Gradio's own client against the real page on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import REPO, copy_mini, write_config
from support.page_server import (
    MARRIAGE_Q,
    SALARY_Q,
    PageServer,
    free_port,
    mini_answers,
)

from bot.config import load_config
from engine.llm.scripted import ScriptedLLM

gradio_client = pytest.importorskip("gradio_client")

META_OPEN, META_CLOSE = '<span class="sf-meta">', "</span>"


def page_config(tmp_path, mini_data, **web):
    """The mini corpus, a free port, and limits high enough that only the rate-limit test meets them."""
    access = {"rate_limit": {"per_user_per_minute": web.pop("per_user", 1000),
                             "per_chat_per_minute": web.pop("per_chat", 1000)}}
    question = {"max_chars": web.pop("max_chars", 300)}
    llm = {"prefer_curated": False}  # with a scripted model (PageServer's llm=), every answer is generated
    return load_config(write_config(tmp_path, mini_data, web={"port": free_port(), **web}, access=access,
                                    question=question, llm=llm))


def client(server: PageServer):
    return gradio_client.Client(server.url, analytics_enabled=False, verbose=False)


def texts(chat: list[dict]) -> list[tuple[str, str]]:
    """(role, text) of every message the Chatbot shows."""
    return [(m["role"], "".join(part.get("text", "") for part in m["content"])) for m in chat]


def questions(chat: list[dict]) -> list[str]:
    return [text for role, text in texts(chat) if role == "user"]


def answers(chat: list[dict]) -> list[tuple[str, str | None]]:
    """(text, source line) of every reply on the page; the source line is the small message after it."""
    out: list[tuple[str, str | None]] = []
    for role, text in texts(chat):
        if role == "assistant" and text.startswith(META_OPEN) and text.endswith(META_CLOSE) and out:
            out[-1] = (out[-1][0], text[len(META_OPEN):-len(META_CLOSE)])
        elif role == "assistant":
            out.append((text, None))
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """One page for the tests of separate visitors: each gradio_client is a visitor of its own."""
    tmp = tmp_path_factory.mktemp("page")
    with PageServer(page_config(tmp, copy_mini(tmp))) as server:
        yield server


def test_serve_prints_the_url(page):
    """`springfest run` shows this line: the URL to open."""
    assert page.lines == [f"SpringFestQA 网页 / web page: {page.url}"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", page.url)


def test_style_button_answers_the_typed_question_then_restyles_the_last_answer(page, mini_data,
                                                                                no_errors_logged):
    c = client(page)
    chat, box = c.predict(MARRIAGE_Q, api_name="/style_sarcastic")
    assert box == ""  # the question box empties once asked
    assert questions(chat) == [MARRIAGE_Q]
    [(sarcastic, meta)] = answers(chat)
    assert sarcastic in mini_answers(mini_data, "marriage-when", "sarcastic")
    assert meta == f"来源：语料库 · 匹配：{MARRIAGE_Q}"

    chat, _ = c.predict("", api_name="/style_tactful")  # empty box: re-answer the last question
    assert questions(chat) == [MARRIAGE_Q]
    [(tactful, meta)] = answers(chat)  # a style button replaces the last answer rather than adding one
    assert tactful in mini_answers(mini_data, "marriage-when", "tactful")
    assert meta == f"来源：语料库 · 匹配：{MARRIAGE_Q}"


def test_typed_questions_use_the_style_last_picked(page, mini_data):
    c = client(page)
    c.predict(MARRIAGE_Q, api_name="/style_deflect")
    chat, _ = c.predict(SALARY_Q, api_name="/ask")
    assert questions(chat) == [MARRIAGE_Q, SALARY_Q]
    assert [role for role, _ in texts(chat)] == ["user", "assistant", "assistant"] * 2
    assert answers(chat)[1][0] in mini_answers(mini_data, "salary-how-much", "deflect")


def test_another_gives_a_different_answer_in_the_same_style(page, mini_data):
    c = client(page)
    chat, _ = c.predict(MARRIAGE_Q, api_name="/ask")  # default style: the first enabled (tactful)
    seen = [answers(chat)[0][0]]
    for _ in range(2):
        chat, _ = c.predict("", api_name="/another")
        assert len(answers(chat)) == 1
        seen.append(answers(chat)[0][0])
    assert len(set(seen)) == 3 and set(seen) <= mini_answers(mini_data, "marriage-when", "tactful")  # none repeated


def test_another_and_styles_without_a_question_change_nothing(page):
    c = client(page)
    chat, _ = c.predict("", api_name="/another")
    assert chat == []
    chat, _ = c.predict("", api_name="/style_sarcastic")
    assert chat == []


def test_clear_empties_the_chat_and_forgets_the_last_question(page):
    c = client(page)
    c.predict(MARRIAGE_Q, api_name="/ask")
    chat, _ = c.predict(api_name="/clear")
    assert chat == []
    chat, _ = c.predict("", api_name="/style_sarcastic")
    assert chat == [], "after clearing there is no last question to re-answer"


def test_commands_work_as_in_a_private_chat(page):
    chat, _ = client(page).predict("/help", api_name="/ask")
    [(help_text, meta)] = answers(chat)
    assert "/sarcastic" in help_text and meta is None


def test_two_visitors_never_see_each_others_state(page, mini_data):
    alice, bob = client(page), client(page)
    chat_a, _ = alice.predict(MARRIAGE_Q, api_name="/style_sarcastic")
    chat_b, _ = bob.predict("", api_name="/another")
    assert chat_b == [], "Bob has no last question: Alice's is not his"
    chat_b, _ = bob.predict(SALARY_Q, api_name="/ask")
    assert questions(chat_b) == [SALARY_Q]
    # Alice picked 阴阳怪气; Bob never did, so he gets the default style.
    assert answers(chat_b)[0][0] in mini_answers(mini_data, "salary-how-much", "tactful")
    chat_a2, _ = alice.predict("", api_name="/another")
    assert questions(chat_a2) == [MARRIAGE_Q]
    assert answers(chat_a2)[0][0] in mini_answers(mini_data, "marriage-when", "sarcastic")


def test_answers_stream_into_the_chat(tmp_path, mini_data):
    # The generation code releases whole sentences (each one checked before it is shown): four of them.
    llm = ScriptedLLM(piece_delay=0.1)
    llm.enqueue(["这个问题嘛。", "明年再说！", "您先吃饺子，", "菜都凉了。"])
    with PageServer(page_config(tmp_path, mini_data), llm=llm) as server:
        job = client(server).submit(SALARY_Q, api_name="/ask")
        job.result(timeout=30)
        shown = [answers(out[0]) for out in job.outputs()]
    partial = [a[0][0] for a in shown if a and a[0][0].endswith("▌")]
    assert len(partial) >= 2, f"expected the answer to arrive in pieces, got {shown}"
    assert all(len(a) < len(b) for a, b in zip(partial, partial[1:], strict=False))
    assert all(a[0][1] is None for a in shown if a and a[0][0].endswith("▌")), "the source line comes last"
    [(final, meta)] = shown[-1]
    assert final == "这个问题嘛。明年再说！您先吃饺子，菜都凉了。"
    assert meta.startswith("来源：模型生成")


def test_visitors_are_answered_concurrently_up_to_web_concurrency(tmp_path, mini_data):
    def elapsed(concurrency: int, visitors: int = 4) -> float:
        # 4 pieces: about 1.6 s per answer, long next to the page's own overhead per request (which two busy
        # cores can stretch to most of a second), so the gap between one at a time and four at once shows.
        llm = ScriptedLLM(piece_delay=0.4, default="一二三四五六七八")
        (tmp_path / str(concurrency)).mkdir()
        cfg = page_config(tmp_path / str(concurrency), mini_data, concurrency=concurrency)
        with PageServer(cfg, llm=llm) as server:
            clients = [client(server) for _ in range(visitors)]
            start = time.perf_counter()
            with ThreadPoolExecutor(visitors) as pool:
                chats = list(pool.map(lambda c: c.predict(SALARY_Q, api_name="/ask")[0], clients))
            took = time.perf_counter() - start
        assert all(answers(chat)[0][0] == "一二三四五六七八" for chat in chats)
        return took

    parallel, serial = elapsed(concurrency=4), elapsed(concurrency=1)
    assert serial > 6.0, f"4 visitors took only {serial:.2f}s with web.concurrency=1: not one at a time"
    assert parallel < serial / 2, f"4 visitors: {parallel:.2f}s with web.concurrency=4, {serial:.2f}s with 1"


def test_the_page_goes_through_the_rate_limits(tmp_path, mini_data):
    with PageServer(page_config(tmp_path, mini_data, per_user=2)) as server:
        c = client(server)
        for _ in range(2):
            chat, _ = c.predict(MARRIAGE_Q, api_name="/ask")
        chat, _ = c.predict(SALARY_Q, api_name="/ask")
        assert "你问得太快了" in answers(chat)[-1][0]
        chat, _ = c.predict(SALARY_Q, api_name="/ask")  # BotApp says it once; the page still answers
        assert answers(chat)[-1] == ("（这次没有回答，请稍后再试。）", None)
        # Reloading the page makes a new visitor, but the limit counts per address, not per page load.
        chat, _ = client(server).predict(SALARY_Q, api_name="/ask")
        assert answers(chat)[-1][1] is None


def test_long_questions_are_cut_as_on_every_platform(tmp_path, mini_data):
    with PageServer(page_config(tmp_path, mini_data, max_chars=12)) as server:
        long_question = MARRIAGE_Q + "我妈天天问，七大姑八大姨也问，烦死了" * 3
        chat, _ = client(server).predict(long_question, api_name="/ask")
    assert "（问题太长，只看了前 12 个字）" in answers(chat)[0][0]


def test_a_busy_port_is_a_clear_error(tmp_path, mini_data):
    cfg = page_config(tmp_path, mini_data)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", cfg.web.port))
        taken.listen()
        with pytest.raises(RuntimeError, match=r"cannot listen on 127\.0\.0\.1:\d+ .*web\.port"):
            with PageServer(cfg):
                pass


def test_cancelling_serve_frees_the_port(tmp_path, mini_data):
    cfg = page_config(tmp_path, mini_data)
    with PageServer(cfg):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", cfg.web.port))  # would raise if the server still held it


def test_wanted_follows_web_enabled(tmp_path, mini_data):
    from adapters.web import server as web

    assert web.wanted(page_config(tmp_path, mini_data))
    assert not web.wanted(page_config(tmp_path, mini_data, enabled=False))
    assert web.url(page_config(tmp_path, mini_data, host="0.0.0.0", port=8080)) == "http://127.0.0.1:8080/"


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8")


def url_printed_by(proc: subprocess.Popen, timeout: float = 90) -> str:
    """The page URL a starting command prints."""
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"web page: (http://\S+)", line)
        if m:
            return m.group(1)
    proc.kill()
    raise AssertionError("no URL printed:\n" + "".join(lines))


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(20)
    finally:
        proc.kill()


def test_the_commands_a_user_runs_serve_the_page(tmp_path, mini_data):
    """`springfest run` (the README's main job) and app.py (app platforms) print the URL and answer there.

    Both start at once to keep the test short; each has its own state file and port.
    """
    commands = {"springfest run": [sys.executable, "-c", "import sys; from adapters.cli import main; "
                                                        "sys.exit(main())", "run"],
                "app.py": [sys.executable, "app.py"]}
    procs, ports = {}, {}
    for how, command in commands.items():
        (tmp_path / how).mkdir()
        cfg = page_config(tmp_path / how, mini_data)
        # springfest run listens at web.host:web.port; app.py where the platform's variables say.
        ports[how] = platform_port = free_port() if how == "app.py" else cfg.web.port
        env = {**os.environ, "SPRINGFEST_CONFIG": str(tmp_path / how / "config.yaml"),
               "TELEGRAM_BOT_TOKEN": "", "DISCORD_BOT_TOKEN": "",
               "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(platform_port)}
        procs[how] = start(command, env)
    try:
        for how, proc in procs.items():
            url = url_printed_by(proc)
            assert url == f"http://127.0.0.1:{ports[how]}/", how
            chat, _ = gradio_client.Client(url, analytics_enabled=False, verbose=False).predict(
                MARRIAGE_Q, api_name="/style_sarcastic")
            assert answers(chat)[0][0] in mini_answers(mini_data, "marriage-when", "sarcastic"), how
    finally:
        codes = {how: stop(proc) for how, proc in procs.items()}
    assert codes == {"springfest run": 0, "app.py": 0}, "SIGINT must stop the server cleanly"


@pytest.fixture
async def bot_app(tmp_path, mini_data):
    """A real BotApp over the mini corpus, with room for two answers a minute per user."""
    from bot.app import BotApp
    from bot.store import Store
    from bot.wiring import build_engine

    cfg = page_config(tmp_path, mini_data, per_user=2)
    engine = build_engine(cfg)
    app = BotApp(engine, cfg, Store(cfg.path(cfg.state.path)))
    yield app
    await app.aclose()
    await engine.aclose()


async def test_a_refused_press_is_a_toast_and_leaves_the_answer(bot_app, mini_data):
    from adapters.web import visitor as turns
    from bot.types import User

    v, user, toasts = turns.Visitor.new("tactful"), User("ip:127.0.0.1"), []
    async for _ in turns.ask(bot_app, v, user, MARRIAGE_Q):
        pass
    async for _ in turns.restyle(bot_app, v, user, "sarcastic", toasts.append):
        pass
    assert toasts == [], "the answer changing on screen is the acknowledgement: no toast"
    shown = v.messages[1]["content"]
    assert shown in mini_answers(mini_data, "marriage-when", "sarcastic")
    async for _ in turns.another(bot_app, v, user, toasts.append):
        pass
    assert len(toasts) == 1 and re.fullmatch(r"你问得太快了，请 \d+ 秒后再试。", toasts[0])
    assert v.messages[1]["content"] == shown

