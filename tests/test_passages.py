"""Passages (issue 12): what a student reads is exactly the note's lines, and holds what answers."""

from collections import defaultdict
from pathlib import Path

import pytest
from conftest import CORPUS, NOTES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval import Hit, Retriever
from retrieval.parsing import parse_markdown, split_lines
from retrieval.passages import MAX_LINES, NoteLines, NoteStructure, build
from retrieval.tools.evaluate import index_for, load_set

ROOT = Path(__file__).resolve().parents[1]
LINES = split_lines(NOTES.read_text(encoding="utf-8"))
MISSION = "quelle différence entre SES et Pinpoint ?"


def _exact(p, lines: list[str]) -> None:
    assert p.lines == sorted(set(p.lines)) and p.lines, p
    assert p.text == "\n".join(lines[n - 1].rstrip() for n in p.lines)
    for h in p.hits:  # every matched bullet is inside, verbatim at its line
        assert h.line in p.lines and h.text in lines[h.line - 1]


def test_mission_question_shows_the_contrast_and_no_bare_label(retriever):
    a = retriever.ask(MISSION, k=5)
    shown = {n for p in a.passages for n in p.lines}
    assert {93, 104} & shown and {94, 102, 106} & shown
    assert a.passages[0].contrast, "what sets the two apart comes first"
    for p in a.passages:
        _exact(p, LINES)
        for n in p.lines:  # a label is never shown without the children it announces
            c = next((c for c in retriever.chunks if c.line == n), None)
            if c is not None and c.label:
                kids = {x.line for x in retriever.chunks if x.parent_line == n}
                assert kids & set(p.lines), (n, p.lines)


def test_a_label_brings_its_list_and_k_counts_passages(retriever):
    a = retriever.ask("quelles statistiques SES fournit ?", k=5)
    assert len(a.passages) <= 5
    stats = next(p for p in a.passages if 55 in p.lines)
    assert {56, 57, 58, 59} <= set(stats.lines)
    b = retriever.ask("Batch vs Lambda : durée maximale ?", k=5)
    table = next(p for p in b.passages if 222 in p.lines)
    assert {219, 220} <= set(table.lines), "a table row comes with the header row"


def test_a_label_over_code_shows_the_code(tmp_path):
    notes = tmp_path / "n"
    notes.mkdir()
    (notes / "docker.md").write_text(
        "## Docker\n\n**Supprimer toutes les images** :\n```bash\n# tout effacer\n"
        "docker rmi $(docker images -q)\n```\n",
        encoding="utf-8",
    )
    r = Retriever.build(notes, tmp_path / "idx")
    p = r.ask("supprimer toutes les images docker", k=1).passages[0]
    assert p.lines == [3, 4, 5, 6, 7]  # the label, the fences and the code
    _exact(p, split_lines((notes / "docker.md").read_text(encoding="utf-8")))


@pytest.mark.slow
def test_every_passage_of_every_evaluation_set_is_exactly_its_lines():
    items = load_set([str(p) for p in sorted((ROOT / "eval").rglob("*.jsonl"))])
    by_corpus = defaultdict(list)
    for it in items:
        by_corpus[it.get("corpus") or "corpus"].append(it)
    seen = 0
    for corpus, its in by_corpus.items():
        folder = ROOT / corpus
        r, _ = Retriever.open(folder, index_for(folder, CORPUS, ROOT / "index", None))
        for it in its:
            for p in r.ask(it["q"], k=5).passages:
                _exact(p, split_lines((folder / p.source).read_text(encoding="utf-8")))
                seen += 1
    assert seen > 1000


_LINE = st.one_of(
    st.sampled_from(["", "## Service", "### Sous-partie", "**Label** :", "Exemple :", "```bash", "```", "| a | b |"]),
    st.builds(
        lambda indent, marker, words: f"{indent}{marker} {words}",
        st.sampled_from(["", "  ", "    ", "\t", "\t\t"]),
        st.sampled_from(["-", "*", "1.", "2)"]),
        st.text(alphabet="abcdé :*`|", min_size=1, max_size=12),
    ),
    st.text(alphabet="abc é>[!]tip|-", max_size=10),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_LINE, max_size=40), st.data())
def test_generated_notes_give_passages_that_are_exactly_their_lines(tmp_path_factory, lines, data):
    text = "\n".join(lines)
    folder = tmp_path_factory.mktemp("g")
    (folder / "n.md").write_text(text, encoding="utf-8")
    chunks = parse_markdown(text, "n.md")
    if not chunks:
        return
    picked = data.draw(st.lists(st.sampled_from(chunks), min_size=1, max_size=8))
    hits = [Hit(c.source, c.line, c.heading, c.breadcrumb, c.text, 1.0 - i / 10) for i, c in enumerate(picked)]
    k = data.draw(st.integers(1, 5))
    out = build(hits, NoteStructure(chunks), NoteLines(folder), k)
    assert len(out) <= k
    note_lines = split_lines(text)
    for p in out:
        _exact(p, note_lines)
        assert len(p.lines) <= MAX_LINES + 2 * len(p.hits) + 2  # capped: the matched lines and their header rows


WRAPPED = (
    "## Amazon SQS\n\n"
    "SQS est une file d'attente managée : les producteurs y déposent des\n"  # 3
    "messages, les consommateurs les lisent puis les suppriment. Il n'y a\n"  # 4
    "aucune capacité à provisionner.\n\n"  # 5
    "Les chiffres qui tombent souvent\n"  # 7
    "* taille max d'un message : 256 Ko, au-delà on passe par\n"  # 8
    "  S3 avec l'Extended Client Library\n"  # 9
    "* rétention : 4 jours par défaut\n\n"  # 10
    "**Standard** — débit illimité, livraison au moins une fois.\n"  # 12
    "**FIFO** — ordre strict, traitement exactement une fois.\n"  # 13
)


def test_a_wrapped_paragraph_is_shown_whole_and_a_wrapped_bullet_with_its_end(tmp_path):
    folder = tmp_path / "n"
    folder.mkdir()
    (folder / "sqs.md").write_text(WRAPPED, encoding="utf-8")
    chunks = parse_markdown(WRAPPED, "sqs.md")
    at = {c.line: c for c in chunks}

    def passages(*lines: int):
        hits = [Hit("sqs.md", n, "Amazon SQS", at[n].breadcrumb, at[n].text, 1.0 - i / 10) for i, n in enumerate(lines)]
        return build(hits, NoteStructure(chunks), NoteLines(folder), 5)

    note = split_lines(WRAPPED)
    (p,) = passages(4)  # the middle of a paragraph: the whole paragraph
    assert p.lines == [3, 4, 5]
    _exact(p, note)
    (p,) = passages(8)  # a bullet whose text runs on to the next line: both lines
    assert p.lines == [7, 8, 9]
    _exact(p, note)
    (p,) = passages(13)  # lines one under the other are one paragraph: the two definitions together
    assert p.lines == [12, 13]
