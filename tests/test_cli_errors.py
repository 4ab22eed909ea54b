"""CLI errors: non-zero exit, one line on stderr, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def _run(*args, module="retrieval", cwd=None):
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=ENV, timeout=180, cwd=cwd
    )


def _assert_one_line_error(p, *expected):
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for e in expected:
        assert e in lines[0], lines[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    c = tmp_path_factory.mktemp("cli") / "c"
    c.mkdir()
    (c / "n.md").write_text("## AWS Lambda\n- exécution limitée à 15 minutes\n")
    return c


def test_nonexistent_corpus(tmp_path):
    p = _run("search", "--corpus", str(tmp_path / "nulle-part"), "--index", str(tmp_path / "i"), "Lambda")
    _assert_one_line_error(p, "Erreur : Le dossier de notes", "introuvable")
    p = _run("build", "--corpus", str(tmp_path / "nulle-part"), "--index", str(tmp_path / "i"))
    _assert_one_line_error(p, "introuvable")


@pytest.mark.parametrize(
    "k, expected",
    [
        ("0", "entre 1 et 100"),
        ("-3", "entre 1 et 100"),
        ("abc", "nombre entier"),
        ("1e9", "nombre entier"),
        ("100000", "entre 1 et 100"),
    ],
)
def test_bad_k(small, tmp_path, k, expected):
    _assert_one_line_error(
        _run("search", "--corpus", str(small), "--index", str(tmp_path / "i"), "-k", k, "Lambda"), expected
    )


@pytest.mark.parametrize("query, expected", [("", "vide"), ("   ", "vide"), ("?!…", "aucun mot"), ("🚀", "aucun mot")])
def test_empty_or_wordless_question(small, tmp_path, query, expected):
    _assert_one_line_error(_run("search", "--corpus", str(small), "--index", str(tmp_path / "i"), query), expected)


def test_usage_errors_are_one_line():
    _assert_one_line_error(_run(), "Erreur")
    _assert_one_line_error(_run("frobnicate"), "Erreur")
    _assert_one_line_error(_run("search"), "Erreur")


def test_index_path_is_a_file(small, tmp_path):
    f = tmp_path / "index"
    f.write_text("pas un dossier")
    _assert_one_line_error(_run("search", "--corpus", str(small), "--index", str(f), "Lambda"), "pas un dossier")


@pytest.mark.slow  # the process imports sentence-transformers and torch: ~6 s
def test_unknown_model(small, tmp_path):
    p = _run(
        "search", "--corpus", str(small), "--index", str(tmp_path / "i"), "--model", "/nulle/part/modele", "Lambda"
    )
    _assert_one_line_error(p, "Erreur : impossible de charger le modèle")


def test_evaluate_unreadable_or_invalid_set(tmp_path):
    _assert_one_line_error(
        _run("--set", str(tmp_path / "absent.jsonl"), module="retrieval.evaluate"), "Jeu de questions illisible"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "x", "gold": [1]\n')
    _assert_one_line_error(_run("--set", str(bad), module="retrieval.evaluate"), "Jeu de questions illisible")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    _assert_one_line_error(_run("--set", str(binary), module="retrieval.evaluate"), "Jeu de questions illisible")
    _assert_one_line_error(_run("--set", str(tmp_path), module="retrieval.evaluate"), "Jeu de questions illisible")


@pytest.mark.slow  # two processes that each load the model
def test_broken_index_is_rebuilt_with_a_notice_not_an_error(small, tmp_path):
    idx = tmp_path / "i"
    assert _run("build", "--corpus", str(small), "--index", str(idx)).returncode == 0
    gen = idx / (idx / "CURRENT").read_text()
    (gen / "dense.faiss").write_bytes(b"tronque")
    p = _run("search", "--corpus", str(small), "--index", str(idx), "--json", "15 minutes")
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert "L'index est endommagé (fichier dense.faiss tronqué ou modifié). Reconstruction de l'index." in p.stderr
    assert json.loads(p.stdout)["hits"][0]["text"] == "exécution limitée à 15 minutes"
