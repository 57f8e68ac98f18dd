"""End to end in a real browser: Debian's headless Chromium driven by Playwright (never a downloaded browser).

Needs `apt-get install -y chromium` (and fonts-wqy-microhei for readable Chinese in screenshots).
`SPRINGFEST_SCREENSHOT=docs/screenshot.png python -m pytest tests/test_web_browser.py` also saves the
README's screenshot: the page over the shipped corpus, in use.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import copy_mini
from support.page_server import MARRIAGE_Q, SALARY_Q, PageServer, free_port, mini_answers

from bot.config import load_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
           "this test never lets Playwright download a browser")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="pip install playwright (the Python package; no browser download)")

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    from conftest import write_config

    tmp = tmp_path_factory.mktemp("browser")
    access = {"rate_limit": {"per_user_per_minute": 1000, "per_chat_per_minute": 1000}}
    cfg = load_config(write_config(tmp, copy_mini(tmp), web={"port": free_port()}, access=access))
    with PageServer(cfg) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    data = copy_mini(tmp_path_factory.mktemp("answers"))
    return {(item, style): mini_answers(data, item, style) for item in ("marriage-when", "salary-how-much")
            for style in ("tactful", "deflect", "sarcastic")}


class Visitor:
    """One browser tab on the page, seen as a person sees it."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 860}, locale="zh-CN",
                                           permissions=["clipboard-read", "clipboard-write"])
        self.tab = self.context.new_page()
        self.offsite: list[str] = []
        self.tab.on("request", lambda r: None if r.url.startswith(url) else self.offsite.append(r.url))
        self.tab.goto(url)
        self.tab.get_by_placeholder("例如").wait_for(timeout=TIMEOUT_MS)

    def type_question(self, text: str) -> None:
        self.tab.get_by_placeholder("例如").fill(text)

    def click(self, label: str) -> None:
        self.tab.get_by_role("button", name=label, exact=True).click()

    def user_lines(self) -> list[str]:
        return self.tab.locator('#sf-chat [data-testid="user"]').all_inner_texts()

    def answer_bubbles(self):
        """The reply bubbles (not the small source lines under them)."""
        return self.tab.locator('#sf-chat [data-testid="bot"]:not(:has(.sf-meta))')

    def wait_for_answer(self, choices: set[str], *, not_text: str | None = None) -> str:
        """The last answer's text once it is one of `choices` (and not `not_text`) and shows its source."""
        waited = 0
        while waited < TIMEOUT_MS:
            bubbles, metas = self.answer_bubbles(), self.tab.locator("#sf-chat .sf-meta")
            if bubbles.count() and metas.count() == bubbles.count():
                text = bubbles.last.inner_text().strip()
                if text in choices and text != not_text:
                    return text
            self.tab.wait_for_timeout(100)
            waited += 100
        shown = self.tab.inner_text("#sf-chat")
        raise AssertionError(f"no answer among {choices} appeared; the page shows {shown!r}")

    def copy_last_answer(self) -> str:
        """Click the last answer's copy button; what lands on the clipboard."""
        self.tab.evaluate("navigator.clipboard.writeText('')")
        self.answer_bubbles().last.hover()
        row = self.tab.locator("#sf-chat .bot-row:not(:has(.sf-meta))").last
        row.locator("xpath=following-sibling::div[contains(@class, 'message-buttons')][1]").get_by_role(
            "button", name="Copy message").click()
        self.tab.wait_for_timeout(200)
        return self.tab.evaluate("navigator.clipboard.readText()")

    def close(self) -> None:
        self.context.close()


