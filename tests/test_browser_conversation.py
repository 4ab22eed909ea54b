"""A three-turn conversation in Chromium: the carried subject's grey line, « Demander sans ce sujet »,
« Nouvelle conversation ». Same server and browser set-up as tests/test_browser.py; screenshots in
artifacts/conv-*.png."""

import pytest
from test_browser import (
    CHROMIUM,
    NOTE_LINES,
    VIEWPORTS,
    ask,
    browser_session,
    check_seen,
    open_chat,
    seen_passages,
    shoot,
    start,
    to_top,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)"),
]
LABEL = "À propos de : Amazon SES (question précédente)"
TURNS = ("c'est quoi Amazon SES ?", "et ses statistiques ?", "et pour l'examen ?")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from start(tmp_path_factory.mktemp("conversation"), private=True)


def test_conversation_in_chromium(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                open_chat(page, server)
                for q in TURNS:
                    ask(page, q)
                messages = page.get_by_test_id("stChatMessage")  # the welcome, then question, answer, ...
                answers = [messages.nth(i) for i in (2, 4, 6)]
                assert answers[0].locator(".rv-subject").count() == 0
                for answer in answers[1:]:
                    assert answer.locator(".rv-subject").inner_text() == LABEL
                    assert answer.get_by_role("button", name="Demander sans ce sujet").is_visible()
                stats, exam = (
                    [check_seen(c, "other-services.md", NOTE_LINES) for c in seen_passages(a)] for a in answers[1:]
                )
                assert {56, 57, 58, 59} <= set(stats[0]) and 69 in exam[0]
                to_top(page, messages.nth(3))
                shoot(page, f"conv-three-turns-{name}.png")
                if name == "laptop":  # the whole conversation in one picture
                    page.set_viewport_size({"width": 1280, "height": 3200})
                    to_top(page, messages.nth(1))
                    shoot(page, "conv-three-turns-tall.png")
                    page.set_viewport_size(viewport)

                answers[-1].get_by_role("button", name="Demander sans ce sujet").click()
                expect(messages).to_have_count(9, timeout=60_000)  # the welcome and four exchanges
                page.wait_for_timeout(800)
                alone = messages.last
                assert alone.locator(".rv-subject").count() == 0
                assert 69 not in check_seen(seen_passages(alone)[0], "other-services.md", NOTE_LINES)
                to_top(page, messages.nth(-2))
                shoot(page, f"conv-without-subject-{name}.png")

                if name == "phone":  # the sidebar starts closed
                    page.get_by_test_id("stExpandSidebarButton").click()
                    page.wait_for_timeout(800)
                page.get_by_role("button", name="Nouvelle conversation").click()
                page.wait_for_timeout(1500)
                assert page.locator(".rv-card").count() == 0 and page.locator(".rv-subject").count() == 0
                page.close()
        finally:
            browser.close()
