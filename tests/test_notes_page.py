"""The "Mes notes" page, run headless with AppTest: real notes, real model, no mocks.

Anything that writes runs on a copy of the notes in a temporary folder; the chat page then
answers from what the notes page changed, as a student would check it.
"""

import html
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from readback import unrender_quote
from streamlit.testing.v1 import AppTest

from retrieval import config
from retrieval.notes import settings
from retrieval.notes.paths import TRASH_DIR
from revision.cards import cards_of

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
CORPUS = ROOT / "corpus"
CHAPTERS = ROOT / "tests" / "data" / "cheatsheet"
OBSIDIAN = ROOT / "tests" / "data" / "obsidian"
NEW_NOTE = "# Vision\n\n## Amazon Rekognition\n\n- Rekognition détecte les visages et les objets dans les images\n"
NEW_QUESTION = "c'est quoi Rekognition ?"
TMUX = "détacher une session tmux"
REF = re.compile(r"(.+\.(?:md|markdown)):(\d+)(?:[–, ]+\d+)*")  # a passage card's `fichier:lignes`


pytestmark = pytest.mark.usefixtures("fresh_streamlit_cache")


@pytest.fixture
def notes(tmp_path, monkeypatch):
    """A copy of the shipped notes, used by the app through $RETRIEVAL_CORPUS, with its own index."""
    d = tmp_path / "notes"
    d.mkdir()
    shutil.copy(CORPUS / "other-services.md", d)
    monkeypatch.setenv(config.CORPUS_ENV, str(d))
    monkeypatch.setenv(config.INDEX_ENV, str(tmp_path / "index"))
    return d


