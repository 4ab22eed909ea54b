"""End to end in a real browser: `streamlit run app.py` on a fresh index, Debian's Chromium via Playwright.

Never runs `playwright install` (browser downloads fail here): it drives /usr/bin/chromium.
What the page shows of a passage is read with the browser's own `innerText` (interface labels
hidden) and compared, line by line, with the note file: the text a student sees is the note's.
Every request of a whole session is recorded: none may leave the computer.
Screenshots land in artifacts/ (git-ignored) at a laptop and a phone width.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from readback import line_numbers
from visible_text import expected

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
NOTES = ROOT / "corpus" / "other-services.md"
NOTE_LINES = NOTES.read_text(encoding="utf-8").split("\n")
COMPARE = "quelle différence entre SES et Pinpoint ?"
STATS = "quelles statistiques SES fournit ?"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

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


def start(tmp_path, corpus: Path | None = None, private: bool = False):
    """`streamlit run app.py` on its own port; `private`: its own settings file and study database
    under tmp_path (a server shared by several tests starts before their own fixtures run)."""
    port = free_port()
    env = {**os.environ, "RETRIEVAL_INDEX": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    env.pop("RETRIEVAL_CORPUS", None)
    if corpus is not None:
        env["RETRIEVAL_CORPUS"] = str(corpus)
    if private:
        env["RETRIEVAL_SETTINGS"] = str(tmp_path / "settings.json")
        env["REVISION_DB"] = str(tmp_path / "revision.sqlite3")
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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on the shipped notes, shared by this module's tests."""
    yield from start(tmp_path_factory.mktemp("shipped"), private=True)


def notes_server(tmp_path_factory, name: str, files: dict[str, str] | Path):
    tmp = tmp_path_factory.mktemp(name)
    if isinstance(files, Path):
        corpus = files
    else:
        corpus = tmp / "notes"
        corpus.mkdir()
        for file, text in files.items():
            (corpus / file).write_text(text, encoding="utf-8")
    yield from start(tmp, corpus, private=True)


HOSTILE = """# Pièges

## Service piégé :material/home:

- **Pièges à vérifier** :
  - Balise <script>alert(1)</script> et image <img src=x onerror=alert(1)> dans une note
  - Lien [clic](javascript:alert(1)), couleur :red[rouge], math $a^2$ et emoji :smile:
  - Icône :material/home: et logo :streamlit: dans le texte
  - Flèches a -> b, a <- b, a -- b, a >= b, a <= b, a ~= b
  - Console www.console.aws.amazon.com/ses/home pour SES
  - Lien nu http://x.y/z et courriel support@entreprise.com
  - `s3:*` en code et **gras** et s3:* sans
100. parent numéroté
    - enfant sous le numéro
"""
HOSTILE_LINES = HOSTILE.split("\n")
HOSTILE_QUESTION = "pièges SES :material/home: a -> b www.exemple.com"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    yield from notes_server(tmp_path_factory, "hostile", {"pieges.md": HOSTILE})


@pytest.fixture(scope="module")
def cheatsheet_server(tmp_path_factory):
    yield from notes_server(tmp_path_factory, "cheatsheet", ROOT / "tests" / "data" / "cheatsheet")


# ----- the page ----------------------------------------------------------------------------------------
SEEN_LINES = """els => els.map(card => {
  const quote = card.querySelector('.rv-q');
  quote.querySelectorAll('.rv-ui').forEach(e => { e.dataset.hidden = e.style.display; e.style.display = 'none'; });
  const lines = Array.from(quote.querySelectorAll('[data-line]')).map(
    e => [Number(e.dataset.line), e.innerText, Number(e.dataset.cut || 0)]);
  quote.querySelectorAll('.rv-ui').forEach(e => { e.style.display = e.dataset.hidden; });
  return {ref: card.querySelector('.rv-ref').innerText, lines: lines};
})"""


def seen_passages(answer) -> list[dict]:
    """Per passage of an answer: its `fichier:lignes` and, per line element, what the browser shows."""
    return answer.locator(".rv-card").evaluate_all(SEEN_LINES)


