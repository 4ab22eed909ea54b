"""A whole review in a real browser: `streamlit run app.py`, Debian's Chromium via Playwright.

The issue's "done when", step by step: open Réviser, filter on SSM Session Manager, review 10
cards with the buttons, stop and restart the server and find the same counts, see the progress
move, download the .apkg and count its notes. Screenshots (laptop and phone widths) go to artifacts/.
"""

import sqlite3
import zipfile

import pytest
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, start

from revision.cards import cards_of, filter_cards

SSM = "SSM Session Manager"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)"),
]


def metrics(page) -> dict[str, str]:
    out = {}
    for m in page.get_by_test_id("stMetric").all():
        label = m.get_by_test_id("stMetricLabel").inner_text().strip()
        out[label] = m.get_by_test_id("stMetricValue").inner_text().strip()
    return out


def wait_metrics(page, expected: dict[str, str], timeout_ms: int = 10_000) -> None:
    """The counts once the last rerun has drawn them (a rerun replaces elements one by one)."""
    for _ in range(timeout_ms // 200):
        if metrics(page) == expected:
            return
        page.wait_for_timeout(200)
    assert metrics(page) == expected


def open_reviser(page, url: str) -> None:
    page.goto(url + "/reviser", wait_until="domcontentloaded")
    page.get_by_role("button", name="Montrer").wait_for(timeout=60_000)


def filter_service(page, service: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.click()
    page.get_by_role("option", name=service).click()
    page.keyboard.press("Escape")
    page.get_by_text(f"{service}", exact=False).first.wait_for()
    page.get_by_text("35 cartes : 30 à trous, 5 listes, 0 tableaux.").wait_for(timeout=10_000)
    page.get_by_role("button", name="Montrer").wait_for()


def settled(page) -> None:
    """Wait until the rerun has drawn every element: until then the last card's buttons may still show."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=15_000)


def review_one(page, grade: str, done: int) -> None:
    page.get_by_role("button", name="Montrer").click()
    page.get_by_role("button", name="Montrer").wait_for(state="detached")
    settled(page)
    page.get_by_role("button", name=f"{grade} · ").first.click()
    page.get_by_text(f"· {done} révisée(s)").wait_for(timeout=15_000)
    settled(page)


def shot(page, name: str, full: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let the last elements settle
    page.screenshot(path=str(ARTIFACTS / f"reviser-{name}.png"), full_page=full)


def test_a_whole_review_in_chromium(tmp_path, revision_db):
    from playwright.sync_api import sync_playwright

    server = start(tmp_path)
    url = next(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                dialogs = []
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                open_reviser(page, url)
                assert metrics(page) == {"À réviser": "0", "Nouvelles": "20", "En cours": "0", "Connues": "0"}
                shot(page, "laptop-first-visit")

                filter_service(page, SSM)
                page.get_by_role("button", name="Montrer").click()
                bien = page.get_by_role("button", name="Bien · 10 min")
                bien.wait_for()
                assert page.get_by_text("other-services.md:", exact=False).count() >= 1
                for label in ("À revoir · 1 min", "Difficile · 6 min", "Facile · 8 j"):
                    assert page.get_by_role("button", name=label).count() == 1
                shot(page, "laptop-reveal")
                bien.click()
                page.get_by_text("· 1 révisée(s)").wait_for(timeout=15_000)
                settled(page)
                for i in range(2, 11):
                    review_one(page, "Bien" if i % 2 else "Facile", i)
                counts = {"À réviser": "0", "Nouvelles": "10", "En cours": "5", "Connues": "5"}
                wait_metrics(page, counts)
                page.get_by_text("Révisions par jour").scroll_into_view_if_needed()
                shot(page, "laptop-progress")

                with page.expect_download() as dl:
                    page.get_by_role("button", name="Exporter pour Anki (.apkg)").click()
                apkg = tmp_path / "ssm.apkg"
                dl.value.save_as(apkg)
                assert page.locator("[data-testid='stException']").count() == 0 and not dialogs
            finally:
                browser.close()
    finally:
        server.close()  # stops the server

    with zipfile.ZipFile(apkg) as z:
        z.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as con:
        notes = con.execute("SELECT count(*) FROM notes").fetchone()[0]
    assert notes == len(filter_cards(cards_of(ROOT / "corpus"), [SSM])) == 35
    with sqlite3.connect(revision_db) as con:
        assert con.execute("SELECT count(*) FROM review_log").fetchone()[0] == 10

    # A new server on the same database: same counts, and the phone layout.
    server = start(tmp_path)
    url = next(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                open_reviser(page, url)
                filter_service(page, SSM)
                wait_metrics(page, counts)
                page.close()

                phone = browser.new_page(viewport={"width": 390, "height": 844})
                open_reviser(phone, url)
                shot(phone, "phone-prompt")
                phone.get_by_role("button", name="Montrer").click()
                phone.get_by_role("button", name="Bien · ", exact=False).first.wait_for()
                phone.locator(".st-key-rev-card").scroll_into_view_if_needed()
                shot(phone, "phone-reveal")
                phone.get_by_text("Progression").scroll_into_view_if_needed()
                shot(phone, "phone-progress")
                assert phone.locator("[data-testid='stException']").count() == 0
            finally:
                browser.close()
    finally:
        server.close()