def open_notes_page(at=None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("ui/notes.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def table(at, n: int) -> list[dict]:
    return at.main.dataframe[n].value.to_dict("records")


def click(at, label: str, where=None):
    button = next(b for b in (where or at).button if b.label == label)
    button.click().run()
    assert not at.exception, at.exception
    return at


def upload(at, *files: tuple[str, bytes]):
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    return click(at, "Ajouter à mes notes")


def choose(at, label: str, value: str):
    next(s for s in at.selectbox if s.label == label).set_value(value).run()
    return at


def cited_files(at, question: str) -> list[str]:
    """Ask on the chat page; the files its passages are quoted from, best passage first."""
    at.switch_page("ui/chat.py").run()
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    last = at.main.chat_message[-1]
    refs = [html.unescape(re.sub(r"<[^>]*>", "", h.value.rpartition('<div class="rv-ref">')[2])) for h in last.html]
    return [m.group(1) for ref in refs if (m := REF.fullmatch(ref))]


def alerts(at, kind: str) -> str:
    """The text of the page's alerts of one kind, Markdown escapes removed."""
    return " ".join(unrender_quote(e.value) for e in getattr(at.main, kind))


def chapters_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(CHAPTERS.glob("*.md")):
            z.write(p, f"chapitres/{p.name}")
        z.writestr("chapitres/images/schema.png", b"\x89PNG")
    return buf.getvalue()


# ----- the counts ----------------------------------------------------------------------------------
def test_counts_on_the_shipped_notes(monkeypatch, built_index):
    monkeypatch.setenv(config.INDEX_ENV, str(built_index))
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    at = open_notes_page()
    assert not at.error
    assert metrics(at) == {"Fichiers": "1", "Passages": "229", "Conseils d'examen": "30"}
    files = table(at, 0)
    assert [(f["Fichier"], f["Passages"], f["Rubriques"], f["Conseils d'examen"]) for f in files] == [
        ("other-services.md", 229, 10, 30)
    ]
    assert files[0]["Modifié le"] is not None and "Remarques" not in files[0], "no empty remarks column"
    headings = table(at, 1)
    assert len(headings) == 10 and sum(h["Passages"] for h in headings) == 229
    assert sum(h["Conseils d'examen"] for h in headings) == 30
    # The study cards per heading, from the Réviser page's own extraction.
    cards = cards_of(CORPUS)
    ses_cards = sum(c.heading == "Amazon SES" for c in cards)
    assert ses_cards > 0
    assert {
        "Rubrique": "Amazon SES",
        "Passages": 28,
        "Conseils d'examen": 3,
        "Cartes": ses_cards,
        "Fichier": "other-services.md",
    } in headings
    assert sum(h["Cartes"] for h in headings) == len(cards)
    assert any("corbeille est vide" in c.value for c in at.main.caption)
    assert not (CORPUS / TRASH_DIR).exists()


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_skipped_files_and_encoding_notes_are_shown(notes):
    (notes / "vide.md").write_bytes(b"\n\n")
    (notes / "windows.md").write_bytes("## Clés\n\n- clé d'accès\n".encode("cp1252"))
    at = open_notes_page()
    by = {f["Fichier"]: f for f in table(at, 0)}
    assert "lu comme Windows-1252" in by["windows.md"]["Remarques"]
    assert table(at, 1) == [{"Fichier": "vide.md", "Raison": "fichier vide"}]
    assert "vide.md" in next(s for s in at.selectbox if s.label == "Note à retirer").options


# ----- adding --------------------------------------------------------------------------------------
@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_upload_a_note_then_a_question_finds_it(notes):
    at = open_notes_page()
    assert "nouveau.md" not in cited_files(at, NEW_QUESTION)
    at = open_notes_page(at)
    upload(at, ("nouveau.md", NEW_NOTE.encode()))
    assert "Ajouté dans tes notes" in alerts(at, "success") and "nouveau.md" in alerts(at, "success")
    assert (notes / "nouveau.md").read_text(encoding="utf-8") == NEW_NOTE
    assert metrics(at)["Fichiers"] == "2"
    assert metrics(at)["Passages"] == "230"
    assert "Index à jour : 230 passages, 2 fichier(s)." in [unrender_quote(c.value) for c in at.main.caption]
    assert cited_files(at, NEW_QUESTION)[0] == "nouveau.md"


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_notes_edited_elsewhere_are_counted_on_arrival(notes):
    at = open_notes_page()
    (notes / "obsidian.md").write_text(NEW_NOTE, encoding="utf-8")  # saved from another editor
    at.run()
    assert metrics(at) == {"Fichiers": "2", "Passages": "230", "Conseils d'examen": "30"}
    assert "Fichiers \\: 2" in [c.value for c in at.sidebar.caption], "the sidebar shows the same index"


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_replace_asks_first_and_keeps_the_old_version(notes):
    original = (notes / "other-services.md").read_bytes()
    at = open_notes_page()
    upload(at, ("other-services.md", original))
    assert "à l'identique" in alerts(at, "info") and not at.main.warning

    upload(at, ("other-services.md", NEW_NOTE.encode()))
    assert "« other-services.md » existe déjà avec un autre contenu. La remplacer ?" in alerts(at, "warning")
    assert (notes / "other-services.md").read_bytes() == original, "nothing replaced before a yes"
    click(at, "Garder mes versions")
    assert "Gardé tel quel" in alerts(at, "info") and not at.main.warning
    assert (notes / "other-services.md").read_bytes() == original

    upload(at, ("other-services.md", NEW_NOTE.encode()))
    click(at, "Remplacer")
    assert "Remplacé" in alerts(at, "success") and not at.main.warning
    assert (notes / "other-services.md").read_text(encoding="utf-8") == NEW_NOTE
    assert (notes / TRASH_DIR / "other-services.md").read_bytes() == original, "the old version is restorable"
    assert metrics(at) == {"Fichiers": "1", "Passages": "1", "Conseils d'examen": "0"}
    assert [t["Dans la corbeille"] for t in table(at, 2)] == ["other-services.md"]


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_unsafe_zip_is_one_error_and_writes_nothing(notes, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bonne.md", NEW_NOTE)
        z.writestr("../evil.md", NEW_NOTE)
    at = open_notes_page()
    upload(at, ("piege.zip", buf.getvalue()))
    assert len(at.main.error) == 1 and "rien n'a été écrit" in at.main.error[0].value
    assert sorted(p.name for p in tmp_path.rglob("*.md")) == ["other-services.md"]


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_hostile_file_name_stays_text(notes):
    name = "<img src=x onerror=alert(1)> :red[rouge] $x$.md"
    at = open_notes_page()
    upload(at, (name, NEW_NOTE.encode()))
    assert (notes / name).is_file()
    for m in [*at.main.markdown, *at.main.success]:
        assert not re.search(r"(?<!\\)<img", m.value) and not re.search(r"(?<!\\):red\[", m.value), m.value
    assert name in [f["Fichier"] for f in table(at, 0)]


# ----- the "done when" of the issue -----------------------------------------------------------------
@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_zip_of_three_chapters_listed_asked_removed_restored(notes):
    at = open_notes_page()
    # 1. drops a zip of three chapters
    upload(at, ("chapitres.zip", chapters_zip()))
    assert not at.main.error
    assert "chapitres/outils.md" in alerts(at, "success")
    assert "1 fichier qui n'est pas du Markdown laissé de côté (.png)" in alerts(at, "info")
    # 2. sees them listed with their counts
    files = {f["Fichier"]: f for f in table(at, 0)}
    for chapter in ["aws-essentiels.md", "conteneurs.md", "outils.md"]:
        row = files[f"chapitres/{chapter}"]
        assert row["Passages"] > 0 and row["Rubriques"] > 0
    assert metrics(at)["Fichiers"] == "4"
    # 3. asks a question answered from one of them
    assert "chapitres/outils.md" in cited_files(at, TMUX)
    # 4. removes a chapter and sees its passages gone from answers
    at = open_notes_page(at)
    choose(at, "Note à retirer", "chapitres/outils.md")
    click(at, "Mettre à la corbeille")
    assert "est dans la corbeille" in alerts(at, "success")
    assert "chapitres/outils.md" not in {f["Fichier"] for f in table(at, 0)}
    assert (notes / TRASH_DIR / "chapitres" / "outils.md").read_bytes() == (CHAPTERS / "outils.md").read_bytes()
    assert "chapitres/outils.md" not in cited_files(at, TMUX)
    # 5. restores it
    at = open_notes_page(at)
    choose(at, "Note à restaurer", "chapitres/outils.md")
    click(at, "Restaurer")
    assert "est de retour" in alerts(at, "success")
    assert (notes / "chapitres" / "outils.md").read_bytes() == (CHAPTERS / "outils.md").read_bytes()
    assert "chapitres/outils.md" in cited_files(at, TMUX)
    # nothing lost: every byte of every chapter is in the notes, and nothing is left in the trash
    assert not any(p.is_file() for p in (notes / TRASH_DIR).rglob("*"))


# ----- the notes folder in the sidebar -------------------------------------------------------------
def folder_field(at):
    return next(t for t in at.sidebar.text_input if t.label == "Chemin du dossier")


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_folder_chooser_checks_then_switches_and_remembers(monkeypatch, tmp_path):
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    monkeypatch.setenv(config.INDEX_ENV, str(tmp_path / "index"))
    vault = tmp_path / "coffre"
    shutil.copytree(OBSIDIAN, vault)
    at = open_notes_page()
    assert folder_field(at).value == str(CORPUS.resolve())

    folder_field(at).set_value(str(tmp_path / "nulle-part"))
    click(at, "Utiliser ce dossier", at.sidebar)
    assert len(at.sidebar.error) == 1 and "n'existe pas" in at.sidebar.error[0].value
    assert not settings.settings_path(ROOT).exists(), "a bad path is not remembered"
    assert metrics(at)["Passages"] == "229", "the previous folder stays in use"

    folder_field(at).set_value(str(vault))
    click(at, "Utiliser ce dossier", at.sidebar)
    assert not at.sidebar.error and "Dossier de notes" in at.sidebar.success[0].value
    assert settings.notes_dir(ROOT) == (vault.resolve(), "settings")
    assert {f["Fichier"] for f in table(at, 0)} == {
        "Bases de données.md",
        "Sécurité et identité.md",
        "Réseau/Route 53 et CloudFront.md",
        "Réseau/VPC et connectivité.md",
    }

    # a restart: a new process, the cache empty, the folder remembered
    st.cache_resource.clear()
    again = open_notes_page()
    assert folder_field(again).value == str(vault.resolve())
    assert metrics(again)["Fichiers"] == "4"


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_folder_set_by_the_variable_is_shown_not_editable(notes):
    at = open_notes_page()
    assert not [t for t in at.sidebar.text_input if t.label == "Chemin du dossier"]
    assert any("RETRIEVAL_CORPUS" in c.value for c in at.sidebar.caption)


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_vanished_folder_can_be_changed_from_the_sidebar(monkeypatch, tmp_path):
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    monkeypatch.setenv(config.INDEX_ENV, str(tmp_path / "index"))
    settings.save_notes_dir(ROOT, tmp_path / "debranche")  # a USB stick that was unplugged
    at = open_notes_page()
    assert len(at.main.error) == 1 and "introuvable" in at.main.error[0].value
    folder_field(at).set_value(str(CORPUS))
    click(at, "Utiliser ce dossier", at.sidebar)
    assert not at.main.error and metrics(at)["Passages"] == "229"
