"""Adding notes (retrieval.notes.importing): a .md or a zip lands in the notes folder, and only there.

Each zip-safety case has its test; each checks that nothing at all was written, inside the
notes folder or outside it. Temporary folders only: the shipped notes are never written.
"""

import errno
import io
import os
import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from retrieval.notes import importing, paths
from retrieval.notes.importing import ADDED, KEPT, REPLACED, SKIPPED, UNCHANGED, ImportRefused
from retrieval.notes.paths import TRASH_DIR, UnsafePath

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "tests" / "data" / "cheatsheet"
NOTE = b"# Chapitre\n\n## Amazon SQS\n\n- Une file de messages\n"


@pytest.fixture
def notes(tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "existante.md").write_bytes(NOTE)
    return d


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path under root with its content (a link: its target): a before/after snapshot."""
    out: dict[str, bytes | str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = p.read_bytes()
            else:
                out[rel + "/"] = ""
    return out


def make_zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """entries: (name or ZipInfo, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def raw_name_zip(placeholder: str, raw: bytes, data: bytes = NOTE) -> bytes:
    """A zip whose entry name is the raw bytes `raw`, without the UTF-8 flag (as old Windows tools write).

    zipfile would flag any non-ASCII name as UTF-8, so an ASCII placeholder of the same length is
    written and then swapped for the raw bytes in the local header and the central directory.
    """
    assert len(placeholder.encode()) == len(raw)
    blob = make_zip([(placeholder, data)])
    assert blob.count(placeholder.encode()) == 2
    return blob.replace(placeholder.encode(), raw)


def refused(notes: Path, blob: bytes, name="notes.zip", match=None):
    parent = notes.parent
    before = tree(parent)
    with pytest.raises(ImportRefused, match=match) as e:
        importing.add_upload(notes, name, blob)
    assert tree(parent) == before, "a refused import must write nothing, anywhere"
    msg = str(e.value)
    assert "\n" not in msg and "rien n'a été écrit" in msg
    return msg


# ----- a single file -------------------------------------------------------------------------------
def test_add_new_md_then_same_then_different(notes):
    rep = importing.add_upload(notes, "nouveau.md", NOTE + b"- en plus\n")
    assert [(i.source, i.status) for i in rep.items] == [("nouveau.md", ADDED)] and rep.changed
    assert (notes / "nouveau.md").read_bytes() == NOTE + b"- en plus\n"

    rep = importing.add_upload(notes, "nouveau.md", NOTE + b"- en plus\n")
    assert rep.items[0].status == UNCHANGED and not rep.changed

    rep = importing.add_upload(notes, "nouveau.md", b"# autre contenu\n")
    assert rep.items[0].status == KEPT and rep.conflicts == ["nouveau.md"] and not rep.changed
    assert (notes / "nouveau.md").read_bytes() == NOTE + b"- en plus\n", "never overwritten without a yes"


def test_replace_moves_the_old_version_to_the_trash(notes):
    rep = importing.add_upload(notes, "existante.md", b"# v2\n", replace=True)
    assert rep.items[0].status == REPLACED and rep.changed
    assert (notes / "existante.md").read_bytes() == b"# v2\n"
    assert (notes / TRASH_DIR / "existante.md").read_bytes() == NOTE, "the replaced version stays restorable"
    # replaced again: the first old version keeps its place in the trash, the second gets "(2)"
    importing.add_upload(notes, "existante.md", b"# v3\n", replace={"existante.md"})
    assert (notes / TRASH_DIR / "existante.md").read_bytes() == NOTE
    assert (notes / TRASH_DIR / "existante (2).md").read_bytes() == b"# v2\n"


def test_a_failed_replace_puts_the_old_version_back(notes, monkeypatch):
    def disk_full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importing, "write_new", disk_full)
    rep = importing.add_upload(notes, "existante.md", b"# v2\n", replace=True)
    assert rep.items[0].status == SKIPPED and "No space left on device" in rep.items[0].reason
    assert (notes / "existante.md").read_bytes() == NOTE
    assert not any(p.is_file() for p in (notes / TRASH_DIR).rglob("*"))


def test_replace_only_the_named_files(notes):
    (notes / "autre.md").write_bytes(b"# mienne\n")
    blob = make_zip([("existante.md", b"# neuve\n"), ("autre.md", b"# neuve aussi\n")])
    rep = importing.add_upload(notes, "n.zip", blob, replace={"existante.md"})
    assert {i.source: i.status for i in rep.items} == {"existante.md": REPLACED, "autre.md": KEPT}
    assert (notes / "autre.md").read_bytes() == b"# mienne\n"


