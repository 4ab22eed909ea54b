"""Cards cut from the real notes: every answer verbatim at its line, labels never cloze, ids that survive moves.

Real parser, real notes; the counts per kind are printed (`pytest -s`) and pinned.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from retrieval import parse_notes
from retrieval.parsing import parse_markdown, split_lines
from revision.cards import MASK, cards_for_lines, cards_of, count_kinds, extract, table_cells
from revision.study import quiz_target

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DATA = ROOT / "tests" / "data"
CORPORA = [CORPUS, DATA / "stockage", DATA / "obsidian", DATA / "cheatsheet"]


@pytest.fixture(scope="module")
def cards():
    return cards_of(CORPUS)


def note_lines(corpus: Path, source: str) -> list[str]:
    return split_lines((corpus / source).read_text(encoding="utf-8"))


def check_verbatim(corpus: Path, cards) -> None:
    """Every answer stands, character for character, on the line(s) the card names."""
    chunks, _ = parse_notes(corpus)
    by_line = {(c.source, c.line): c for c in chunks}
    for card in cards:
        lines = note_lines(corpus, card.source)
        line = lines[card.line - 1]
        assert card.text in line, card
        if card.kind == "cloze":
            assert card.answer in line
            start, end = card.span
            assert card.text[start:end].strip("*_") == card.answer  # the masked run is the span, markers aside
            assert card.prompt == card.text[:start] + MASK + card.text[end:]
            assert card.answer_lines == [card.line]
        elif card.kind == "table":
            assert card.answer in line and line.lstrip().startswith("|")
            assert card.text[card.span[0] : card.span[1]] == card.answer
        else:
            parts = card.answer.split("\n")
            assert len(parts) == len(card.answer_lines) and 2 <= len(parts) <= 10
            for part, n in zip(parts, card.answer_lines):
                assert n > card.line and part in lines[n - 1]
                assert by_line[(card.source, n)].parent_line == card.line  # a child of the label, not a grandchild
        assert by_line[(card.source, card.line)].text == card.text


def test_counts_per_kind_on_the_real_notes(cards):
    counts = count_kinds(cards)
    print(f"\ncartes sur corpus/other-services.md : {counts} (total {len(cards)})")
    assert counts == {"cloze": 182, "list": 48, "table": 10}
    assert len({c.id for c in cards}) == len(cards)


def test_every_answer_is_verbatim_at_its_line(cards):
    check_verbatim(CORPUS, cards)


@pytest.mark.parametrize("corpus", CORPORA[1:], ids=lambda p: p.name)
def test_every_answer_is_verbatim_in_other_note_styles(corpus):
    cards = cards_of(corpus)
    assert all(count_kinds(cards).values())
    check_verbatim(corpus, cards)


def test_labels_are_never_cloze_cards(cards):
    chunks, _ = parse_notes(CORPUS)
    labels = {(c.source, c.line) for c in chunks if c.label}
    assert labels
    assert not [c for c in cards if c.kind == "cloze" and (c.source, c.line) in labels]
    # "**Email**" is a whole bullet in bold: nothing left to ask around it
    assert not [c for c in cards if c.kind == "cloze" and c.prompt.strip() == MASK]


def test_the_issue_examples(cards):
    ssm = [c for c in cards if c.kind == "cloze" and c.line == 139]
    assert [c.answer for c in ssm] == ["IAM Role", "VPC Endpoint", "SSM Agent actif"]
    assert ssm[0].prompt == "Tu dois avoir un […], **VPC Endpoint** si en privé, et **SSM Agent actif**"
    assert all(c.exam and c.heading == "SSM Session Manager" for c in ssm)

    (channels,) = [c for c in cards if c.kind == "list" and c.line == 79]
    assert channels.prompt == "Amazon Pinpoint › Canaux de communication supportés ?"
    assert channels.answer.split("\n")[0] == "**Email**" and len(channels.answer_lines) == 5

    (lambda_max,) = [c for c in cards if c.prompt == "Durée max — AWS Lambda ?"]
    assert lambda_max.kind == "table" and lambda_max.answer == "15 minutes max" and lambda_max.line == 222


def test_exam_cards_are_marked(cards):
    exam = [c for c in cards if c.exam]
    assert exam and all("Pour l’examen AWS SAA" in c.breadcrumb for c in exam)
    assert not [c for c in cards if not c.exam and "Pour l’examen AWS SAA" in c.breadcrumb]
    # the exam label itself gathers unrelated advice: no list card for it
    assert not [c for c in cards if c.kind == "list" and c.prompt.endswith("Pour l’examen AWS SAA ?")]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("- **S3** et **IAM Role**", ["IAM Role"]),  # two characters: too short
        ("- jusqu'à **70** fois, **70 %** des coûts", ["70 %"]),  # a bare number has no meaning alone
        ("- **Email**", []),  # the whole bullet
        ("- **Sécurité** :", []),  # a label
        ("- __Stack__ = ensemble de ressources", ["Stack"]),
        # inside inline code, markers are code: no bold, no card (was a cloze « pas gras » and « init »)
        ("- écrire `**pas gras**` ou `__init__` dans le **fichier source**", ["fichier source"]),
    ],
)
def test_which_spans_are_worth_a_card(line, expected):
    cards = extract(parse_markdown("## Service\n" + line + "\n", "n.md"))
    assert [c.answer for c in cards if c.kind == "cloze"] == expected


def test_list_needs_two_to_ten_children():
    def lists(n: int) -> int:
        md = "## S\n- **Label** :\n" + "".join(f"  - enfant {i}\n" for i in range(n))
        return count_kinds(extract(parse_markdown(md, "n.md")))["list"]

    assert [lists(n) for n in (1, 2, 10, 11)] == [0, 1, 1, 0]


def test_table_cells_keep_their_exact_text():
    row = "| **Durée max**  | 15 minutes max |  **Aucune limite** |"
    assert [row[a:b] for a, b in table_cells(row)] == ["**Durée max**", "15 minutes max", "**Aucune limite**"]
    plain = "a | b \\| c | d"
    assert [plain[a:b] for a, b in table_cells(plain)] == ["a", "b \\| c", "d"]
    md = "## S\n| | A | B |\n|---|---|---|\n| But | lire | écrire |\n| Court | x |\n"
    cards = extract(parse_markdown(md, "n.md"), {"n.md": split_lines(md)})  # the blank corner cell counts
    assert [(c.prompt, c.answer) for c in cards] == [("But — A ?", "lire"), ("But — B ?", "écrire")]


NOTE = """# Notes
## Service A
- **Fonctions** :
  - **Run Command** exécute des commandes
  - **Patch Manager** gère les **mises à jour**
