"""Removing and restoring notes (trash), choosing the notes folder (settings), and the counts (inventory).

Writes happen in temporary folders; the inventory is checked on the shipped notes and the real model.
"""

import json
import os
from pathlib import Path

import pytest

from retrieval import Retriever, config
from retrieval.notes import inventory, settings, trash
from retrieval.notes.paths import TRASH_DIR, NotesError, UnsafePath
from retrieval.presentation import app_support as sup

ROOT = Path(__file__).resolve().parents[1]
NOTE = b"# Chapitre\n\n## Amazon SQS\n\n- Une file de messages\n"


@pytest.fixture
def notes(tmp_path):
    d = tmp_path / "notes"
    (d / "reseau").mkdir(parents=True)
    (d / "a.md").write_bytes(NOTE)
    (d / "reseau" / "vpc.md").write_bytes(b"# VPC\n")
    return d


# ----- trash ---------------------------------------------------------------------------------------
def test_remove_moves_to_the_trash_and_restore_puts_it_back(notes):
    moved = trash.remove(notes, "reseau/vpc.md")
    assert (moved.source, moved.target, moved.renamed) == ("reseau/vpc.md", f"{TRASH_DIR}/reseau/vpc.md", False)
    assert not (notes / "reseau" / "vpc.md").exists()
    assert (notes / TRASH_DIR / "reseau" / "vpc.md").read_bytes() == b"# VPC\n"
    assert [t.source for t in trash.items(notes)] == ["reseau/vpc.md"]

    back = trash.restore(notes, "reseau/vpc.md")
    assert back.target == "reseau/vpc.md" and not back.renamed
    assert (notes / "reseau" / "vpc.md").read_bytes() == b"# VPC\n"
    assert trash.items(notes) == []


def test_restore_accepts_the_path_remove_printed(notes):
    moved = trash.remove(notes, "a.md")
    assert trash.restore(notes, moved.target).target == "a.md"


def test_removing_twice_keeps_both_versions(notes):
    trash.remove(notes, "a.md")
    (notes / "a.md").write_bytes(b"# seconde version\n")
    second = trash.remove(notes, "a.md")
    assert second.renamed and second.target == f"{TRASH_DIR}/a (2).md"
    assert (notes / TRASH_DIR / "a.md").read_bytes() == NOTE
    assert (notes / TRASH_DIR / "a (2).md").read_bytes() == b"# seconde version\n"
    assert sorted(t.source for t in trash.items(notes)) == ["a (2).md", "a.md"]


def test_restore_never_overwrites_a_note_that_reappeared(notes):
    trash.remove(notes, "a.md")
    (notes / "a.md").write_bytes(b"# reecrite entre-temps\n")
    back = trash.restore(notes, "a.md")
    assert back.renamed and back.target == "a (2).md"
    assert (notes / "a.md").read_bytes() == b"# reecrite entre-temps\n"
    assert (notes / "a (2).md").read_bytes() == NOTE


def test_restore_recreates_a_removed_folder(notes):
    trash.remove(notes, "reseau/vpc.md")
    (notes / "reseau").rmdir()
    trash.restore(notes, "reseau/vpc.md")
    assert (notes / "reseau" / "vpc.md").is_file()


@pytest.mark.parametrize("source", ["../a.md", "/etc/passwd", "reseau/../../a.md", "C:/a.md"])
def test_remove_refuses_paths_outside(notes, source):
    with pytest.raises(UnsafePath):
        trash.remove(notes, source)


@pytest.mark.parametrize(
    "source, message",
    [
        ("absente.md", "n'est pas dans tes notes"),
        ("reseau", "n'est pas une note"),
        ("reseau/vpc.txt", "n'est pas une note"),
        (f"{TRASH_DIR}/a.md", "n'est pas une note"),
    ],
)
def test_remove_refuses_what_is_not_a_note(notes, source, message):
    before = sorted(p for p in notes.rglob("*"))
    with pytest.raises(NotesError, match=message):
        trash.remove(notes, source)
    assert sorted(p for p in notes.rglob("*")) == before


def test_restore_of_something_not_in_the_trash(notes):
    with pytest.raises(NotesError, match="n'est pas dans la corbeille"):
        trash.restore(notes, "a.md")
    with pytest.raises(UnsafePath):
        trash.restore(notes, "../../etc/passwd")