@pytest.mark.parametrize("name", ["../evil.md", "/tmp/evil.md", "sous/dossier.md", "..\\evil.md", "C:evil.md"])
def test_uploaded_name_with_a_path_is_refused(notes, name):
    refused(notes, NOTE, name=name)


@pytest.mark.parametrize(
    "name, reason",
    [("notes.txt", "seuls .md et .markdown"), ("image.png", "pas un fichier Markdown"), (".cache.md", "point")],
)
def test_non_markdown_or_hidden_upload_is_skipped(notes, name, reason):
    before = tree(notes)
    rep = importing.add_upload(notes, name, NOTE)
    assert rep.items[0].status == SKIPPED and reason in rep.items[0].reason
    assert tree(notes) == before


def test_markdown_extension_is_kept(notes):
    rep = importing.add_upload(notes, "Chapitre.MARKDOWN", NOTE)
    assert rep.items[0].status == ADDED and (notes / "Chapitre.MARKDOWN").is_file()


def test_add_path_from_disk(notes, tmp_path):
    src = tmp_path / "chap.md"
    src.write_bytes(NOTE)
    assert importing.add_path(notes, src).items[0].status == ADDED
    with pytest.raises(ImportRefused, match="introuvable"):
        importing.add_path(notes, tmp_path / "absent.md")
    with pytest.raises(ImportRefused, match="est un dossier"):
        importing.add_path(notes, tmp_path)


def test_missing_notes_folder(tmp_path):
    with pytest.raises(ImportRefused, match="introuvable"):
        importing.add_upload(tmp_path / "nulle-part", "a.md", NOTE)
    assert not (tmp_path / "nulle-part").exists()


# ----- a zip of a notes folder -------------------------------------------------------------------
def test_zip_of_a_vault_keeps_subfolders_and_counts_what_is_not_markdown(notes):
    blob = make_zip(
        [
            ("Coffre/Réseau/VPC.md", NOTE),
            ("Coffre/Accueil.markdown", NOTE),
            ("Coffre/", b""),
            ("Coffre/images/schema.png", b"\x89PNG"),
            ("Coffre/images/photo.png", b"\x89PNG"),
            ("Coffre/.obsidian/app.json", b"{}"),
            ("Coffre/.obsidian/notes-cachees.md", NOTE),
            ("__MACOSX/Coffre/._VPC.md", b"\x00\x05"),
            (f"{TRASH_DIR}/vieux.md", NOTE),
        ]
    )
    rep = importing.add_upload(notes, "coffre.zip", blob)
    statuses = {i.source: i.status for i in rep.items}
    assert statuses["Coffre/Réseau/VPC.md"] == ADDED and statuses["Coffre/Accueil.markdown"] == ADDED
    for hidden in ["Coffre/.obsidian/notes-cachees.md", "__MACOSX/Coffre/._VPC.md", f"{TRASH_DIR}/vieux.md"]:
        assert statuses[hidden] == SKIPPED
    assert rep.ignored == {".png": 2, ".json": 1}
    assert "ignoré : 3 fichiers qui ne sont pas du Markdown (.png, .json)" in rep.lines()
    assert (notes / "Coffre" / "Réseau" / "VPC.md").read_bytes() == NOTE
    assert not (notes / "Coffre" / "images").exists() and not (notes / "Coffre" / ".obsidian").exists()
    assert not (notes / TRASH_DIR).exists(), "a zip never writes into the trash"


def test_zip_of_the_three_chapters(notes):
    blob = make_zip([(f"chapitres/{p.name}", p.read_bytes()) for p in sorted(CHAPTERS.glob("*.md"))])
    rep = importing.add_upload(notes, "chapitres.zip", blob)
    assert rep.lines() == [
        "ajouté : chapitres/aws-essentiels.md",
        "ajouté : chapitres/conteneurs.md",
        "ajouté : chapitres/outils.md",
    ]
    again = importing.add_upload(notes, "chapitres.zip", blob)
    assert {i.status for i in again.items} == {UNCHANGED} and not again.changed


@pytest.mark.parametrize(
    "entry",
    ["../evil.md", "chapitres/../../evil.md", "..", "../../../../tmp/evil.md", "..\\evil.md", "a\\..\\..\\evil.md"],
)
def test_zip_dotdot_entry_is_refused(notes, entry):
    blob = make_zip([("bonne-note.md", NOTE), (entry, NOTE)])
    msg = refused(notes, blob)
    assert ".." in msg and "sortirait du dossier de notes" in msg


@pytest.mark.parametrize("entry", ["/tmp/evil.md", "/etc/cron.d/evil.md", "\\evil.md", "C:/evil.md", "c:\\w\\evil.md"])
def test_zip_absolute_entry_is_refused(notes, entry):
    blob = make_zip([("bonne-note.md", NOTE), (entry, NOTE)])
    assert zipfile.ZipFile(io.BytesIO(blob)).namelist()[1] == entry
    msg = refused(notes, blob)
    assert "chemin absolu" in msg or "lecteur Windows" in msg