def check_seen(card: dict, source: str, note_lines: list[str]) -> dict[int, str]:
    """The browser's text of each line is the note's line minus its syntax (visible_text.expected)."""
    name, _, ranges = card["ref"].rpartition(":")
    assert name == source, card["ref"]
    numbers = line_numbers(ranges)
    cuts = {n: cut for n, _, cut in card["lines"] if cut}
    want = expected([(n, note_lines[n - 1]) for n in numbers], cuts)
    shown = {}
    for n, text, _ in card["lines"]:
        assert n in numbers
        # innerText turns a no-break space into a space; nothing else may differ
        assert text == (want[n] or "").replace("\u00a0", " "), f"{source}:{n}: browser shows {text!r}, note {want[n]!r}"
        shown[n] = text
    assert shown, card
    return shown


def to_top(page, locator) -> None:
    """Scroll Streamlit's own container so that `locator` sits just under the fixed header."""
    locator.evaluate(
        """el => { el.scrollIntoView({block: 'start'});
        const scrolls = p => p.scrollHeight > p.clientHeight && getComputedStyle(p).overflowY !== 'visible';
        let p = el.parentElement;
        while (p && !scrolls(p)) p = p.parentElement;
        if (p) p.scrollTop = Math.max(0, p.scrollTop - 70); }"""
    )
    page.wait_for_timeout(300)


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let the last elements settle
    page.screenshot(path=str(ARTIFACTS / name))


def open_chat(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)  # the first load builds the index


def ask(page, question: str):
    n = page.locator(".rv-card").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.locator(".rv-card").nth(n).wait_for(timeout=60_000)
    page.wait_for_timeout(800)  # the rest of the answer
    assert page.locator("[data-testid='stException']").count() == 0
    return page.get_by_test_id("stChatMessage").last


def browser_session(p):
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


# ----- tests -----------------------------------------------------------------------------------------
def test_chat_in_chromium(server):
    """The mission question and a list question, read in the browser against the note, at both widths."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                open_chat(page, server)
                # welcome with examples read off the notes
                page.get_by_role("button", name="quelle différence entre Pinpoint et SES ?").wait_for(timeout=10_000)
                shoot(page, f"chat-welcome-{name}.png")
                answer = ask(page, COMPARE)
                cards = seen_passages(answer)
                shown = [check_seen(c, "other-services.md", NOTE_LINES) for c in cards]
                first5 = {n for s in shown[:5] for n in s}
                assert first5 & {93, 104} and first5 & {94, 102, 106}
                assert answer.locator("mark").count() > 0
                to_top(page, page.get_by_test_id("stChatMessage").nth(-2))
                shoot(page, f"answer-compare-{name}.png")

                answer = ask(page, STATS)
                shown = [check_seen(c, "other-services.md", NOTE_LINES) for c in seen_passages(answer)]
                assert any({56, 57, 58, 59} <= set(s) for s in shown), "the list under 'Statistiques détaillées :'"
                to_top(page, page.get_by_test_id("stChatMessage").nth(-2))
                shoot(page, f"answer-list-{name}.png")
                page.close()
        finally:
            browser.close()


def test_context_why_and_copy_in_chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            page = browser.new_page(viewport=VIEWPORTS["laptop"])
            open_chat(page, server)
            answer = ask(page, STATS)
            card = answer.locator("[class*='st-key-card-']").first
            card.get_by_text("Voir le contexte").click()
            block = card.get_by_test_id("stExpanderDetails").locator(".rv-q")
            block.wait_for(timeout=20_000)
            ref = card.locator(".rv-ref").inner_text()
            first_seen = check_seen(seen_passages(card)[0], "other-services.md", NOTE_LINES)
            ctx_lines = block.evaluate(
                "q => Array.from(q.querySelectorAll('[data-line]')).map(e => [Number(e.dataset.line), e.innerText])"
            )
            want = expected([(n, NOTE_LINES[n - 1]) for n, _ in ctx_lines])
            assert all(text == (want[n] or "").replace("\u00a0", " ") for n, text in ctx_lines)
            assert set(first_seen) <= {n for n, _ in ctx_lines}, (ref, ctx_lines)
            to_top(page, card)
            shoot(page, "answer-context-laptop.png")
            card.get_by_role("button", name="Pourquoi ce passage ?").click()
            why = page.get_by_test_id("stPopoverBody").locator(".rv-why")
            why.wait_for(timeout=10_000)
            assert "de la question" in why.inner_text()
            shoot(page, "answer-why-laptop.png")
            page.keyboard.press("Escape")
            card.get_by_role("button", name="Copier").click()
            code = page.get_by_test_id("stPopoverBody").locator("code").last
            code.wait_for(timeout=10_000)
            lines = line_numbers(ref.rpartition(":")[2])
            assert code.inner_text().strip("\n") == "\n".join(NOTE_LINES[n - 1].rstrip() for n in lines) + f"\n\n{ref}"
            shoot(page, "answer-copy-laptop.png")
        finally:
            browser.close()


def test_no_request_leaves_the_computer(server):
    """A whole session: load, two questions, a context opened, the Mes notes and Réviser pages."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            page = browser.new_page(viewport=VIEWPORTS["laptop"])
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            open_chat(page, server)
            ask(page, COMPARE)
            answer = ask(page, "c'est quoi Outposts ?")
            answer.get_by_text("Voir le contexte").first.click()
            answer.get_by_test_id("stExpanderDetails").locator(".rv-q").first.wait_for(timeout=20_000)
            page.get_by_test_id("stSidebarNav").get_by_text("Mes notes").click()
            page.get_by_text("Fichiers indexés").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.get_by_test_id("stSidebarNav").get_by_text("Réviser").click()
            page.get_by_text("Progression").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            favicon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\")?.href || ''")
        finally:
            browser.close()
    assert len(requests) > 10
    outside = [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in ("127.0.0.1", "localhost")
    ]
    assert not outside, f"requests that left the computer: {sorted(set(outside))}"
    assert favicon.startswith("data:"), favicon  # the emoji favicon: no icon fetched from a font CDN