def test_trash_that_is_a_link_is_refused(notes, tmp_path):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (notes / TRASH_DIR).symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath, match="lien symbolique"):
        trash.remove(notes, "a.md")
    assert (notes / "a.md").is_file() and list(outside.iterdir()) == []
    assert trash.items(notes) == []


def test_note_behind_a_linked_folder_is_not_removed(notes, tmp_path):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / "b.md").write_bytes(NOTE)
    (notes / "lien").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath):
        trash.remove(notes, "lien/b.md")
    assert (outside / "b.md").is_file()


def test_missing_notes_folder(tmp_path):
    with pytest.raises(NotesError, match="introuvable"):
        trash.remove(tmp_path / "nulle-part", "a.md")
    assert trash.items(tmp_path / "nulle-part") == []


def test_trash_is_never_indexed(notes):
    from retrieval.corpus import discover

    trash.remove(notes, "a.md")
    assert [rel for rel, _ in discover(notes)] == ["reseau/vpc.md"]


# ----- settings: which notes folder ----------------------------------------------------------------
def test_precedence_env_then_settings_then_default(tmp_path, monkeypatch, notes):
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    assert settings.notes_dir(tmp_path) == ((tmp_path / "corpus").resolve(), "default")
    settings.save_notes_dir(tmp_path, notes)
    assert settings.notes_dir(tmp_path) == (notes.resolve(), "settings")
    assert sup.paths(tmp_path)[0] == notes.resolve(), "the app uses the remembered folder"
    monkeypatch.setenv(config.CORPUS_ENV, str(tmp_path / "env"))
    assert settings.notes_dir(tmp_path) == ((tmp_path / "env").resolve(), "env")
    assert sup.paths(tmp_path)[0] == (tmp_path / "env").resolve()


def test_settings_file_is_where_the_variable_says(tmp_path, monkeypatch, notes):
    path = tmp_path / "ailleurs" / "reglages.json"
    monkeypatch.setenv(config.SETTINGS_ENV, str(path))
    settings.save_notes_dir(tmp_path, notes)
    assert json.loads(path.read_text(encoding="utf-8")) == {"notes_dir": str(notes.resolve())}
    assert not (tmp_path / "data").exists()
    assert [p.name for p in path.parent.iterdir()] == ["reglages.json"], "no temporary file left"


def test_default_settings_file_is_data_beside_the_app(tmp_path, monkeypatch):
    monkeypatch.delenv(config.SETTINGS_ENV)
    assert settings.settings_path(tmp_path) == tmp_path / "data" / "settings.json"
    assert "/data/" in (ROOT / ".gitignore").read_text().split()  # the app's data/ (not tests/data)


def test_tests_never_touch_the_real_settings_file():
    assert settings.settings_path(ROOT) != ROOT / "data" / "settings.json"


@pytest.mark.parametrize("content", ["{pas du json", "[1, 2]", '{"notes_dir": 3}', ""])
def test_broken_settings_fall_back_to_the_default(tmp_path, monkeypatch, content):
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    settings.settings_path(tmp_path).write_text(content, encoding="utf-8")
    assert settings.notes_dir(tmp_path)[1] == "default"


def test_other_settings_are_kept(tmp_path, notes):
    settings.settings_path(tmp_path).write_text('{"theme": "sombre"}', encoding="utf-8")
    settings.save_notes_dir(tmp_path, notes)
    assert settings.load(tmp_path) == {"theme": "sombre", "notes_dir": str(notes.resolve())}


def test_check_accepts_a_folder_of_notes(notes):
    assert settings.check_notes_dir(str(notes)) == (notes.resolve(), "")
    assert settings.check_notes_dir(f"  {notes}/  ") == (notes.resolve(), "")


def test_check_accepts_notes_in_subfolders_only(tmp_path):
    (tmp_path / "coffre" / "cours").mkdir(parents=True)
    (tmp_path / "coffre" / "cours" / "s3.markdown").write_bytes(NOTE)
    assert settings.check_notes_dir(str(tmp_path / "coffre"))[1] == ""