def test_zip_symlink_entry_is_refused(notes, tmp_path):
    (tmp_path / "secret.md").write_bytes(b"# hors du dossier\n")
    link = zipfile.ZipInfo("lien.md")
    link.create_system = 3  # Unix: the mode is in the high bits of external_attr
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    blob = make_zip([("bonne-note.md", NOTE), (link, str(tmp_path / "secret.md").encode())])
    assert "lien symbolique" in refused(notes, blob)


def test_symlink_to_a_folder_entry_is_refused(notes):
    link = zipfile.ZipInfo("dossier")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    # the classic two-step escape: a link to "..", then a file "through" it
    blob = make_zip([(link, b".."), ("dossier/evil.md", NOTE)])
    assert "lien symbolique" in refused(notes, blob)


def test_zip_bomb_is_refused_by_the_size_cap(notes):
    big = importing.MAX_TOTAL_BYTES + 1024 * 1024
    blob = make_zip([("bombe.md", b"a" * big)])
    assert len(blob) < 200_000, "a bomb: tiny zip, huge content"
    assert "dépasse 50 Mo" in refused(notes, blob)


def test_size_cap_is_on_the_total_not_per_file(notes):
    third = importing.MAX_TOTAL_BYTES // 3 + 1024
    blob = make_zip([(f"partie-{i}.md", b"b" * third) for i in range(3)])
    refused(notes, blob, match="dépasse")


def test_sizes_written_in_the_zip_are_not_trusted(notes):
    """An entry that says it is 10 bytes but inflates to 60 MiB is read as 10 bytes at most and fails its CRC."""
    blob = bytearray(make_zip([("menteur.md", b"c" * (importing.MAX_TOTAL_BYTES + 10 * 1024 * 1024))]))
    # file_size sits at offset 22 of the local header and 24 of the central directory entry
    local = blob.find(b"PK\x03\x04")
    central = blob.find(b"PK\x01\x02")
    struct.pack_into("<I", blob, local + 22, 10)
    struct.pack_into("<I", blob, central + 24, 10)
    msg = refused(notes, bytes(blob), match="archive zip lisible|dépasse")
    assert "Traceback" not in msg


def test_ten_thousand_tiny_files_are_refused_by_the_count_cap(notes):
    blob = make_zip([(f"notes/{i:05d}.md", b"- x\n") for i in range(10_000)], zipfile.ZIP_STORED)
    msg = refused(notes, blob)
    assert "10000 notes" in msg and f"maximum {importing.MAX_NOTES}" in msg