- Une ligne avec **un terme**
"""


def test_ids_survive_moves_and_change_with_the_text():
    before = {c.answer: c.id for c in extract(parse_markdown(NOTE, "n.md"))}
    moved = NOTE.replace("## Service A\n", "## Service A\n\n- Une puce ajoutée au-dessus\n\n")
    after = extract(parse_markdown(moved, "n.md"))
    assert {c.answer: c.id for c in after} == before  # same ids although every line moved
    assert {c.line for c in after} != set()
    rewritten = NOTE.replace("gère les **mises à jour**", "gère les **correctifs**")
    ids = {c.id for c in extract(parse_markdown(rewritten, "n.md"))}
    assert before["Run Command"] in ids and before["un terme"] in ids
    assert before["mises à jour"] not in ids and before["Patch Manager"] not in ids  # its line was rewritten


def test_identical_lines_get_distinct_ids():
    md = "## S\n- **même** chose\n- **même** chose\n"
    cards = extract(parse_markdown(md, "n.md"))
    assert len(cards) == 2 and cards[0].id != cards[1].id


def test_cards_for_lines_of_a_chat_passage(cards):
    ids = cards_for_lines(cards, "other-services.md", [139])
    assert [c.answer for c in cards if c.id in ids] == ["IAM Role", "VPC Endpoint", "SSM Agent actif"]
    # a child line: its own card, then the list that asks for it
    ids = cards_for_lines(cards, "other-services.md", [81])
    kinds = [next(c for c in cards if c.id == i).kind for i in ids]
    assert kinds == ["cloze", "list"]
    assert cards_for_lines(cards, "autre.md", [139]) == []


HEADINGS = [
    "CloudFormation",
    "Amazon SES",
    "Amazon Pinpoint",
    "SSM Session Manager",
    "AWS Cost Explorer",
    "Instance Scheduler on AWS",
]


@pytest.mark.parametrize(
    "question, expected",
    [
        ("interroge-moi sur SSM", "SSM Session Manager"),
        ("quiz SSM", "SSM Session Manager"),
        ("Interroge moi sur le Session Manager stp", "SSM Session Manager"),
        ("teste-moi sur ses", "Amazon SES"),
        ("quizz pinpont ?", "Amazon Pinpoint"),
        ("révise Pinpoint", "Amazon Pinpoint"),
        ("quiz cost explorer", "AWS Cost Explorer"),
        ("quelle différence entre SES et Pinpoint ?", None),
        ("révise Route 53", None),
        ("quiz", None),
        ("interroge-moi sur AWS", None),
    ],
)
def test_quiz_target(question, expected):
    assert quiz_target(question, HEADINGS) == expected


def test_cli_cards_json_contract():
    out = subprocess.run(
        [sys.executable, "-m", "revision", "cards", "--corpus", "corpus", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    keys = {"id", "kind", "heading", "breadcrumb", "source", "line", "prompt", "answer", "exam"}
    assert data["cards"] and all(set(c) == keys for c in data["cards"])
    assert {c["kind"] for c in data["cards"]} == {"cloze", "list", "table"}
    lines = note_lines(CORPUS, "other-services.md")
    for c in data["cards"]:
        if c["kind"] != "list":
            assert c["answer"] in lines[c["line"] - 1]
    ssm = subprocess.run(
        [sys.executable, "-m", "revision", "cards", "--service", "SSM", "--exam-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Tu dois avoir un […]" in ssm and ssm.strip().endswith("0 tableaux")


def test_cli_errors_are_one_french_line(tmp_path):
    for args in (["cards", "--corpus", str(tmp_path / "absent")], ["cards", "--service", "Route 53"]):
        out = subprocess.run([sys.executable, "-m", "revision", *args], cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 2 and out.stderr.startswith("Erreur : ") and out.stderr.count("\n") == 1
        assert "Traceback" not in out.stderr


_text = hs.text(hs.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    hs.lists(
        hs.tuples(hs.sampled_from(["- ", "  - ", "    - ", "| ", "", "## "]), _text, hs.booleans(), _text),
        max_size=12,
    )
)
def test_any_note_gives_verbatim_answers(tmp_path_factory, lines):
    """Whatever the note, a card's answer is on its line and the mask is the only text added."""
    md = "\n".join(f"{m}{a}{'**' + b + '**' if bold else b}" for m, a, bold, b in lines)
    folder = tmp_path_factory.mktemp("notes")
    (folder / "n.md").write_text(md, encoding="utf-8")
    text_lines = split_lines((folder / "n.md").read_text(encoding="utf-8"))
    for card in cards_of(folder):
        assert card.text in text_lines[card.line - 1]
        for part, n in zip(card.answer.split("\n"), card.answer_lines):
            assert part in text_lines[n - 1]
        if card.kind == "cloze":
            assert card.prompt.replace(MASK, card.text[card.span[0] : card.span[1]], 1) == card.text
