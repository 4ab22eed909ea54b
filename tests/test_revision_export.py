"""The Anki export, opened as Anki would: a zip holding an SQLite collection."""

import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from revision.app_support import apkg_bytes, apkg_name
from revision.cards import cards_of, filter_cards
from revision.export import CLOZE_MODEL, QA_MODEL, export_anki

ROOT = Path(__file__).resolve().parents[1]


def open_collection(apkg: Path, tmp_path: Path) -> sqlite3.Connection:
    assert zipfile.is_zipfile(apkg)
    with zipfile.ZipFile(apkg) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", tmp_path)
    return sqlite3.connect(tmp_path / "collection.anki2")


@pytest.fixture(scope="module")
def cards():
    return cards_of(ROOT / "corpus")


def test_every_card_is_one_note_of_the_right_type(tmp_path, cards):
    report = export_anki(cards, tmp_path / "notes.apkg")
    assert report.notes == len(cards) == 240 and report.decks == ["Other Services"]
    con = open_collection(tmp_path / "notes.apkg", tmp_path)
    assert con.execute("SELECT count(*) FROM notes").fetchone()[0] == len(cards)
    assert con.execute("SELECT count(*) FROM cards").fetchone()[0] == len(cards)
    models = json.loads(con.execute("SELECT models FROM col").fetchone()[0])
    decks = json.loads(con.execute("SELECT decks FROM col").fetchone()[0])
    assert "Other Services" in {d["name"] for d in decks.values()}
    kinds = dict(con.execute("SELECT mid, count(*) FROM notes GROUP BY mid").fetchall())
    assert kinds == {CLOZE_MODEL.model_id: 182, QA_MODEL.model_id: 58}
    assert models[str(CLOZE_MODEL.model_id)]["type"] == 1  # Anki's cloze note type
    refs = {f"{c.source}:{c.line}" for c in cards}
    rows = con.execute("SELECT flds, tags FROM notes").fetchall()
    for flds, tags in rows:
        fields = flds.split("\x1f")
        assert fields[-1] in refs  # the last field holds source:line
        assert tags.split()[0] in {c.heading.replace(" ", "_") for c in cards}
    ssm = [f.split("\x1f") for f, t in rows if "{{c1::IAM Role}}" in f]
    assert ssm == [
        [
            "Tu dois avoir un <b>{{c1::IAM Role}}</b>, <b>VPC Endpoint</b> si en privé, et <b>SSM Agent actif</b>",
            "SSM Session Manager › Pour l’examen AWS SAA",
            "other-services.md:139",
        ]
    ]
    assert any(" examen " in f" {t} " for _, t in rows)


def test_note_text_cannot_break_out_of_its_field(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "p.md").write_text(
        "# Pièges\n## Piège\n- Balise <script>alert(1)</script> et **a::b}}c** ici\n- {{c2::x}} et **terme** là\n",
        encoding="utf-8",
    )
    cards = cards_of(notes)
    export_anki(cards, tmp_path / "p.apkg")
    con = open_collection(tmp_path / "p.apkg", tmp_path)
    fields = [f.split("\x1f")[0] for (f,) in con.execute("SELECT flds FROM notes")]
    assert "<script>" not in "".join(fields) and "&lt;script&gt;" in fields[0]
    assert "{{c1::a&#58;&#58;b&#125;&#125;c}}" in fields[0]  # ":" and "}}" cannot end the deletion early
    assert "{{c2::" not in fields[1] and "&#123;&#123;c2::x&#125;&#125;" in fields[1]


def test_cli_export_with_filters(tmp_path, cards):
    out = tmp_path / "ssm.apkg"
    run = subprocess.run(
        [sys.executable, "-m", "revision", "export", "--anki", str(out), "--service", "SSM", "--exam-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = filter_cards(cards, ["SSM Session Manager"], exam_only=True)
    assert run.stdout.startswith(f"{len(expected)} notes Anki écrites")
    con = open_collection(out, tmp_path)
    assert con.execute("SELECT count(*) FROM notes").fetchone()[0] == len(expected) == 7


def test_page_download_bytes(cards):
    data = apkg_bytes(cards[:5])
    assert data[:2] == b"PK" and apkg_name(cards) == "Other-Services.apkg"