def test_entry_count_cap_counts_every_kind_of_file(notes, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ENTRIES", 50)
    blob = make_zip([(f"img/{i}.png", b"x") for i in range(51)], zipfile.ZIP_STORED)
    assert "51 entrées" in refused(notes, blob)


def test_non_utf8_name_in_cp437_is_decoded_as_the_spec_says(notes):
    # Windows' "Dossier compressé" writes names in the OEM code page: é is 0x82 in CP437 and CP850.
    blob = raw_name_zip("Rxseau/Sxcuritx.md", b"R\x82seau/S\x82curit\x82.md")
    rep = importing.add_upload(notes, "windows.zip", blob)
    assert [i.status for i in rep.items] == [ADDED]
    assert (notes / "Réseau" / "Sécurité.md").read_bytes() == NOTE


def test_non_utf8_name_in_latin1_stays_inside_the_folder(notes):
    # Latin-1 é (0xE9) read as CP437 is "Θ": an odd name, but a safe one, and kept.
    blob = raw_name_zip("rxseau.md", b"r\xe9seau.md")
    rep = importing.add_upload(notes, "latin1.zip", blob)
    assert [(i.source, i.status) for i in rep.items] == [("rΘseau.md", ADDED)]
    assert (notes / "rΘseau.md").read_bytes() == NOTE


def test_utf8_name_without_the_flag_is_read_as_utf8(notes):
    # Info-ZIP and macOS write UTF-8 without setting the flag.
    blob = raw_name_zip("Bases de donnxxes.md", "Bases de données.md".encode())
    assert [i.source for i in importing.add_upload(notes, "mac.zip", blob).items] == ["Bases de données.md"]


def test_unicode_path_extra_field_is_used_when_it_matches(notes):
    raw = b"r\x82sum\x82.md"
    name = "résumé-exact.md"
    body = bytes([1]) + struct.pack("<I", zlib.crc32(raw)) + name.encode()
    info = zipfile.ZipInfo("rxsumx.md")
    info.extra = struct.pack("<HH", 0x7075, len(body)) + body
    blob = make_zip([(info, NOTE)]).replace(b"rxsumx.md", raw)
    assert [i.source for i in importing.add_upload(notes, "infozip.zip", blob).items] == [name]


def test_non_utf8_name_that_hides_a_dotdot_is_refused(notes):
    # 0x5C is "\" in CP437: "..\x5cevil.md" is "..\evil.md", a parent path once backslashes count.
    blob = raw_name_zip("../evil.md", b"..\\evil.md")
    refused(notes, blob, match="sortirait")


def test_control_characters_in_a_name_are_refused(notes):
    blob = raw_name_zip("axb.md", b"a\x1bb.md")
    refused(notes, blob, match="caractères de contrôle")


def test_decomposed_accents_are_normalised(notes):
    nfd = unicodedata.normalize("NFD", "Réseau/Sécurité.md")
    rep = importing.add_upload(notes, "mac.zip", make_zip([(nfd, NOTE)]))
    assert rep.items[0].source == "Réseau/Sécurité.md"
    assert [p.name for p in notes.iterdir() if p.is_dir()] == ["Réseau"]


def test_duplicate_entries_are_refused(notes):
    blob = make_zip([("a.md", NOTE), ("./a.md", b"# autre\n")])
    refused(notes, blob, match="deux fois")


def test_corrupt_or_fake_zip_is_one_sentence(notes):
    refused(notes, b"ceci n'est pas un zip", match="pas une archive zip lisible")
    blob = bytearray(make_zip([("a.md", NOTE * 50)]))
    blob[60:80] = b"\x00" * 20  # damage the compressed data
    refused(notes, bytes(blob), match="pas une archive zip lisible")


def test_zip_never_writes_through_a_link_in_the_notes_folder(notes, tmp_path):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (notes / "lien").symlink_to(outside, target_is_directory=True)
    blob = make_zip([("lien/evil.md", NOTE)])
    assert "lien symbolique" in refused(notes, blob)
    assert list(outside.iterdir()) == []


def test_an_existing_linked_note_is_never_replaced(notes, tmp_path):
    target = tmp_path / "cible.md"
    target.write_bytes(b"# a moi\n")
    (notes / "lien.md").symlink_to(target)
    rep = importing.add_upload(notes, "lien.md", NOTE, replace=True)
    assert rep.items[0].status == SKIPPED
    assert target.read_bytes() == b"# a moi\n" and (notes / "lien.md").is_symlink()


def test_a_file_blocking_a_folder_is_skipped_not_fatal(notes):
    blob = make_zip([("existante.md/dedans.md", NOTE), ("ok.md", NOTE)])
    rep = importing.add_upload(notes, "n.zip", blob)
    assert {i.source: i.status for i in rep.items} == {"existante.md/dedans.md": SKIPPED, "ok.md": ADDED}
    assert (notes / "existante.md").read_bytes() == NOTE


# ----- the low-level writes ------------------------------------------------------------------------
def test_write_new_never_overwrites(tmp_path):
    p = tmp_path / "a.md"
    p.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        paths.write_new(p, b"theirs")
    assert p.read_bytes() == b"mine"
    assert [x.name for x in tmp_path.iterdir()] == ["a.md"], "no temporary file left behind"


def test_without_hard_links_moves_still_never_overwrite(tmp_path, monkeypatch):
    """FAT/exFAT (a USB stick) has no hard links: the fallback checks the name, then renames."""

    def no_link(*a, **k):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    (tmp_path / "a.md").write_bytes(b"1")
    (tmp_path / "b.md").write_bytes(b"2")
    assert paths.move_no_clobber(tmp_path / "b.md", tmp_path / "a.md") == tmp_path / "a (2).md"
    assert (tmp_path / "a.md").read_bytes() == b"1" and (tmp_path / "a (2).md").read_bytes() == b"2"
    paths.write_new(tmp_path / "c.md", b"3")
    assert (tmp_path / "c.md").read_bytes() == b"3"
    with pytest.raises(FileExistsError):
        paths.write_new(tmp_path / "c.md", b"4")


@pytest.mark.parametrize(
    "name, expected",
    [("a/b.md", "a/b.md"), ("./a//b.md", "a/b.md"), ("a\\b.md", "a/b.md"), ("...md", "...md"), ("a..b.md", "a..b.md")],
)
def test_clean_relpath_accepts(name, expected):
    assert paths.clean_relpath(name) == expected


@pytest.mark.parametrize("name", ["", ".", "/", "../a.md", "a/../../b.md", "/a.md", "C:a.md", "a\x00.md", "a\nb.md"])
def test_clean_relpath_refuses(name):
    with pytest.raises(UnsafePath):
        paths.clean_relpath(name)
