"""The parser on the shipped notes and on small notes written here."""

from collections import Counter

from conftest import NOTES

from retrieval.parsing import index_text, parse_markdown


def _chunks():
    return parse_markdown(NOTES.read_text(encoding="utf-8"), "other-services.md")


def _by_line(chunks):
    return {c.line: c for c in chunks}


def test_counts_per_kind_and_section():
    chunks = _chunks()
    assert Counter(c.kind for c in chunks) == {"bullet": 223, "row": 5, "header": 1}
    per = Counter(c.heading for c in chunks)
    assert per["Amazon SES"] == 28 and per["SSM Session Manager"] == 23 and per["Instance Scheduler on AWS"] == 11
    assert len(per) == 10
    assert {c.title for c in chunks} == {"Other Services"}


def test_every_text_is_verbatim_at_its_line():
    lines = NOTES.read_text(encoding="utf-8").split("\n")
    for c in _chunks():
        assert c.text and c.text in lines[c.line - 1], (c.line, c.text)
        assert c.text == c.text.rstrip()


def test_headings_and_breadcrumbs_of_nested_bullets():
    by = _by_line(_chunks())
    assert by[4].heading == "CloudFormation" and by[4].breadcrumb == []
    # tab + two spaces under a top-level bullet
    assert by[5].breadcrumb == ["Service d’infrastructure as code (IaC) managé par AWS"]
    # two tabs + four spaces: grandchild, emphasis removed from the parents
    assert by[57].heading == "Amazon SES"
    assert by[57].breadcrumb == ["Monitoring et gestion de la réputation", "Statistiques détaillées :"]
    assert by[57].text == "**Bounces** (échecs de livraison)"
    # "  \t- " (spaces then a tab) is a child too
    assert by[143].breadcrumb == ["Service pour visualiser, comprendre et gérer les coûts et l’usage AWS dans le temps"]


def test_two_space_bullets_under_ssm_session_manager_are_top_level():
    by = _by_line(_chunks())
    for n in range(109, 114):
        assert by[n].heading == "SSM Session Manager"
        assert by[n].breadcrumb == [], n
    assert by[109].text.startswith("Permet d’**ouvrir une session shell sécurisée**")
    # the block that follows the blank lines starts afresh
    assert by[120].breadcrumb == ["Autres fonctions clés de SSM", "Run Command"]


def test_table_rows_keep_header_as_context():
    by = _by_line(_chunks())
    rows = [c for c in by.values() if c.kind == "row"]
    assert [r.line for r in rows] == [221, 222, 223, 224, 225]
    row = by[222]
    assert row.heading == "AWS Batch"
    assert row.breadcrumb == ["Comparaison rapide AWS Batch vs AWS Lambda", "Critère | AWS Lambda | AWS Batch"]
    assert row.text.startswith("| **Durée max**")
    text = index_text(row)
    assert "AWS Lambda : 15 minutes max" in text and "AWS Batch : Aucune limite de durée" in text
    assert "**" not in text


def test_index_text_is_heading_breadcrumb_text_without_emphasis():
    by = _by_line(_chunks())
    assert index_text(by[57]) == (
        "Amazon SES > Monitoring et gestion de la réputation > Statistiques détaillées : "
        "> Bounces (échecs de livraison)"
    )


def test_blocks_span_the_parent_bullet_and_its_children():
    by = _by_line(_chunks())
    assert (by[57].block_start, by[57].block_end) == (53, 60)
    assert (by[221].block_start, by[221].block_end) == (217, 225)


def test_markers_paragraphs_subheadings_and_numbered_lists():
    text = "\n".join(
        [
            "# Titre",
            "Intro sans rubrique.",
            "## Service A",
            "* étoile",
            "  + plus enfant",
            "1. numéro un",
            "   2) numéro deux enfant",
            "### Sous-partie",
            "- sous puce",
            "---",
            "Un paragraphe.",
        ]
    )
    chunks = parse_markdown(text, "a/b.md")
    got = [(c.line, c.heading, c.breadcrumb, c.text, c.kind) for c in chunks]
    assert got == [
        (2, "Titre", [], "Intro sans rubrique.", "paragraph"),
        (4, "Service A", [], "étoile", "bullet"),
        (5, "Service A", ["étoile"], "plus enfant", "bullet"),
        (6, "Service A", [], "numéro un", "bullet"),
        (7, "Service A", ["numéro un"], "numéro deux enfant", "bullet"),
        (9, "Sous-partie", [], "sous puce", "bullet"),
        (11, "Sous-partie", [], "Un paragraphe.", "paragraph"),
    ]
    assert chunks[-1].heading_path == ["Titre", "Service A", "Sous-partie"]
    assert all(c.source == "a/b.md" for c in chunks)


def test_no_heading_uses_file_name():
    chunks = parse_markdown("- seule puce\n", "dossier/mes-notes.md")
    assert chunks[0].heading == "mes-notes"


def test_chunk_round_trips_through_its_dict():
    from dataclasses import fields

    from retrieval.models import Chunk

    c = _chunks()[5]
    d = c.to_dict()
    assert set(d) == {f.name for f in fields(Chunk)}
    assert Chunk.from_dict(d) == c
