"""Reliability, third pass (issue 23): the Anki export, the zip import, Réviser and the folder chooser
lose nothing and never brick the app. One test (or a few) per defect, on real notes."""

import io
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from revision import cli as revision_cli

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
NOTES = CORPUS / "other-services.md"


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(NOTES, folder / NOTES.name)
    return folder


def one_french_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("Erreur : ") and err.count("\n") == 1, err
    return err


# ----- 1. the Anki export never writes over a note --------------------------------------------------
def test_anki_export_refuses_to_overwrite_a_note(notes, capsys):
    note = notes / NOTES.name
    before = note.read_bytes()
    assert revision_cli.main(["export", "--anki", str(note), "--corpus", str(notes)]) == 2
    assert "apkg" in one_french_line(capsys)
    assert note.read_bytes() == before


def test_anki_export_writes_only_apkg_and_overwrites_only_with_force(notes, tmp_path, capsys):
    other = tmp_path / "liste.txt"
    assert revision_cli.main(["export", "--anki", str(other), "--corpus", str(notes)]) == 2
    one_french_line(capsys)
    assert not other.exists()
    out = tmp_path / "r.apkg"
    out.write_bytes(b"ancien paquet")
    assert revision_cli.main(["export", "--anki", str(out), "--corpus", str(notes)]) == 2
    assert "--force" in one_french_line(capsys)
    assert out.read_bytes() == b"ancien paquet"
    assert revision_cli.main(["export", "--anki", str(out), "--corpus", str(notes), "--force"]) == 0
    assert zipfile.is_zipfile(out)


def test_anki_export_of_an_empty_folder_says_so(tmp_path, capsys):
    empty = tmp_path / "vide"
    empty.mkdir()
    (empty / "n.md").write_text("# Titre\n\nRien à réviser ici.\n", encoding="utf-8")
    out = tmp_path / "r.apkg"
    assert revision_cli.main(["export", "--anki", str(out), "--corpus", str(empty)]) == 2
    err = one_french_line(capsys)
    assert "Aucune carte" in err and "paquet )" not in err and not out.exists()


# ----- 9. every entry point reads the same notes folder ---------------------------------------------
def test_revision_cli_reads_the_app_notes_folder(notes, tmp_path, monkeypatch, capsys):
    """No --corpus: $RETRIEVAL_CORPUS, then the folder chosen on the page, then corpus/ beside app.py."""
    from retrieval.notes import settings

    (notes / "extra.md").write_text("# Extra\n## Glacier\n- Classe **Deep Archive** : la moins chère\n", "utf-8")
    monkeypatch.chdir(tmp_path)  # not the app folder: ./corpus does not exist here
    monkeypatch.setenv("RETRIEVAL_CORPUS", str(notes))
    assert revision_cli.main(["cards", "--json"]) == 0
    sources = {c["source"] for c in json.loads(capsys.readouterr().out)["cards"]}
    assert "extra.md" in sources
    monkeypatch.delenv("RETRIEVAL_CORPUS")
    settings.save_notes_dir(ROOT, notes)
    assert revision_cli.main(["cards", "--json"]) == 0
    assert "extra.md" in {c["source"] for c in json.loads(capsys.readouterr().out)["cards"]}
    os.unlink(settings.settings_path(ROOT))
    assert revision_cli.main(["cards", "--json"]) == 0
    assert {c["source"] for c in json.loads(capsys.readouterr().out)["cards"]} == {"other-services.md"}


def test_retrieval_cli_reads_the_app_notes_folder(tmp_path, monkeypatch):
    from retrieval import cli

    seen = {}

    def fake_build(args):
        seen["corpus"], seen["index"] = Path(args.corpus), Path(args.index)
        return 0

    monkeypatch.setattr(cli, "_cmd_build", fake_build)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETRIEVAL_CORPUS", str(tmp_path / "mes-notes"))
    monkeypatch.delenv("RETRIEVAL_INDEX", raising=False)
    assert cli.main(["build"]) == 0
    assert seen == {"corpus": tmp_path / "mes-notes", "index": ROOT / "index"}


# ----- 12. imported notes follow the umask, like the notes already there ----------------------------
def test_imported_notes_follow_the_umask(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cours/b.md", "# B\n- b\n")
    old = os.umask(0o022)
    try:
        importing.add_upload(notes, "a.md", b"# A\n- a\n")
        importing.add_upload(notes, "cours.zip", buf.getvalue())
    finally:
        os.umask(old)
    for rel in ("a.md", "cours/b.md"):
        assert stat.S_IMODE((notes / rel).stat().st_mode) == 0o644, rel


# ----- 2. no folder shape can crash a scan; a deep archive is refused -------------------------------
def _zip(entries: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("depth", [40, 1000])
def test_a_note_too_many_folders_deep_is_refused_at_import(tmp_path, depth):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    data = _zip({"ok.md": "# Ok\n- ok\n", "d/" * depth + "x.md": "# X\n- x\n"})
    with pytest.raises(importing.ImportRefused, match="niveaux de dossiers") as e:
        importing.add_upload(notes, "profond.zip", data)
    assert "rien n'a été écrit" in str(e.value)
    assert list(notes.iterdir()) == []


@pytest.fixture
def deep_cleanup():
    """Deep folders made by a test are removed by it: shutil.rmtree (pytest's cleanup) recurses and would crash."""
    roots: list[Path] = []
    yield roots
    from retrieval.corpus import walk

    for root in roots:
        folders = []
        for folder, _, files in walk(root, max_depth=10_000):
            folders.append(folder)
            for f in files:
                os.unlink(os.path.join(folder, f))
        for folder in reversed(folders):
            os.rmdir(folder)


def _deep(root: Path, depth: int, name: str = "x.md") -> Path:
    folder = str(root)
    for _ in range(depth):
        folder += "/d"
        os.mkdir(folder)
    Path(folder, name).write_text("# Profond\n## S\n- une puce **profonde** ici\n", encoding="utf-8")
    return Path(folder)


def test_a_folder_a_thousand_levels_deep_crashes_no_scan(notes, tmp_path, deep_cleanup):
    from retrieval.corpus import CorpusReport, discover, parse_notes
    from retrieval.notes import settings, trash
    from revision.cards import cards_of

    deep_cleanup += [notes / "d", notes / ".corbeille", tmp_path / "seul"]
    _deep(notes, 1000)
    (notes / ".corbeille").mkdir()
    _deep(notes / ".corbeille", 1000, "y.md")
    report = CorpusReport()
    assert [rel for rel, _ in discover(notes, report)] == [NOTES.name]
    assert any("niveaux" in line for line in report.lines())
    chunks, _ = parse_notes(notes)
    assert chunks and {c.source for c in chunks} == {NOTES.name}
    assert {c.source for c in cards_of(notes)} == {NOTES.name}
    assert settings.check_notes_dir(str(notes)) == (notes.resolve(), "")
    assert trash.items(notes) == []  # listed no deeper than a note can be
    only_deep = tmp_path / "seul"
    only_deep.mkdir()
    _deep(only_deep, 1000)
    folder, error = settings.check_notes_dir(str(only_deep))
    assert folder is None and "aucune note" in error
