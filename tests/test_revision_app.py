"""The Réviser page, run headless with AppTest: real notes, real SQLite (a temporary REVISION_DB), real fsrs.

Most tests run the page alone (tests/apps/revision_page.py registers it as app.py does): it needs
no index and no model. One test goes through app.py's navigation with the built index.
"""

import html
import json
import re
import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from retrieval import config
from retrieval.presentation.inline import delimiters
from revision.cards import cards_of
from revision.view import prompt_html, reveal_html

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "tests" / "apps" / "revision_page.py")
CARDS = cards_of(ROOT / "corpus")
SSM = "SSM Session Manager"


@pytest.fixture(autouse=True)
def shipped_notes(monkeypatch):
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    st.cache_resource.clear()


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart(at, field: str) -> list[dict]:
    """The rows drawn by the chart that encodes `field` ("service": cards per service, "jour": reviews per day)."""
    for el in at.get("vega_lite_chart"):
        encoding = json.loads(el.proto.spec)["encoding"]
        if field in (encoding["x"]["field"], encoding["y"]["field"]):
            return pa.ipc.open_stream(el.proto.data.data).read_all().to_pylist()
    raise AssertionError(f"no chart of {field!r}")


BY_ID = {c.id: c for c in CARDS}


def quotes(at) -> list[str]:
    """The card's quotes on screen (HTML, as the chat draws a note): the prompt, then the answer once shown."""
    return [h.proto.body for h in at.main.get("html") if "rv-card-q" in h.proto.body]


def seen(markup: str) -> str:
    """What a reader sees of a quote: the tags dropped, the entities read, list items one per line."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("</li><li>", "\n")))


def note_shown(line: str) -> str:
    """A note line as the chat's renderer shows it: the line minus its live emphasis and code delimiters."""
    return "".join(c for i, c in enumerate(line) if i not in delimiters(line))


def shown_card(at):
    """The card on screen; its prompt is checked to be the card's, character for character."""
    card = BY_ID[at.session_state["rev_current"]]
    prompt = quotes(at)[0]
    assert prompt == prompt_html(card)
    if card.kind == "cloze":
        start, end = card.span
        assert seen(prompt) == note_shown(card.text[:start]) + "[…]" + note_shown(card.text[end:])
    else:
        assert seen(prompt) == card.prompt
    return card


def review(at, grade: int = 2) -> AppTest:
    at.button(key="rev-show").click().run()
    at.button(key=f"rev-grade-{grade}").click().run()
    assert not at.exception
    return at


def test_page_opens_on_a_new_database(revision_db):
    at = page()
    assert at.title[0].value == ":material/school: Réviser"
    assert metrics(at) == {"À réviser": "0", "Nouvelles": "20", "En cours": "0", "Connues": "0"}
    assert at.button(key="rev-show").label == "Montrer"
    assert at.sidebar.multiselect[0].options == list(dict.fromkeys(c.heading for c in CARDS))
    assert revision_db.is_file()  # REVISION_DB, never the index folder or data/ of the repo


def test_prompt_show_reveal_grade(revision_db):
    at = page()
    at.sidebar.multiselect[0].set_value([SSM]).run()
    card = shown_card(at)
    assert card.heading == SSM and card.kind == "cloze"
    assert "[…]" in seen(quotes(at)[0])
    assert not [b for b in at.button if b.key and b.key.startswith("rev-grade")]  # no grade before the reveal
    at.button(key="rev-show").click().run()
    reveal = quotes(at)[1]
    assert reveal == reveal_html(card) and seen(reveal) == note_shown(card.text)  # the note, verbatim
    assert any(c.value == f"{card.source}\\:{card.line}" for c in at.main.caption)
    labels = [at.button(key=f"rev-grade-{i}").label for i in range(4)]
    assert labels == ["À revoir · 1 min", "Difficile · 6 min", "Bien · 10 min", "Facile · 8 j"]
    at.button(key="rev-grade-2").click().run()
    assert metrics(at)["Nouvelles"] == "19" and metrics(at)["En cours"] == "1"
    with sqlite3.connect(revision_db) as con:
        assert con.execute("SELECT card_id, rating FROM review_log").fetchall() == [(card.id, 3)]
    assert shown_card(at).id != card.id  # the next card


def test_ten_reviews_survive_a_restart_and_move_the_chart(revision_db):
    at = page()
    at.sidebar.multiselect[0].set_value([SSM]).run()
    before = {r["statut"]: r["cartes"] for r in chart(at, "service") if r["service"] == SSM}
    assert before == {"Nouvelles": 35}
    for i in range(10):
        review(at, grade=3 if i % 2 else 2)
    shown = metrics(at)
    assert shown == {"À réviser": "0", "Nouvelles": "10", "En cours": "5", "Connues": "5"}
    after = {r["statut"]: r["cartes"] for r in chart(at, "service") if r["service"] == SSM}
    assert after == {"Nouvelles": 25, "En cours": 5, "Connues": 5}
    assert sum(r["révisions"] for r in chart(at, "jour")) == 10

    st.cache_resource.clear()  # a new server process: nothing kept in memory but the database
    again = page()
    again.sidebar.multiselect[0].set_value([SSM]).run()
    assert metrics(again) == shown
    assert {r["statut"]: r["cartes"] for r in chart(again, "service") if r["service"] == SSM} == after