def test_type_a_question_pick_styles_and_see_different_answers(browser, page_url, answers):
    v = Visitor(browser, page_url)
    v.type_question(MARRIAGE_Q)
    v.click("阴阳怪气")
    sarcastic = v.wait_for_answer(answers["marriage-when", "sarcastic"])
    assert v.user_lines() == [MARRIAGE_Q]
    meta = v.tab.locator("#sf-chat .sf-meta").last
    assert meta.inner_text() == f"来源：语料库 · 匹配：{MARRIAGE_Q}"
    assert float(meta.evaluate("e => getComputedStyle(e).opacity")) < 1  # discreet: a faded small line

    v.click("委婉认真")
    tactful = v.wait_for_answer(answers["marriage-when", "tactful"])
    assert tactful != sarcastic
    assert v.user_lines() == [MARRIAGE_Q], "switching style re-answers the question, it does not ask again"
    lit = v.tab.locator("#sf-style-tactful")
    assert "primary" in (lit.get_attribute("class") or ""), "the chosen style's button is highlighted"

    v.click("🔄 换一个")
    v.wait_for_answer(answers["marriage-when", "tactful"], not_text=tactful)

    v.type_question(SALARY_Q)
    v.click("发送")
    salary = v.wait_for_answer(answers["salary-how-much", "tactful"])
    assert v.user_lines() == [MARRIAGE_Q, SALARY_Q]
    assert v.offsite == [], "the page must work offline: nothing may be fetched from other hosts"

    assert v.copy_last_answer() == salary, "copying an answer copies the answer alone, not its source line"

    v.click("🧹 清空对话")
    v.tab.locator('#sf-chat [data-testid="user"]').first.wait_for(state="detached", timeout=TIMEOUT_MS)
    v.close()


def test_two_visitors_at_once_never_see_each_others_state(browser, page_url, answers):
    alice, bob = Visitor(browser, page_url), Visitor(browser, page_url)
    alice.type_question(MARRIAGE_Q)
    bob.type_question(SALARY_Q)
    alice.click("阴阳怪气")
    bob.click("转换话题")
    first = alice.wait_for_answer(answers["marriage-when", "sarcastic"])
    bob.wait_for_answer(answers["salary-how-much", "deflect"])
    assert alice.user_lines() == [MARRIAGE_Q]
    assert bob.user_lines() == [SALARY_Q]

    # Each one's buttons act on their own last question and style only.
    alice.click("🔄 换一个")
    bob.click("委婉认真")
    alice.wait_for_answer(answers["marriage-when", "sarcastic"], not_text=first)
    bob.wait_for_answer(answers["salary-how-much", "tactful"])
    for v, other in ((alice, SALARY_Q), (bob, MARRIAGE_Q)):
        assert not re.search(re.escape(other), v.tab.inner_text("#sf-chat"))
    assert "primary" in (alice.tab.locator("#sf-style-sarcastic").get_attribute("class") or "")
    assert "primary" in (bob.tab.locator("#sf-style-tactful").get_attribute("class") or "")
    alice.type_question(SALARY_Q)
    alice.tab.keyboard.press("Enter")  # a typed question goes in the style she picked, not Bob's
    alice.wait_for_answer(answers["salary-how-much", "sarcastic"])
    assert bob.user_lines() == [SALARY_Q] and alice.user_lines() == [MARRIAGE_Q, SALARY_Q]
    alice.close()
    bob.close()


@pytest.mark.skipif(not os.environ.get("SPRINGFEST_SCREENSHOT"),
                    reason="set SPRINGFEST_SCREENSHOT=docs/screenshot.png to remake the README's screenshot")
def test_readme_screenshot(browser, tmp_path):
    """The page over the shipped corpus and default config, after two questions and a change of style."""
    from conftest import REPO, write_config

    cfg = load_config(write_config(tmp_path, REPO / "data", web={"port": free_port()}))
    with PageServer(cfg, start_timeout=600) as server:  # it first embeds the whole shipped corpus
        v = Visitor(browser, server.url)
        v.type_question("你打算什么时候结婚啊？")
        v.click("阴阳怪气")
        v.tab.locator("#sf-chat .sf-meta").first.wait_for(timeout=60_000)
        v.type_question("今年年终奖发了多少？")
        v.click("委婉认真")
        v.tab.locator("#sf-chat .sf-meta").nth(1).wait_for(timeout=TIMEOUT_MS)
        tactful = v.answer_bubbles().last.inner_text().strip()
        v.click("转换话题")
        v.tab.wait_for_function(
            "t => { const b = [...document.querySelectorAll('#sf-chat [data-testid=bot]')]"
            ".filter(e => !e.querySelector('.sf-meta'));"
            " return b.length && b[b.length - 1].innerText.trim() !== t; }",
            arg=tactful, timeout=TIMEOUT_MS)
        v.tab.wait_for_timeout(300)  # the source line follows the answer
        shot = Path(os.environ["SPRINGFEST_SCREENSHOT"])
        shot.parent.mkdir(parents=True, exist_ok=True)
        v.tab.screenshot(path=str(shot), full_page=True)
        v.close()
