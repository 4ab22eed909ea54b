"""Build, load and search the shipped notes with the real default model."""

import json

import pytest
from conftest import CORPUS, NOTES

from retrieval import Hit, Retriever
from retrieval.embedding import DEFAULT_MODEL

LINES = NOTES.read_text(encoding="utf-8").split("\n")


def _verbatim(hits):
    for h in hits:
        assert isinstance(h, Hit)
        assert h.text in LINES[h.line - 1], (h.line, h.text)


def test_build_load_round_trip(built_index, retriever):
    assert (built_index / "CURRENT").is_file()
    m = retriever.manifest
    assert m["model"] == DEFAULT_MODEL and m["n_chunks"] == 229
    assert set(m["files"]) == {"other-services.md"} and len(m["files"]["other-services.md"]) == 64
    again = Retriever.load(str(built_index))  # str paths are accepted too
    a = [(h.line, round(h.score, 5)) for h in again.search("feedback loop", k=5)]
    b = [(h.line, round(h.score, 5)) for h in retriever.search("feedback loop", k=5)]
    assert a == b and a[0][0] == 58


def test_real_questions_find_the_right_bullet(retriever):
    cases = {
        "Drift Detection": 23,
        "Patch Manager": 123,
        "VPC endpoint pour SSM": 139,
        "send SMS to many users": 89,
        "Instance Scheduler RDS": 293,
        "ne plus gérer de clés SSH": 109,
    }
    for q, line in cases.items():
        hits = retriever.search(q, k=5)
        _verbatim(hits)
        assert hits[0].source == "other-services.md"
        # the first passage shows the bullet (a label's passage shows it with its list)
        first = retriever.ask(q, k=5).passages[0]
        assert line in first.lines, (q, [h.line for h in hits], first.lines)


def test_hits_carry_heading_breadcrumb_and_scores_best_first(retriever):
    hits = retriever.search("statistiques bounces", k=5)
    top = hits[0]
    assert top.heading == "Amazon SES" and top.breadcrumb[-1] == "Statistiques détaillées :"
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(retriever.search("SES", k=3)) == 3


def test_component_modes_for_evaluation(retriever):
    for mode in ("lexical", "fusion", "full"):
        hits = retriever.search("Snow Family", k=3, mode=mode)
        _verbatim(hits)
        assert hits and hits[0].line == 192, mode
    # a paraphrase sharing no word with its bullet is found by the dense signal alone
    q = "faire tourner de l'AWS dans ma propre salle serveur"
    assert {166, 168, 171} & {h.line for h in retriever.search(q, k=5, mode="dense")}
    assert not {166, 168, 171} & {h.line for h in retriever.search(q, k=5, mode="lexical")}
    assert retriever.search("Snow Family", k=3, mode="lexical")[0].score == 1.0


@pytest.mark.slow  # imports sentence-transformers and torch: ~5 s
def test_minilm_builds_offline_too(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.md").write_text(
        "## Chats\n- Le chat dort sur le canapé\n## Voitures\n- La voiture roule vite\n", encoding="utf-8"
    )
    r = Retriever.build(notes, tmp_path / "idx", model="all-MiniLM-L6-v2")
    assert r.manifest["model"] == "all-MiniLM-L6-v2" and r.manifest["dim"] == 384
    assert r.search("voiture", k=1)[0].heading == "Voitures"
    assert Retriever.load(tmp_path / "idx").embedder.name == "all-MiniLM-L6-v2"


def test_cli_search_json_and_text(built_index, capsys):
    from retrieval.presentation.cli import main

    assert (
        main(["search", "--corpus", str(CORPUS), "--index", str(built_index), "--json", "-k", "2", "SES", "DKIM"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "SES DKIM" and len(out["hits"]) == 2
    assert set(out["hits"][0]) == {"source", "line", "heading", "heading_path", "breadcrumb", "text", "score"}
    assert out["hits"][0]["heading"] == "Amazon SES"
    _verbatim([Hit(**{**h, "score": h["score"]}) for h in out["hits"]])

    assert main(["search", "--corpus", str(CORPUS), "--index", str(built_index), "Outposts racks"]) == 0
    text = capsys.readouterr().out
    assert "[AWS Outposts] other-services.md:171" in text and "Racks physiques" not in text
    assert "AWS installe des **racks physiques (Outposts Racks)** directement dans ton datacenter" in text


def test_cli_builds_missing_index_on_first_search(tmp_path, capsys):
    from retrieval.presentation.cli import main

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.md").write_text("## Amazon SES\n- Envoi d'emails en masse\n", encoding="utf-8")
    assert main(["search", "--corpus", str(notes), "--index", str(tmp_path / "idx"), "--json", "emails"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hits"][0]["line"] == 2 and (tmp_path / "idx" / "CURRENT").exists()


@pytest.mark.slow  # builds an index of the notes with e5 (> 4 s)
def test_cli_build_reports(tmp_path, capsys):
    from retrieval.presentation.cli import main

    assert main(["build", "--corpus", str(CORPUS), "--index", str(tmp_path / "idx")]) == 0
    assert "229 passages" in capsys.readouterr().out