def test_two_sessions_reviewing_at_once(revision_db):
    a, b = page(), page()
    for at in (a, b):
        at.sidebar.multiselect[0].set_value([SSM]).run()
        at.button(key="rev-show").click().run()
    a.button(key="rev-grade-2").click().run()
    b.button(key="rev-grade-3").click().run()  # the same card, graded in the other tab meanwhile
    with sqlite3.connect(revision_db) as con:
        assert [r for (r,) in con.execute("SELECT rating FROM review_log ORDER BY id")] == [3, 4]
        assert con.execute("SELECT max(reps) FROM cards").fetchone()[0] == 2
    a.run()
    assert metrics(a) == metrics(b)


def test_a_corrupt_database_is_kept_aside_and_the_page_opens(revision_db):
    revision_db.parent.mkdir(parents=True)
    revision_db.write_bytes(b"\x00garbage" * 512)
    at = page()
    (err,) = at.error
    assert err.value.startswith("Ta base de révision était illisible") and "corrompu-" in err.value
    aside = list(revision_db.parent.glob("revision.sqlite3.corrompu-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"\x00garbage" * 512
    assert at.button(key="rev-show")  # studying goes on, in a new database
    at.button(key="rev-show").click().run()
    assert at.error[0].value == err.value  # still said after a rerun


def test_an_unopenable_database_is_one_sentence(revision_db):
    revision_db.mkdir(parents=True)  # a folder where the file should be
    at = page()
    assert len(at.error) == 1 and at.error[0].value.startswith("La base de révision")
    assert not at.exception


def test_a_database_gone_mid_session_is_one_sentence(revision_db):
    at = page()
    at.button(key="rev-show").click().run()
    for side in revision_db.parent.iterdir():
        side.unlink()
    revision_db.mkdir()  # the file replaced by a folder: nothing can be written any more
    at.button(key="rev-grade-2").click().run()
    assert not at.exception
    (err,) = at.error
    assert err.value.startswith(f"La base de révision « {revision_db} »") and err.value.endswith("vérifie ses droits.")


def test_exam_tips_only(revision_db):
    at = page()
    at.sidebar.toggle[0].set_value(True).run()
    assert at.sidebar.toggle[0].label == "Conseils d'examen uniquement"
    for _ in range(3):
        context = next(c.value for c in at.main.caption if ":gray-badge[" in c.value)  # the line above the prompt
        assert context.startswith(":orange-badge[:material/school: Examen]")
        review(at)


def test_daily_cap_on_new_cards_is_kept(revision_db):
    at = page()
    at.sidebar.number_input[0].set_value(2).run()
    assert metrics(at)["Nouvelles"] == "2"
    review(at, grade=3)  # "Facile": not back for days (a "Bien" would come back early, within 20 min)
    review(at, grade=3)
    assert metrics(at)["Nouvelles"] == "0"
    assert any("Rien à réviser" in m.value for m in at.main.markdown)
    assert any("quota" in c.value for c in at.main.caption)
    assert page().sidebar.number_input[0].value == 2  # the setting is stored with the cards


def test_chat_request_for_a_service(revision_db):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["revision_request"] = {"service": SSM, "source": None, "lines": None}
    at.run()
    assert at.sidebar.multiselect[0].value == [SSM]
    assert shown_card(at).heading == SSM
    assert "revision_request" not in at.session_state


def test_chat_request_for_a_passage_puts_its_cards_first(revision_db):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["revision_request"] = {"service": None, "source": "other-services.md", "lines": [222]}
    at.run()
    assert seen(quotes(at)[0]) == "Durée max — AWS Lambda ?"
    review(at)
    assert seen(quotes(at)[0]) == "Durée max — AWS Batch ?"
    review(at)
    assert shown_card(at).line == 4  # then the usual queue


def test_a_passage_without_cards_says_so(revision_db):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["revision_request"] = {"source": "other-services.md", "lines": [2]}
    at.run()
    assert at.info[0].value.startswith("Ce passage ne donne aucune carte")


HOSTILE = """# Pièges

## Service piégé

- Balise <script>alert(1)</script> et **terme** <img src=x onerror=alert(1)>
- Emoji :smile: couleur :red[rouge] math $a^2$ **lien** [clic](javascript:alert(1))
"""


def test_note_text_is_shown_inert(revision_db, tmp_path, monkeypatch):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "p.md").write_text(HOSTILE, encoding="utf-8")
    monkeypatch.setenv(config.CORPUS_ENV, str(notes))
    at = page()
    shown = []
    for _ in range(2):
        at.button(key="rev-show").click().run()
        markup = quotes(at)[1]
        assert set(re.findall(r"<(\w+)", markup)) <= {"div", "mark", "strong"}  # no live HTML of the note
        assert "&lt;script&gt;" in markup or ":red[rouge] math $a^2$" in markup  # tags escaped, Markdown inert
        shown.append(seen(markup))
        at.button(key="rev-grade-2").click().run()
    assert shown == [note_shown(HOSTILE.split("\n")[i][2:]) for i in (4, 5)]


def test_missing_notes_folder_keeps_the_cards(revision_db, tmp_path, monkeypatch):
    page()  # cards synced from the shipped notes
    monkeypatch.setenv(config.CORPUS_ENV, str(tmp_path / "absent"))
    at = page()
    assert "introuvable" in at.warning[0].value
    with sqlite3.connect(revision_db) as con:
        assert con.execute("SELECT count(*) FROM cards WHERE retired_at IS NULL").fetchone()[0] == len(CARDS)


def test_reviser_is_a_page_of_the_app(revision_db, monkeypatch, built_index):
    monkeypatch.setenv(config.INDEX_ENV, str(built_index))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("ui/revision.py").run()
    assert not at.exception
    assert at.title[0].value == ":material/school: Réviser"
    review(at)
    assert metrics(at)["En cours"] == "1"