def test_hostile_passage_in_chromium(hostile_server):
    """A note full of traps: the browser's text of each line is the note's, nothing runs, links or turns into icons."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                dialogs: list[str] = []
                page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
                open_chat(page, hostile_server)
                answer = ask(page, HOSTILE_QUESTION)
                shown: dict[int, str] = {}
                for card in seen_passages(answer):
                    shown |= check_seen(card, "pieges.md", HOSTILE_LINES)
                assert set(range(5, 13)) <= set(shown), shown  # the label and its children
                assert shown[8] == "Icône :material/home: et logo :streamlit: dans le texte"
                assert shown[9] == "Flèches a -> b, a <- b, a -- b, a >= b, a <= b, a ~= b"
                assert shown[10] == "Console www.console.aws.amazon.com/ses/home pour SES"
                assert shown[11] == "Lien nu http://x.y/z et courriel support@entreprise.com"
                assert answer.locator("mark", has_text="ses").count() >= 1  # highlighted inside the URL
                risky = "script, img, a, svg, .katex, [data-testid='stIconMaterial'], iframe"
                assert answer.locator(".rv-card").locator(risky).count() == 0
                question = page.get_by_test_id("stChatMessage").nth(-2)
                assert question.locator(".rv-echo").inner_text() == HOSTILE_QUESTION
                assert question.locator(".rv-echo").locator("a, svg, [data-testid='stIconMaterial']").count() == 0
                caption = answer.locator(".rv-cap").first.inner_text()
                assert "Service piégé :material/home:" in caption
                assert not dialogs
                to_top(page, question)
                shoot(page, f"answer-hostile-{name}.png")
                page.close()
        finally:
            browser.close()


def test_cheatsheet_label_with_its_code_in_chromium(cheatsheet_server):
    from playwright.sync_api import sync_playwright

    note = (ROOT / "tests" / "data" / "cheatsheet" / "conteneurs.md").read_text(encoding="utf-8").split("\n")
    with sync_playwright() as p:
        browser = browser_session(p)
        try:
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                open_chat(page, cheatsheet_server)
                answer = ask(page, "comment supprimer toutes les images docker ?")
                cards = [c for c in seen_passages(answer) if c["ref"].startswith("conteneurs.md:")]
                assert cards
                shown = check_seen(cards[0], "conteneurs.md", note)
                assert "docker rmi $(docker images -q)" in shown.values()
                assert answer.locator(".rv-card").first.locator("pre.rv-code").count() == 1
                to_top(page, page.get_by_test_id("stChatMessage").nth(-2))
                shoot(page, f"answer-cheatsheet-{name}.png")
                page.close()
        finally:
            browser.close()