def test_check_accepts_home_shortcut(tmp_path, monkeypatch, notes):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert settings.check_notes_dir("~/notes") == (notes.resolve(), "")


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Indique le chemin"),
        ("notes", "pas un chemin complet"),
        ("{tmp}/nulle-part", "n'existe pas"),
        ("{tmp}/notes/a.md", "est un fichier, pas un dossier"),
        ("{tmp}/vide", "ne contient aucune note Markdown"),
        ("{tmp}/cachees", "ne contient aucune note Markdown"),
    ],
)
def test_check_refuses_with_one_french_sentence(tmp_path, notes, typed, message):
    (tmp_path / "vide").mkdir()
    (tmp_path / "vide" / "lisez-moi.txt").write_text("rien")
    (tmp_path / "cachees" / ".obsidian").mkdir(parents=True)
    (tmp_path / "cachees" / ".obsidian" / "x.md").write_bytes(NOTE)
    folder, error = settings.check_notes_dir(typed.format(tmp=tmp_path))
    assert folder is None and message in error and "\n" not in error


def test_check_refuses_an_unreadable_folder(tmp_path, notes, monkeypatch):
    # root reads everything: simulate the missing permission
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    folder, error = settings.check_notes_dir(str(notes))
    assert folder is None and "n'est pas lisible" in error


# ----- inventory: counts per file and per heading ------------------------------------------------
def test_inventory_of_the_shipped_notes(retriever):
    inv = inventory.of_retriever(retriever)
    assert [(f.source, f.passages, f.headings, f.exam_tips) for f in inv.files] == [("other-services.md", 229, 10, 30)]
    assert inv.skipped == [] and inv.files[0].notes == [] and inv.files[0].modified is not None
    assert inv.to_json() == {
        "files": [{"source": "other-services.md", "passages": 229, "headings": 10, "exam_tips": 30}],
        "skipped": [],
    }


def test_heading_rows_of_the_shipped_notes(retriever):
    rows = inventory.heading_rows(retriever.chunks)
    assert sum(r.passages for r in rows) == 229 and sum(r.exam_tips for r in rows) == 30
    ses = next(r for r in rows if r.heading == "Amazon SES")  # the document title is not repeated
    assert (ses.source, ses.key, ses.passages, ses.exam_tips, ses.cards) == (
        "other-services.md",
        "Amazon SES",
        28,
        3,
        None,
    )
    assert len(rows) == 10 and all(r.cards is None for r in rows)


def test_heading_rows_with_cards(retriever):
    rows = inventory.heading_rows(retriever.chunks, {"Amazon SES": 4})
    assert {r.heading: r.cards for r in rows}["Amazon SES"] == 4
    assert all(r.cards == 0 for r in rows if r.heading != "Amazon SES")


def test_skipped_files_and_encoding_notes_come_from_the_build_report(tmp_path):
    notes = tmp_path / "notes"
    (notes / "sous").mkdir(parents=True)
    (notes / "bon.md").write_bytes(NOTE)
    (notes / "vide.md").write_bytes(b"   \n")
    (notes / "binaire (1).md").write_bytes(b"\x00\x01\x02" * 100)
    (notes / "sous" / "windows.md").write_bytes("## Sécurité\n\n- clé d'accès\n".encode("cp1252"))
    (notes / "titres.md").write_bytes(b"# Seulement un titre\n")
    r = Retriever.build(notes, tmp_path / "index")
    inv = inventory.of_retriever(r)
    assert {(s.source, s.reason) for s in inv.skipped} == {
        ("vide.md", "fichier vide"),
        ("binaire (1).md", "fichier binaire, pas du texte"),
    }
    by = {f.source: f for f in inv.files}
    assert set(by) == {"bon.md", "sous/windows.md", "titres.md"}
    assert by["titres.md"].passages == 0, "read but holding no passage: listed with 0"
    assert len(by["sous/windows.md"].notes) == 1 and "lu comme Windows-1252" in by["sous/windows.md"].notes[0]
    assert by["bon.md"].notes == []


def test_report_parsing_handles_parentheses_in_names(tmp_path):
    (tmp_path / "a (b).md").write_text("")
    lines = ["ignoré : a (b).md (fichier vide)", "ignoré : c.md (illisible : Permission denied)", "autre ligne"]
    assert [(s.source, s.reason) for s in inventory.parse_skipped(lines, tmp_path)] == [
        ("a (b).md", "fichier vide"),
        ("c.md", "illisible : Permission denied"),
    ]
    warnings = ["attention : a.md est en UTF-16 : converti", "attention : a.md.md dépasse 2 Mo : seul le début"]
    assert inventory.parse_warnings(warnings, ["a.md", "a.md.md"]) == {
        "a.md": ["est en UTF-16 : converti"],
        "a.md.md": ["dépasse 2 Mo : seul le début"],
    }
