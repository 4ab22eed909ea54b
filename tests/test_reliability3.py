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

from retrieval import config
from revision import cli as revision_cli

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
NOTES = CORPUS / "other-services.md"


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
    from retrieval.presentation import cli

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


# ----- 7. names written decomposed (NFD, as macOS writes them) are the same names -------------------
def test_a_note_with_a_decomposed_name_can_be_removed_restored_and_is_not_imported_twice(tmp_path):
    import unicodedata

    from retrieval.notes import importing, trash

    notes = tmp_path / "notes"
    nfd_folder = unicodedata.normalize("NFD", "Réseau")
    (notes / nfd_folder).mkdir(parents=True)
    nfd = unicodedata.normalize("NFD", "Sécurité.md")
    body = b"# S\n- une puce\n"
    (notes / nfd_folder / nfd).write_bytes(body)
    # the NFC name of the same note, from a zip or the upload box: the same note, not a second one
    rep = importing.add_upload(notes, "cours.zip", _zip({"Réseau/Sécurité.md": body}))
    assert [i.status for i in rep.items] == [importing.UNCHANGED]
    rep = importing.add_upload(notes, "cours.zip", _zip({"Réseau/Sécurité.md": body + b"- autre\n"}))
    assert [i.status for i in rep.items] == [importing.KEPT]
    assert os.listdir(notes) == [nfd_folder] and os.listdir(notes / nfd_folder) == [nfd]
    # removed by its NFC name (typed) as well as by the name the page lists (NFD, as on disk)
    moved = trash.remove(notes, "Réseau/Sécurité.md")
    assert not (notes / nfd_folder / nfd).exists()
    back = trash.restore(notes, moved.target)
    assert not back.renamed and (notes / nfd_folder / nfd).read_bytes() == body
    trash.remove(notes, f"{nfd_folder}/{nfd}")
    assert os.listdir(notes / nfd_folder) == []


