"""End to end in a real browser: `streamlit run app.py` on a fresh index, Debian's Chromium via Playwright.

Never runs `playwright install` (browser downloads fail here): it drives /usr/bin/chromium.
Screenshots land in artifacts/ (git-ignored) at a laptop and a phone width.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
NOTES = (ROOT / "corpus" / "other-services.md").read_text(encoding="utf-8")
COMPARE = "quelle différence entre SES et Pinpoint ?"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not answer in time")


def start(tmp_path, corpus: Path | None = None):
    port = free_port()
    env = {**os.environ, "RETRIEVAL_INDEX": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    env.pop("RETRIEVAL_CORPUS", None)
    if corpus is not None:
        env["RETRIEVAL_CORPUS"] = str(corpus)
    log = open(tmp_path / "streamlit.log", "wb")  # noqa: SIM115 (closed in finally, after the server)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:  # never leave a server behind, whatever happened
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def server(tmp_path):
    yield from start(tmp_path)


HOSTILE = """# Pièges

## Service piégé

- Balise <script>alert(1)</script> et image <img src=x onerror=alert(1)> dans une note
- Emoji :smile: couleur :red[rouge] math $a^2$ lien [clic](javascript:alert(1))
"""


@pytest.fixture
def hostile_server(tmp_path):
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "pieges.md").write_text(HOSTILE, encoding="utf-8")
    yield from start(tmp_path, corpus)


def ask_and_check(page, name: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=90_000)  # the first load builds the index before the chat opens
    page.get_by_role("button", name=COMPARE).wait_for(timeout=10_000)  # welcome with examples
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chat-{name}-welcome.png"))
    box.fill(COMPARE)
    box.press("Enter")
    # Answer headings and the quotes under them.
    page.get_by_role("heading", name="Amazon Pinpoint").first.wait_for(timeout=60_000)
    page.get_by_role("heading", name="Amazon SES").first.wait_for(timeout=10_000)
    page.wait_for_timeout(500)  # let the last elements settle before the screenshot
    answer = page.get_by_test_id("stChatMessage").last
    texts = [t.strip() for t in answer.get_by_test_id("stMarkdownContainer").all_inner_texts()]
    flat = NOTES.replace("**", "")  # rendered bold loses its asterisks; every other character stays
    verbatim = [t for t in texts if len(t) > 8 and t in flat]
    assert verbatim, f"no verbatim quote of the notes in the answer: {texts}"
    assert page.get_by_text("other-services.md:", exact=False).count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    # Streamlit scrolls inside its own container: show the question and the top of the answer
    # (the answer's own top would sit under the fixed header).
    page.get_by_test_id("stChatMessage").nth(-2).evaluate("el => el.scrollIntoView()")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"chat-{name}.png"))


def test_chat_in_chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, viewport in [
                ("laptop", {"width": 1280, "height": 900}),
                ("phone", {"width": 390, "height": 844}),
            ]:
                page = browser.new_page(viewport=viewport)
                page.goto(server, wait_until="domcontentloaded")
                ask_and_check(page, name)
                page.close()
        finally:
            browser.close()


def test_html_in_a_note_stays_text_in_chromium(hostile_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(hostile_server, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=90_000)
            box.fill("balise image emoji couleur lien")
            box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").last
            answer.get_by_text("Balise <script>alert(1)</script>", exact=False).first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            text = answer.inner_text()
            assert "<img src=x onerror=alert(1)>" in text
            assert ":smile:" in text and ":red[rouge]" in text and "$a^2$" in text
            assert "[clic](javascript:alert(1))" in text
            assert answer.locator("script, img[src='x'], a[href^='javascript'], .katex").count() == 0
            assert not dialogs
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "chat-hostile-note.png"))
        finally:
            browser.close()
