"""The notes page in a real browser: drop a zip of three chapters on the upload widget, see them
listed, then ask the chat about one of them. `streamlit run app.py`, Debian's Chromium via Playwright.

Screenshots of the page at a laptop and a phone width land in artifacts/ (git-ignored).
"""

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, start

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "tests" / "data" / "cheatsheet"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)"),
]


@pytest.fixture
def notes_server(tmp_path, monkeypatch):
    """The app on a copy of the shipped notes, chosen as on the page (settings file, not the variable)."""
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(ROOT / "corpus" / "other-services.md", notes)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"notes_dir": str(notes)}), encoding="utf-8")
    monkeypatch.setenv("RETRIEVAL_SETTINGS", str(settings))
    archive = tmp_path / "chapitres.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(CHAPTERS.glob("*.md")):
            z.write(p, f"chapitres/{p.name}")
    for url in start(tmp_path):
        yield url, notes, archive


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let the last elements settle
    page.screenshot(path=str(ARTIFACTS / name))


def test_drop_a_zip_then_ask_about_it_in_chromium(notes_server):
    from playwright.sync_api import sync_playwright

    url, notes, archive = notes_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/notes", wait_until="domcontentloaded")
            page.get_by_text("Fichiers indexés").wait_for(timeout=90_000)  # the first load builds the index
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(archive))
            page.get_by_role("button", name="Ajouter à mes notes").click()
            page.get_by_text("Ajouté dans tes notes", exact=False).wait_for(timeout=60_000)
            assert (notes / "chapitres" / "outils.md").read_bytes() == (CHAPTERS / "outils.md").read_bytes()
            page.get_by_text("Index à jour", exact=False).first.wait_for(timeout=10_000)
            assert page.locator("[data-testid='stException']").count() == 0
            shoot(page, "notes-laptop.png")
            page.get_by_text("Par rubrique").evaluate("el => el.scrollIntoView()")
            shoot(page, "notes-laptop-tables.png")

            # the student edits a chapter, then drops the same zip again: asked before anything is replaced
            mine = (notes / "chapitres" / "outils.md").read_bytes() + b"- ma remarque\n"
            (notes / "chapitres" / "outils.md").write_bytes(mine)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(archive))
            page.get_by_role("button", name="Ajouter à mes notes").click()
            page.get_by_role("button", name="Garder mes versions").wait_for(timeout=60_000)
            page.get_by_role("heading", name="Mes notes").evaluate("el => el.scrollIntoView()")
            shoot(page, "notes-laptop-confirm.png")
            page.get_by_role("button", name="Garder mes versions").click()
            page.get_by_text("Gardé tel quel", exact=False).wait_for(timeout=30_000)
            assert (notes / "chapitres" / "outils.md").read_bytes() == mine

            page.get_by_role("link", name="Chat").first.click()
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=60_000)
            box.fill("détacher une session tmux")
            box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").last
            answer.get_by_text("chapitres/outils.md:", exact=False).first.wait_for(timeout=60_000)
            shoot(page, "notes-laptop-chat.png")
            page.close()

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(url + "/notes", wait_until="domcontentloaded")
            phone.get_by_text("Fichiers indexés").wait_for(timeout=60_000)
            # table cells are drawn on a canvas; their accessible copies are attached, not visible
            phone.get_by_text("chapitres/outils.md").first.wait_for(state="attached", timeout=10_000)
            shoot(phone, "notes-phone.png")
            phone.get_by_text("Fichiers indexés").evaluate("el => el.scrollIntoView()")
            shoot(phone, "notes-phone-files.png")
            phone.close()
        finally:
            browser.close()