# ----- 13. the import's messages and edge cases -----------------------------------------------------
def test_a_macos_icon_entry_is_skipped_and_counted(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    rep = importing.add_upload(notes, "v.zip", _zip({"Icon\r": b"", "cours/Icon\r": b"", "a.md": "# A\n- a\n"}))
    assert [(i.source, i.status) for i in rep.items] == [("a.md", importing.ADDED)]
    assert sum(rep.ignored.values()) == 2 and any("Icon" in line for line in rep.lines())


def test_an_empty_zip_says_there_was_no_note(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    rep = importing.add_upload(notes, "vide.zip", _zip({}))
    assert rep.lines() == ["ignoré : aucune note Markdown (.md ou .markdown) dans « vide.zip »"]
    rep = importing.add_upload(notes, "images.zip", _zip({"a.png": b"x"}))
    assert "aucune note Markdown" in rep.lines()[-1]


def test_a_bad_crc_is_said_in_french(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    data = bytearray(_zip({"a.md": "# A\n- une puce assez longue pour le test\n"}))
    i = data.index(b"une puce")
    data[i : i + 3] = b"UNE"  # stored, not deflated: the bytes read back differ from their CRC
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("b.md", "# B\n" + "".join(f"- puce {n} sur le stockage\n" for n in range(400)))
    deflated = bytearray(buf.getvalue())
    deflated[60:70] = b"\xff" * 10  # inside the compressed stream
    for bad in (data, deflated):
        with pytest.raises(importing.ImportRefused) as e:
            importing.add_upload(notes, "abime.zip", bytes(bad))
        msg = str(e.value)
        assert "(error)" not in msg and "BadZipFile" not in msg, msg
        assert "endommagée" in msg and "rien n'a été écrit" in msg
        assert list(notes.iterdir()) == []


def test_a_file_and_a_folder_of_the_same_name_refuse_the_archive_whole(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    with pytest.raises(importing.ImportRefused, match="fichier et un dossier"):
        importing.add_upload(notes, "f.zip", _zip({"f.md": "# F\n- f\n", "f.md/y.md": "# Y\n- y\n"}))
    assert list(notes.iterdir()) == []


def test_a_binary_md_is_refused_at_import_not_added(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    blob = bytes(range(256)) * 40
    rep = importing.add_upload(notes, "v.zip", _zip({"image.md": blob, "a.md": "# A\n- a\n"}))
    assert [(i.source, i.status) for i in rep.items] == [("image.md", importing.SKIPPED), ("a.md", importing.ADDED)]
    assert "binaire" in rep.items[0].reason and not (notes / "image.md").exists()
    rep = importing.add_upload(notes, "seul.md", blob)
    assert rep.items[0].status == importing.SKIPPED and not (notes / "seul.md").exists()
    utf16 = "# Notes\n- une puce\n".encode("utf-16")  # Notepad's "Unicode": text, kept
    assert importing.add_upload(notes, "u.md", utf16).items[0].status == importing.ADDED


def test_notes_add_checks_the_name_before_reading_and_never_opens_a_fifo(tmp_path, monkeypatch):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    big = tmp_path / "film.mp4"
    big.write_bytes(b"\0" * 1024)
    real_open = open

    def no_read(path, *a, **k):
        if Path(path) == big:
            raise AssertionError("read before its name was checked")
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", no_read)
    rep = importing.add_path(notes, big)
    assert rep.items[0].status == importing.SKIPPED and "Markdown" in rep.items[0].reason
    monkeypatch.undo()
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    with pytest.raises(importing.ImportRefused, match="pas un fichier ordinaire"):
        importing.add_path(notes, fifo)  # would block forever on open()
    zfifo = tmp_path / "fifo.zip"
    os.mkfifo(zfifo)
    with pytest.raises(importing.ImportRefused, match="pas un fichier ordinaire"):
        importing.add_path(notes, zfifo)


# ----- 4. the folder chooser: a link loop or an unknown ~user is one French sentence ----------------
@pytest.mark.parametrize("typed", ["{tmp}/boucle", "{tmp}/boucle/notes", "~personne-inconnue-xyz/notes"])
def test_the_chooser_says_a_bad_path_in_one_sentence(tmp_path, typed):
    from retrieval.notes import settings

    os.symlink(tmp_path / "boucle", tmp_path / "boucle")
    folder, error = settings.check_notes_dir(typed.format(tmp=tmp_path))
    assert folder is None and error and "\n" not in error


def test_a_saved_folder_with_an_unknown_user_falls_back_instead_of_crashing(monkeypatch):
    from retrieval.notes import settings

    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    path = settings.settings_path(ROOT)
    path.write_text(json.dumps({"notes_dir": "~personne-inconnue-xyz/notes"}), encoding="utf-8")
    assert settings.notes_dir(ROOT) == ((ROOT / "corpus").resolve(), "default")


# ----- 13. the chooser refuses the app folder that every page would then refuse --------------------
def test_the_chooser_refuses_a_folder_that_holds_the_index(tmp_path):
    from retrieval.notes import settings

    index = tmp_path / "appli" / "index"
    index.mkdir(parents=True)
    (tmp_path / "appli" / "README.md").write_text("# Lisez-moi\n", encoding="utf-8")
    folder, error = settings.check_notes_dir(str(tmp_path / "appli"), index)
    assert folder is None and "index" in error and "\n" not in error
    # the app folder itself, with the app's own index folder
    folder, error = settings.check_notes_dir(str(ROOT))
    assert folder is None and "index" in error


# ----- 13. Réviser names where the missing folder came from -----------------------------------------
def test_a_missing_folder_is_blamed_on_where_it_came_from(tmp_path, monkeypatch):
    from retrieval.notes import settings

    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    gone = tmp_path / "partie"
    gone.mkdir()
    settings.save_notes_dir(ROOT, gone)
    gone.rmdir()
    hint = settings.folder_hint()
    assert config.CORPUS_ENV not in hint and "panneau latéral" in hint
    monkeypatch.setenv(config.CORPUS_ENV, str(gone))
    assert config.CORPUS_ENV in settings.folder_hint()


def test_reviser_blames_the_chosen_folder_not_the_variable(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from retrieval.notes import settings

    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    gone = tmp_path / "partie"
    gone.mkdir()
    settings.save_notes_dir(ROOT, gone)
    gone.rmdir()
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "revision_page.py"), default_timeout=60).run()
    assert not at.exception
    assert "introuvable" in at.warning[0].value and config.CORPUS_ENV not in at.warning[0].value


# ----- 5. a corrupt database that cannot be moved aside ---------------------------------------------
def test_a_corrupt_database_in_a_read_only_folder_is_one_sentence_and_kept(tmp_path, monkeypatch):
    from datetime import datetime, timezone

    from revision import app_support as rsup
    from revision.store import StoreUnreadable

    db = tmp_path / "data" / "revision.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"\x00abime" * 512)

    def refuse(self, target):  # root ignores a read-only folder: the refusal is simulated
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(StoreUnreadable, match="vérifie ses droits") as e:
        rsup.open_store(db, datetime(2025, 3, 3, tzinfo=timezone.utc))
    assert "\n" not in str(e.value)
    assert db.read_bytes() == b"\x00abime" * 512 and os.listdir(db.parent) == ["revision.sqlite3"]


# ----- 6. settings.json: capped, never crashes, read once per change --------------------------------
def test_a_deeply_nested_or_huge_settings_file_falls_back_to_the_defaults(monkeypatch):
    from retrieval.notes import settings

    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    path = settings.settings_path(ROOT)
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert settings.load(ROOT) == {}
    assert settings.notes_dir(ROOT)[1] == "default"
    path.write_text('{"notes_dir": "/x", "pad": "' + "a" * (settings.MAX_SETTINGS_BYTES + 10) + '"}', "utf-8")
    assert settings.load(ROOT) == {}


def test_settings_are_read_once_per_change(tmp_path, monkeypatch):
    from retrieval.notes import settings

    path = settings.settings_path(ROOT)
    settings.save_notes_dir(ROOT, tmp_path)
    reads = []
    for name in ("read_bytes", "read_text"):
        real = getattr(Path, name)

        def counted(self, *a, _real=real, **k):
            if self == path:
                reads.append(1)
            return _real(self, *a, **k)

        monkeypatch.setattr(Path, name, counted)
    for _ in range(5):
        assert settings.load(ROOT)["notes_dir"] == str(tmp_path.resolve())
    assert len(reads) <= 1
    other = tmp_path / "autre"
    other.mkdir()
    settings.save_notes_dir(ROOT, other)
    assert settings.load(ROOT)["notes_dir"] == str(other.resolve())  # a change is seen at once


# ----- 8. a card keeps its history through a heading or parent rename and a move --------------------
def test_cards_keep_their_history_through_renames_and_moves(tmp_path, notes):
    from datetime import datetime, timedelta, timezone

    from revision.store import Store
    from revision.sync import sync_notes

    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    store = Store.open(tmp_path / "revision.sqlite3")
    got, _ = sync_notes(store, notes, t0)
    for c in got.cards:
        store.review(c.id, "Bien", t0)
    reviewed = len(got.cards)
    path = notes / NOTES.name
    text = path.read_text(encoding="utf-8")

    def edit(old: str, new: str, minutes: int):
        nonlocal text
        assert old in text, old
        text = text.replace(old, new, 1)  # the first one: CloudFormation's
        path.write_text(text, encoding="utf-8")
        cards, report = sync_notes(store, notes, t0 + timedelta(minutes=minutes))
        states = store.states()
        assert report is not None and report.retired == 0 and report.added == 0, report
        assert all(states[c.id].reps == 1 for c in cards.cards)  # every card kept its review
        assert len(store.reviews()) == reviewed  # and the log moved with it, nothing lost
        return cards

    cf = [c for c in got.cards if c.heading == "CloudFormation"]
    assert len(cf) == 31
    after = edit("## CloudFormation\n", "## AWS CloudFormation\n", 1)
    assert sum(c.heading == "AWS CloudFormation" for c in after.cards) == 31
    edit("- **Fonctionnalités clés**  \n", "- **Fonctionnalités principales**  \n", 2)
    stack = "\t  - **Stack** = ensemble de ressources"
    line = next(x for x in text.split("\n") if x.startswith(stack)) + "\n"
    text = text.replace(line, "")
    moved = edit("\t  - EC2, S3, RDS, VPC, IAM, Lambda", line + "\t  - EC2, S3, RDS, VPC, IAM, Lambda", 3)
    assert any(c.text.startswith("  - **Stack**") or "**Stack** =" in c.text for c in moved.cards)


# ----- 14. « X n'apparaît pas dans tes notes » is never false -----------------------------------------
def _compare_questions() -> list[tuple[str, str]]:
    out = [("pinpoint vs sns", "corpus"), ("ses ou pinpoint ?", "corpus"), ("différence entre sqs et sns", "corpus")]
    for path in sorted((ROOT / "eval").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else {}
            if item.get("kind") == "compare":
                out.append((item["q"], item.get("corpus", "corpus")))
    return out


def test_a_compared_name_the_notes_write_is_never_said_absent():
    import re

    from retrieval.corpus import parse_notes
    from retrieval.lexical import LexicalIndex
    from retrieval.parsing import index_text
    from retrieval.ranking import CorpusView
    from retrieval.text import fold

    questions = _compare_questions()
    assert len(questions) > 60
    corpora: dict[str, tuple] = {}
    checked = 0
    for q, corpus in questions:
        if corpus not in corpora:
            chunks, _ = parse_notes(ROOT / corpus)
            text = fold("\n".join(p.read_text(encoding="utf-8") for p in (ROOT / corpus).rglob("*.md"))).lower()
            corpora[corpus] = (CorpusView.of(chunks), LexicalIndex.build([index_text(c) for c in chunks]), text)
        view, lexical, text = corpora[corpus]
        reading = view.catalog.read(q)
        for term in reading.terms:
            written = re.search(rf"(?<!\w){re.escape(fold(term).lower())}(?!\w)", text) is not None
            assert not (written and term in lexical.missing([term])), (q, term)
            checked += 1
    assert checked > 100


# ----- 10. gibberish is refused, covered keyword questions are not ------------------------------------
GIBBERISH = [
    *("asdf qwer zxcv", "lorem ipsum dolor sit amet", "null undefined NaN"),
    *("{0} %s %(x)s {{}}", "../../../../etc/passwd"),
]


@pytest.mark.parametrize("question", GIBBERISH)
def test_gibberish_is_refused(retriever, question):
    assert retriever.ask(question).passages == []


@pytest.mark.parametrize(
    "question", ["Drift Detection", "feedback loop", "nested stacks", "Patch Manager vs Maintenance Windows"]
)
def test_keyword_questions_are_still_answered(retriever, question):
    assert retriever.ask(question).passages


# ----- 3. a "slow bomb": few bytes, many passages -----------------------------------------------------
def test_an_import_is_capped_in_passages_and_estimated_before_writing(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    bomb = "# Bombe\n## S\n" + "".join(f"- puce numéro {n} sur le sujet {n * 7919 % 100003}\n" for n in range(30_000))
    data = _zip({"bombe.md": bomb})
    assert len(data) < 2 * 1024 * 1024 < importing.MAX_TOTAL_BYTES  # inside the byte caps
    with pytest.raises(importing.ImportRefused, match="passages") as e:
        importing.preview("bombe.zip", data)
    assert "min" in str(e.value) and "rien n'a été écrit" in str(e.value)
    with pytest.raises(importing.ImportRefused, match="passages"):
        importing.add_upload(notes, "bombe.zip", data)
    assert list(notes.iterdir()) == []
    # a big import inside the cap: its passages and embedding time are known before anything is written
    big = "# Gros\n## S\n" + "".join(f"- puce {n} du cours {n * 31}\n" for n in range(3_000))
    pv = importing.preview("gros.zip", _zip({"gros.md": big}))
    assert pv.passages == 3_000 and pv.big and pv.seconds == pytest.approx(3_000 / importing.EMBED_PER_SECOND)
    assert "3 000 passages" in pv.warning() and "min" in pv.warning()
    assert list(notes.iterdir()) == []
    small = importing.preview("a.md", b"# A\n## S\n- une puce\n- une autre\n")
    assert small.passages == 2 and not small.big


@pytest.mark.slow
def test_the_page_asks_before_a_big_import_and_writes_nothing_until_then(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(NOTES, notes)
    monkeypatch.setenv(config.CORPUS_ENV, str(notes))
    monkeypatch.setenv(config.INDEX_ENV, str(tmp_path / "index"))
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("ui/notes.py").run()
    big = "# Gros\n## S\n" + "".join(f"- puce {n} du cours {n * 31}\n" for n in range(3_000))
    at.file_uploader[0].set_value([("gros.zip", _zip({"gros.md": big}), "application/zip")]).run()
    next(b for b in at.button if b.label == "Ajouter à mes notes").click().run()
    assert not at.exception, at.exception
    assert any("3 000 passages à encoder" in w.value and "min" in w.value for w in at.warning)
    assert sorted(os.listdir(notes)) == [NOTES.name]  # asked first: nothing written yet
    next(b for b in at.button if b.label == "Annuler").click().run()
    assert not at.exception and sorted(os.listdir(notes)) == [NOTES.name]
    st.cache_resource.clear()


# ----- load bench: N sessions through Streamlit's own protocol ----------------------------------------
def test_load_bench_is_bounded():
    from retrieval.tools.bench import load

    for bad in ([0], [load.MAX_SESSIONS + 1]):
        with pytest.raises(ValueError, match="sessions"):
            load.load(bad)


@pytest.mark.slow
def test_load_bench_drives_chat_sessions_through_streamlit():
    from retrieval.tools.bench import load

    (row,) = load.load([2], questions=2, timeout=120)
    assert row["sessions"] == 2 and row["questions"] == 4 and row["errors"] == 0
    assert 0 < row["p50_s"] <= row["p95_s"]


# ----- held in this review: kept covered -------------------------------------------------------------
@pytest.mark.parametrize(
    "entries",
    [
        {"a.md": "# A\n", "\\\\serveur\\partage\\evil.md": "# X\n"},  # UNC path
        {"Réseau.md": "# A\n", "Re\u0301seau.md": "# B\n"},  # the same name in NFC and NFD
    ],
)
def test_held_unc_and_nfc_nfd_pairs_refuse_the_archive(tmp_path, entries):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    with pytest.raises(importing.ImportRefused, match="rien n'a été écrit"):
        importing.add_upload(notes, "x.zip", _zip(entries))
    assert list(notes.iterdir()) == []


def test_held_an_honest_bomb_is_refused_before_decompressing(tmp_path, monkeypatch):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bombe.md", b"a" * (60 * 1024 * 1024))

    def never(*a, **k):
        raise AssertionError("decompressed")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(importing.ImportRefused, match="dépasse 50 Mo"):
        importing.add_upload(notes, "bombe.zip", buf.getvalue())


def test_held_an_encrypted_entry_is_skipped_and_said(tmp_path):
    from retrieval.notes import importing

    notes = tmp_path / "notes"
    notes.mkdir()
    data = bytearray(_zip({"secret.md": "# S\n- s\n", "a.md": "# A\n- a\n"}))
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flag, bit 0: encrypted
        i = data.index(sig)
        data[i + off] |= 1
    rep = importing.add_upload(notes, "c.zip", bytes(data))
    assert ("secret.md", importing.SKIPPED) in [(i.source, i.status) for i in rep.items]
    assert not (notes / "secret.md").exists()


def test_held_the_clock_moved_back_keeps_every_review(tmp_path):
    from datetime import datetime, timedelta, timezone

    from revision.cards import cards_of
    from revision.store import Store

    cards = cards_of(CORPUS)[:3]
    store = Store.open(tmp_path / "r.sqlite3")
    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    store.sync(cards, t0)
    store.review(cards[0].id, "Bien", t0)
    store.review(cards[0].id, "Bien", t0 - timedelta(days=2))  # the computer's clock set back
    assert len(store.reviews(card_id=cards[0].id)) == 2 and store.states()[cards[0].id].reps == 2


def _grade_many(db: str, ids: list[str], n: int) -> None:
    from datetime import datetime, timedelta, timezone

    from revision.store import Store

    store = Store.open(db)
    t = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    for k in range(n):
        store.review(ids[k % len(ids)], "Bien", t + timedelta(seconds=k))


@pytest.mark.slow
def test_held_three_processes_grading_300_times_each_lose_nothing(tmp_path):
    import multiprocessing as mp
    from datetime import datetime, timezone

    from revision.cards import cards_of
    from revision.store import Store

    cards = cards_of(CORPUS)[:10]
    db = str(tmp_path / "r.sqlite3")
    Store.open(db).sync(cards, datetime(2025, 3, 3, tzinfo=timezone.utc))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_grade_many, args=(db, [c.id for c in cards], 300)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store.open(db)
    assert len(store.reviews()) == 900
    assert sum(s.reps for s in store.states().values()) == 900
