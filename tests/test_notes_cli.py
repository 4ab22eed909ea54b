"""`python -m retrieval notes [add|remove|restore]`: the contract (names, JSON keys, lines, exit codes).

Real processes, real model. Everything that writes works on a copy of the shipped notes.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
CHAPTERS = ROOT / "tests" / "data" / "cheatsheet"


def run(*args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("RETRIEVAL_CORPUS", None)
    return subprocess.run(
        [sys.executable, "-m", "retrieval", "notes", *args], capture_output=True, text=True, env=env, timeout=180
    )


def one_line_error(p, *expected):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for e in expected:
        assert e in lines[0], lines[0]


@pytest.fixture
def copy(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(CORPUS / "other-services.md", notes)
    return notes, tmp_path / "index"


def chapters_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(CHAPTERS.glob("*.md")):
            z.write(p, f"chapitres/{p.name}")
        z.writestr("chapitres/schema.png", b"\x89PNG")
    return path


def test_list_json_on_the_shipped_notes(built_index):
    p = run("--corpus", str(CORPUS), "--index", str(built_index), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {
        "files": [{"source": "other-services.md", "passages": 229, "headings": 10, "exam_tips": 30}],
        "skipped": [],
    }


@pytest.mark.slow
def test_add_a_zip_of_three_chapters_then_remove_and_restore(copy, tmp_path):
    notes, index = copy
    folders = ["--corpus", str(notes), "--index", str(index)]
    archive = chapters_zip(tmp_path / "chapitres.zip")

    p = run("add", *folders, str(archive))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "ajouté : chapitres/aws-essentiels.md",
        "ajouté : chapitres/conteneurs.md",
        "ajouté : chapitres/outils.md",
        "ignoré : 1 fichier qui n'est pas du Markdown (.png)",
        "Index à jour : 492 passages, 4 fichier(s).",
    ]
    listed = json.loads(run(*folders, "--json").stdout)
    assert [f["source"] for f in listed["files"]] == [
        "chapitres/aws-essentiels.md",
        "chapitres/conteneurs.md",
        "chapitres/outils.md",
        "other-services.md",
    ]
    assert all(f["passages"] > 0 and f["headings"] > 0 for f in listed["files"])

    # again, with one chapter edited by hand meanwhile: unchanged, and kept because it differs
    with open(notes / "chapitres" / "outils.md", "a", encoding="utf-8") as f:
        f.write("- ma remarque\n")
    p = run("add", *folders, str(archive))
    assert p.returncode == 0
    assert p.stdout.splitlines()[:3] == [
        "inchangé : chapitres/aws-essentiels.md",
        "inchangé : chapitres/conteneurs.md",
        "gardé : chapitres/outils.md (différent de la note existante, non remplacé)",
    ]
    assert "--replace" in p.stderr
    assert (notes / "chapitres" / "outils.md").read_text(encoding="utf-8").endswith("- ma remarque\n")

    p = run("add", *folders, "--replace", str(archive))
    assert p.returncode == 0
    assert "remplacé : chapitres/outils.md (ancienne version dans la corbeille : .corbeille/chapitres/outils.md)" in (
        p.stdout.splitlines()
    )
    assert (notes / ".corbeille" / "chapitres" / "outils.md").read_text(encoding="utf-8").endswith("- ma remarque\n")

    p = run("remove", *folders, "chapitres/conteneurs.md")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "à la corbeille : chapitres/conteneurs.md → .corbeille/chapitres/conteneurs.md",
        "Index à jour : 407 passages, 3 fichier(s).",
    ]
    listed = json.loads(run(*folders, "--json").stdout)
    assert "chapitres/conteneurs.md" not in [f["source"] for f in listed["files"]]
    text = run(*folders).stdout
    assert "Corbeille (2)" in text and "  chapitres/conteneurs.md" in text

    p = run("restore", *folders, "chapitres/conteneurs.md")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["restauré : chapitres/conteneurs.md", "Index à jour : 492 passages, 4 fichier(s)."]


def test_unsafe_zip_exits_2_with_one_line_and_writes_nothing(copy, tmp_path):
    notes, index = copy
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bonne.md", "- une note\n")
        z.writestr("../../evil.md", "- hors du dossier\n")
    (tmp_path / "piege.zip").write_bytes(buf.getvalue())
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    p = run("add", "--corpus", str(notes), "--index", str(index), str(tmp_path / "piege.zip"))
    one_line_error(p, "Erreur : Archive refusée, rien n'a été écrit", "../../evil.md")
    assert p.stdout == ""
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    "args, expected",
    [
        (["add", "{tmp}/absent.zip"], "introuvable"),
        (["remove", "absente.md"], "n'est pas dans tes notes"),
        (["remove", "../README.md"], "sortirait du dossier de notes"),
        (["restore", "other-services.md"], "n'est pas dans la corbeille"),
    ],
)
def test_errors_are_one_line(copy, tmp_path, args, expected):
    notes, index = copy
    args = [a.format(tmp=tmp_path) for a in args]
    p = run(args[0], "--corpus", str(notes), "--index", str(index), *args[1:])
    one_line_error(p, expected)
    assert [x.name for x in notes.iterdir()] == ["other-services.md"]


def test_missing_notes_folder_is_one_line(tmp_path):
    one_line_error(run("--corpus", str(tmp_path / "nulle-part"), "--index", str(tmp_path / "i")), "introuvable")


@pytest.mark.slow  # a process that loads the model and builds an index
def test_folders_can_be_given_before_the_action(copy, tmp_path):
    notes, index = copy
    (tmp_path / "n.md").write_text("## Amazon Nouveau\n- ajouté en ligne de commande\n", encoding="utf-8")
    p = run("--corpus", str(notes), "--index", str(index), "add", str(tmp_path / "n.md"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "ajouté : n.md" and (notes / "n.md").is_file()


@pytest.mark.slow  # a process that loads the model and builds an index
def test_default_folders_are_the_apps(tmp_path, copy):
    """Without --corpus, the folder chosen on the page (settings file) is used, as in the app."""
    notes, index = copy
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"notes_dir": str(notes)}), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.update(RETRIEVAL_SETTINGS=str(settings), RETRIEVAL_INDEX=str(index))
    env.pop("RETRIEVAL_CORPUS", None)
    p = subprocess.run(
        [sys.executable, "-m", "retrieval", "notes", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    assert [f["source"] for f in json.loads(p.stdout)["files"]] == ["other-services.md"]
    assert (index / "CURRENT").is_file()
