"""Notes that are not clean: each case is skipped or read as well as possible, with a report, never fatal."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval import corpus as corpus_mod
from retrieval.corpus import CorpusReport, discover, read_note
from retrieval.parsing import parse_markdown, split_lines

ROOT = Path(__file__).resolve().parents[1]


def _read(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    rep = CorpusReport()
    return read_note(name, p, rep), rep


def _verbatim(path: Path, chunks):
    lines = split_lines(path.read_bytes().decode("utf-8-sig", errors="replace"))
    for c in chunks:
        assert c.text in lines[c.line - 1]


def test_non_utf8_falls_back_to_cp1252_and_says_so(tmp_path):
    note, rep = _read(tmp_path, "w.md", "## Sécurité\n- Chiffrement géré – “KMS”\n".encode("cp1252"))
    assert "Chiffrement géré – “KMS”" in note.text
    assert any("n'est pas en UTF-8" in w and "Windows-1252" in w for w in rep.warnings)
    c = parse_markdown(note.text, "w.md")
    assert (c[0].heading, c[0].line) == ("Sécurité", 2)


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path):
    note, rep = _read(tmp_path, "l.md", b"## X\n- caf\xe9 \x81\n")
    assert "café" in note.text and any("Latin-1" in w for w in rep.warnings)


def test_utf8_bom_is_dropped_and_first_heading_still_read(tmp_path):
    note, rep = _read(tmp_path, "bom.md", "\ufeff## Amazon SES\n- envoi d'emails\n".encode("utf-8"))
    c = parse_markdown(note.text, "bom.md")
    assert [(x.heading, x.line, x.text) for x in c] == [("Amazon SES", 2, "envoi d'emails")]
    assert not rep.warnings and not rep.skipped


def test_crlf_line_numbers_are_right_and_no_carriage_return_quoted(tmp_path):
    note, _ = _read(tmp_path, "crlf.md", b"## A\r\n\r\n- un\r\n  - deux\r\n\r\n- trois\r\n")
    c = parse_markdown(note.text, "crlf.md")
    assert [(x.line, x.text) for x in c] == [(3, "un"), (4, "deux"), (6, "trois")]
    assert c[1].breadcrumb == ["un"]


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\r\n"])
def test_empty_files_are_skipped_with_a_reason(tmp_path, data):
    note, rep = _read(tmp_path, "vide.md", data)
    assert note is None and rep.skipped == ["vide.md (fichier vide)"]


def test_binary_file_named_md_is_skipped(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    note, rep = _read(tmp_path, "image.md", png)
    assert note is None and rep.skipped == ["image.md (fichier binaire, pas du texte)"]


def test_utf16_file_is_converted(tmp_path):
    note, rep = _read(tmp_path, "u16.md", "## Lambda\n- 15 minutes max\n".encode("utf-16"))
    assert [x.text for x in parse_markdown(note.text)] == ["15 minutes max"]
    assert any("UTF-16" in w for w in rep.warnings)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])  # BOM written by hand below
def test_utf16_note_over_the_size_cap_is_indexed_from_its_start(tmp_path, encoding):
    # Real 2 MiB cap: cap + 1 bytes read is odd, which once made every big UTF-16 note "binaire".
    body = "".join(f"- ligne {i} : réplication 😀 du gros fichier\n" for i in range(40_000)) + "- tout à la fin\n"
    data = ("\ufeff## Gros UTF-16\n" + body).encode(encoding)
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff") and len(data) > corpus_mod.MAX_FILE_BYTES
    note, rep = _read(tmp_path, "gros16.md", data)
    assert note is not None and not rep.skipped
    assert note.text.startswith("## Gros UTF-16\n- ligne 0 : réplication 😀") and note.text.endswith("\n")
    assert "tout à la fin" not in note.text and len(note.text) <= corpus_mod.MAX_FILE_BYTES // 2
    assert any("gros16.md dépasse 2 Mo" in w and "seul le début" in w for w in rep.warnings)
    assert any("UTF-16" in w for w in rep.warnings)
    chunks = parse_markdown(note.text, "gros16.md")
    assert (chunks[0].heading, chunks[0].line, chunks[0].text) == (
        "Gros UTF-16",
        2,
        "ligne 0 : réplication 😀 du gros fichier",
    )
    lines = split_lines(data.decode(encoding).lstrip("\ufeff"))
    assert all(c.text in lines[c.line - 1] for c in chunks)


def test_utf16_cut_inside_a_surrogate_pair_drops_the_half_character(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "MAX_FILE_BYTES", 4096)
    head = "## E\n- " + "x" * 2036  # BOM (2 bytes) + this = 4092 bytes: the emoji straddles the cap
    note, rep = _read(tmp_path, "e.md", (head + "😀😀\n- fin\n").encode("utf-16"))
    assert note is not None and not rep.skipped
    # one huge line: cut inside it (a cut at the last line end would index nothing), never inside a character
    assert note.text.startswith("## E\n- xxx") and "fin" not in note.text
    note.text.encode("utf-8")  # no half surrogate pair left
    assert any("dépasse" in w for w in rep.warnings)


def test_very_large_file_is_capped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "MAX_FILE_BYTES", 4096)
    body = "".join(f"- ligne {i} du gros fichier\n" for i in range(1000)) + "- tout à la fin\n"
    note, rep = _read(tmp_path, "gros.md", ("## Gros\n" + body).encode())
    assert len(note.text.encode()) <= 4096 and note.text.endswith("\n")  # cut at a line end
    assert "tout à la fin" not in note.text
    assert any("gros.md dépasse" in w and "seul le début" in w for w in rep.warnings)
    _verbatim(tmp_path / "gros.md", parse_markdown(note.text, "gros.md"))


def test_sixty_levels_of_nested_bullets(tmp_path):
    text = "## Profond\n" + "".join("  " * d + f"- niveau {d}\n" for d in range(60))
    c = parse_markdown(text, "p.md")
    assert len(c) == 60
    assert c[-1].breadcrumb == [f"niveau {d}" for d in range(59)] and c[-1].text == "niveau 59"
    assert c[-1].block_start == 2 and c[0].block_end == 61


def test_bullets_inside_fenced_code_are_not_bullets():
    # A fence closes only with the same character, at least as long (CommonMark).
    text = (
        "## Code\n- avant\n````yaml\n- pas une puce\n## pas un titre\n```\n````\n- après\n"
        "~~~\n- dans tilde\n```\n~~~\n- fin\n"
    )
    c = parse_markdown(text, "c.md")
    got = [(x.line, x.kind, x.text, x.heading) for x in c]
    assert got == [
        (2, "bullet", "avant", "Code"),
        (4, "code", "- pas une puce", "Code"),
        (5, "code", "## pas un titre", "Code"),
        (6, "code", "```", "Code"),
        (8, "bullet", "après", "Code"),
        (10, "code", "- dans tilde", "Code"),
        (11, "code", "```", "Code"),
        (13, "bullet", "fin", "Code"),
    ]


def test_inline_triple_backticks_do_not_open_a_fence():
    c = parse_markdown("```code``` en ligne\n- puce\n")
    assert [x.kind for x in c] == ["paragraph", "bullet"]


def test_yaml_front_matter_is_not_indexed():
    text = "---\ntitle: Notes\ntags: [aws, s3]\n---\n## S3\n- stockage objet\n"
    c = parse_markdown(text, "y.md")
    assert [(x.line, x.text, x.heading) for x in c] == [(6, "stockage objet", "S3")]


def test_headings_of_every_level():
    text = (
        "# Titre\n- sous le titre\n## Service\n### Sous-partie\n#### Détail\n##### Cinq\n###### Six ######\n"
        "- au fond\n####### sept\n#sansespace\n## C# ##\n- dotnet\n"
    )
    c = parse_markdown(text, "h.md")
    assert (c[0].heading, c[0].title, c[0].text) == ("Titre", "Titre", "sous le titre")
    assert (c[1].heading, c[1].breadcrumb, c[1].text) == ("Six", [], "au fond")
    assert c[1].heading_path == ["Titre", "Service", "Sous-partie", "Détail", "Cinq", "Six"]
    assert [(x.kind, x.text) for x in c[2:4]] == [("paragraph", "####### sept"), ("paragraph", "#sansespace")]
    assert (c[4].heading, c[4].text) == ("C#", "dotnet")


def test_note_without_any_heading_uses_the_file_name():
    c = parse_markdown("- une puce\ndu texte\n", "dossier/mes-notes.md")
    assert [(x.heading, x.kind) for x in c] == [("mes-notes", "bullet"), ("mes-notes", "paragraph")]


def test_symlinks_that_loop_or_leave_the_corpus_are_not_followed(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("## Secret\n- mot de passe\n")
    c = tmp_path / "c"
    (c / "sub").mkdir(parents=True)
    (c / "ok.md").write_text("## Ok\n- bien\n")
    (c / "dehors.md").symlink_to(outside)
    (c / "a.md").symlink_to(c / "b.md")
    (c / "b.md").symlink_to(c / "a.md")
    (c / "sub" / "boucle").symlink_to(c)  # a directory loop
    (c / "dossier.md").symlink_to(c / "sub")
    (c / "interne.md").symlink_to(c / "ok.md")  # inside the corpus: followed
    rep = CorpusReport()
    found = [rel for rel, _ in discover(c, rep)]
    assert found == ["interne.md", "ok.md"]
    reasons = "\n".join(rep.skipped)
    for name in ("dehors.md", "a.md", "b.md", "dossier.md"):
        assert name + " (" in reasons


def test_fifo_named_md_is_skipped_without_blocking(tmp_path):
    (tmp_path / "ok.md").write_text("- bien\n")
    os.mkfifo(tmp_path / "tube.md")  # opening it would block forever
    rep = CorpusReport()
    assert [rel for rel, _ in discover(tmp_path, rep)] == ["ok.md"]
    assert rep.skipped == ["tube.md (pas un fichier ordinaire)"]
    rep2 = CorpusReport()
    assert read_note("tube.md", tmp_path / "tube.md", rep2) is None and rep2.skipped


def test_file_vanishing_or_turning_into_a_folder_is_skipped(tmp_path):
    rep = CorpusReport()
    assert read_note("parti.md", tmp_path / "parti.md", rep) is None
    assert rep.skipped and rep.skipped[0].startswith("parti.md (illisible")
    (tmp_path / "d.md").mkdir()
    assert read_note("d.md", tmp_path / "d.md", rep) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files: covered by the FIFO/folder tests")
def test_unreadable_file_is_skipped(tmp_path):
    p = tmp_path / "ferme.md"
    p.write_text("- x\n")
    p.chmod(0)
    rep = CorpusReport()
    assert read_note("ferme.md", p, rep) is None and "illisible" in rep.skipped[0]


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """One corpus with every bad case at once, built for real."""
    base = tmp_path_factory.mktemp("messy")
    c = base / "c"
    c.mkdir()
    (base / "dehors.md").write_text("## Dehors\n- ne doit pas apparaître\n")
    (c / "propre.md").write_text("## Lambda\n- exécution serverless limitée à 15 minutes\n")
    (c / "windows.md").write_bytes("## Kinesis\r\n- flux de données temps réel\r\n".encode("cp1252"))
    (c / "bom.md").write_bytes("\ufeff## SQS\n- file d'attente découplage\n".encode())
    (c / "vide.md").write_bytes(b"")
    (c / "image.md").write_bytes(b"\x89PNG\x00\x00" * 100)
    (c / "profond.md").write_text("".join("  " * d + f"- palier {d}\n" for d in range(60)))
    (c / "lien.md").symlink_to(base / "dehors.md")
    (c / "boucle.md").symlink_to(c / "boucle.md")
    os.mkfifo(c / "tube.md")
    return c


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_a_messy_corpus_builds_with_a_report(messy, tmp_path):
    from retrieval import Retriever

    r = Retriever.build(messy, tmp_path / "idx")
    lines = r.last_build.report.lines()
    assert r.info()["report"] == lines  # stored in the manifest for the app's sidebar
    for expected in (
        "ignoré : vide.md (fichier vide)",
        "ignoré : image.md (fichier binaire",
        "ignoré : lien.md (lien symbolique",
        "ignoré : boucle.md (lien symbolique",
        "ignoré : tube.md (pas un fichier ordinaire)",
        "attention : windows.md n'est pas en UTF-8",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert sorted(r.manifest["files"]) == ["bom.md", "profond.md", "propre.md", "windows.md"]
    for q, src in [
        ("flux de données temps réel", "windows.md"),
        ("file d'attente", "bom.md"),
        ("palier 59", "profond.md"),
    ]:
        hits = r.search(q, k=3)
        assert hits and hits[0].source == src, (q, hits[:1])
    for h in r.search("ne doit pas apparaître", k=20):
        assert h.source != "lien.md" and "apparaître" not in h.text


@pytest.mark.slow  # a process that loads the model: ~1.3 s, then a build
def test_cli_build_prints_the_report(messy, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, "-m", "retrieval", "build", "--corpus", str(messy), "--index", str(tmp_path / "i")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "Index construit : 6 fichier(s)" in p.stdout  # discovered regular note files
    assert "ignoré : vide.md (fichier vide)" in p.stdout and "attention : windows.md" in p.stdout
    assert "Traceback" not in p.stderr
