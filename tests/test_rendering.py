"""retrieval/presentation/rendering.py: passages drawn as HTML, the note's structure, exactly the note's characters.

The guarantee, checked by parsing the HTML (tests/visible_text.py): the visible text of each line
of the note equals the line minus the Markdown syntax the structure replaces; interface labels
are apart (class rv-ui); only a handful of tags and attributes exist, so a note cannot inject.
Checked on hostile notes, on every passage of every answer of the answer sets, on generated notes.
"""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from visible_text import check, expected, shown

from retrieval import Hit, Retriever
from retrieval.models import Answer, Passage
from retrieval.presentation import app_support as sup
from retrieval.presentation import rendering as rd
from retrieval.presentation.answer_view import copy_text, layout, why, why_html

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = """# Pièges <b>titre</b>

## Service :material/home: $x$

- <script>alert(1)</script> dans une note
- Une image <img src=x onerror=alert(1)> qui ne doit pas s'afficher
- Lien [cliquer](javascript:alert(1)) et couleur :red[rouge] et math $a^2$ et ~~barré~~
- Icône :material/home: et logo :streamlit: et emoji :smile:
- Flèches a -> b, a <- b, a -- b, a >= b, a <= b, a ~= b
- Console www.console.aws.amazon.com/ses/home pour SES
- Lien nu http://x.y/z et courriel support@entreprise.com
- &lt;entité&gt; et &amp; et \\*pas\\* d'échappement
- # pas un titre | pas | un tableau |
100. parent numéroté
    - enfant sous le numéro
- **SES** et *Pinpoint* et `s3:*` et s3:* et ec2:* et __init__.py et **non fermé
- Contrôles \x1b[2J et \u202eà l'envers\u202c et \x07 cloche

> [!tip] Pour l'examen **SES**
> - Dans un encadré : <i>italique</i> et `code <b>`
> | a | b |
> |---|---|
> | **x** | www.y.com |

| Service | Durée <max> |
|---|---|
| Lambda | 15 minutes -> max |

- Exemple :
  ```bash
  docker rmi $(docker images -q) <b>&amp;</b>
      indentation gardée
  ```
"""
HOSTILE_LINES = HOSTILE.split("\n")


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.split("\n"), 1))


def test_hostile_note_shows_every_character():
    html = rd.render_lines(numbered(HOSTILE), "SES enfant", hits={8, 14})
    lines = check(html, numbered(HOSTILE))
    by_text = {n: ln.text for n, ln in lines.items()}
    assert by_text[5] == "<script>alert(1)</script> dans une note"
    assert by_text[8] == "Icône :material/home: et logo :streamlit: et emoji :smile:"
    assert by_text[9] == "Flèches a -> b, a <- b, a -- b, a >= b, a <= b, a ~= b"
    assert by_text[11] == "Lien nu http://x.y/z et courriel support@entreprise.com"
    assert by_text[12] == "&lt;entité&gt; et &amp; et \\*pas\\* d'échappement"
    assert by_text[16] == "SES et Pinpoint et s3:* et s3:* et ec2:* et __init__.py et **non fermé"
    assert by_text[17] == "Contrôles \\x1b[2J et \\u202eà l'envers\\u202c et \\x07 cloche"
    assert by_text[19] == "Pour l'examen SES"  # the callout's title, its [!tip] drawn as a frame
    # the fence's own indentation is structure, the code's own is kept
    assert by_text[31] == "docker rmi $(docker images -q) <b>&amp;</b>"
    assert by_text[32] == "    indentation gardée"
    # Inside a URL the highlighted word is marked, the URL's characters untouched, nothing is a link.
    assert "www.console.aws.amazon.com/<mark>ses</mark>/home" in html
    assert "<a" not in html and "<img" not in html and "<script" not in html
    # "100. parent" keeps its number, and its child is under it.
    assert re.search(r'<ol class="rv-list rv-w3"><li value="100"><span [^>]*data-line="14">[^<]*</span><ul', html)
    # Structure: a callout, two tables with their header, a code block.
    assert html.count('<div class="rv-callout">') == 1
    assert html.count("<thead>") == 2 and "<th>Durée &lt;max&gt;</th>" in html
    assert html.count('<pre class="rv-code">') == 1
    # Balanced emphasis only: `s3:*` is code, the lone ** stays as written.
    assert "<strong><mark>SES</mark></strong> et <em>Pinpoint</em> et <code>s3:*</code> et s3:*" in html
    assert 'class="rv-l rv-hit" data-line="8"' in html


def test_only_safe_tags_even_from_the_style():
    assert "<script" not in rd.STYLE and "@import" not in rd.STYLE and "url(" not in rd.STYLE


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        ":red[x] $x$ :material/home: :streamlit:",
        "a -> b",
        "www.console.aws.amazon.com/ses/home",
        "http://x.y/z",
        "support@entreprise.com",
        "\u202e\x1b\x00",
    ],
)
def test_labels_and_echo_are_escaped(text):
    for html in (rd.label_html(text), rd.text_block(text)):
        lines, _, labels = shown(f'<div class="rv-l" data-line="1">{html}</div>')
        assert lines[1].text == expected([(1, text)], {})[1] or text.startswith("\u202e")
        assert not labels


def test_markdown_label_refuses_what_streamlit_would_rewrite():
    assert rd.markdown_label("c'est quoi Amazon SES ?") == "c'est quoi Amazon SES ?"
    for risky in (":material/home:", "a -> b", "www.x.com", "a@b.fr", "x :streamlit:", "http://x"):
        assert rd.markdown_label(f"c'est quoi {risky} ?") is None


# ----- skipped lines, caps ------------------------------------------------------------------------
def test_skipped_lines_are_said_outside_the_quote():
    text = ["- a", "\t- b", "\t- c", "", "\t- e"]
    lines = [(10, text[0]), (12, text[2]), (14, text[4])]
    html = rd.render_lines(lines)
    check(html, lines)
    _, _, labels = shown(html)
    assert labels == ["⋯ ligne 11 non montrée", "⋯ ligne 13 non montrée"]
    two = rd.render_lines([(10, text[0]), (13, text[3]), (14, text[4])])
    assert shown(two)[2] == ["⋯ lignes 11–12 non montrées"]
    # with the block at hand, a skipped blank line is not worth a marker
    block = dict(zip(range(10, 15), text))
    html = rd.render_lines(lines, hidden_blank=lambda a, b: all(not block[n].strip() for n in range(a, b + 1)))
    assert shown(html)[2] == ["⋯ ligne 11 non montrée"]


def test_a_2_mib_line_is_cut_with_a_marker():
    line = "- " + "é" * (2 * 1024 * 1024)
    html = rd.render_lines([(3, line)], "é")
    assert len(html) < 20_000
    lines = check(html, [(3, line)])
    assert len(lines[3].text) == rd.LINE_CAP - 2 and lines[3].cut == rd.LINE_CAP
    assert "caractères de plus" in lines[3].ui[0]
    ctx = rd.render_context([line], 3)
    assert len(ctx) < 3 * rd.CONTEXT_LINE_CAP
    assert "dans la note" in shown(ctx)[0][3].ui[0]


def test_a_passage_is_capped_and_says_so():
    lines = [(n, "- " + "x" * 3000) for n in range(1, 11)]
    html = rd.render_lines(lines)
    got = check(html, lines)
    assert len(got) == rd.PASSAGE_CAP // rd.LINE_CAP
    assert any("lignes de plus" in u and "Voir le contexte" in u for u in shown(html)[2])
    assert len(html) < 2 * rd.PASSAGE_CAP


def test_a_cut_never_splits_a_character():
    text = "a" * 9 + "e\u0301" + "👨\u200d👩\u200d👧" + "🇫🇷"
    for limit in range(1, len(text)):
        j = rd.cut_point(text, limit)
        assert j <= limit
        assert not (0 < j < len(text) and (text[j] in "\u0301\u200d" or text[j - 1] == "\u200d"))
    assert rd.cut_point(text, 10) == 9  # not between "e" and its accent
    assert rd.cut_point("ab🇫🇷🇫🇷", 3) == 2  # not inside a flag


def test_more_is_said_after_the_quote():
    html = rd.render_lines([(1, "- a")], more=True)
    assert shown(html)[2] == ["⋯ la suite dans « Voir le contexte »"]


# ----- generated notes ----------------------------------------------------------------------------
PIECES = hs.sampled_from(
    ["", "- ", "* ", "+ ", "1. ", "100) ", "> ", "> [!tip] ", "> - ", "| ", "|---|---|", "```", "~~~", "---", "# "]
)
INDENT = hs.sampled_from(["", " ", "  ", "\t", "\t  ", "    ", "        "])
WORDS = hs.text(alphabet=hs.sampled_from(list("ab SES*_`[]()<>$:~|{}!#&@^=\\-+./é’\t\x1b\u202e")), max_size=30)
LINE = hs.tuples(INDENT, PIECES, WORDS).map(lambda t: "".join(t))


@settings(max_examples=500, deadline=None)
@given(hs.lists(LINE, min_size=1, max_size=14), hs.data())
def test_generated_notes_render_verbatim(note, data):
    numbered_all = list(enumerate(note, 1))
    keep = data.draw(hs.lists(hs.booleans(), min_size=len(note), max_size=len(note)))
    lines = [x for x, k in zip(numbered_all, keep) if k] or numbered_all[:1]
    hits = {n for n, _ in lines[::2]}
    html = rd.render_lines(lines, "SES ab", hits)
    check(html, lines)
    check(rd.render_context(note, 1, hits, "SES"), numbered_all)


# ----- every passage of every answer set ----------------------------------------------------------
def answer_items() -> list[dict]:
    out = []
    for name in ("answers.jsonl", "stockage-answers.jsonl"):
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


@pytest.fixture(scope="module")
def retrievers(built_index, tmp_path_factory):
    out = {"corpus": Retriever.load(built_index)}
    for item in answer_items():
        c = item.get("corpus")
        if c and c not in out:
            out[c], _ = Retriever.open(ROOT / c, tmp_path_factory.mktemp("answers-index"))
    return out


@pytest.mark.slow
def test_every_passage_of_every_answer_renders_verbatim(retrievers):
    seen = 0
    for item in answer_items():
        r = retrievers[item.get("corpus") or "corpus"]
        answer = r.ask(item["q"], k=5)
        for p in answer.passages:
            note = (r.corpus_dir / p.source).read_text(encoding="utf-8").split("\n")
            assert p.text.split("\n") == [note[n - 1].rstrip() for n in p.lines]  # the passage is the file's lines
            ctx = sup.passage_context(r.corpus_dir, p)
            assert ctx is not None
            html = rd.render_passage(p, item["q"], ctx)
            shown_lines = check(html, list(zip(p.lines, p.text.split("\n"))), gaps=False)  # blank ones unsaid
            assert {n for n, ln in shown_lines.items() if ln.text}, f"nothing shown of {p.source}:{p.lines}"
            assert all(not ln.cut for ln in shown_lines.values())
            _, first, last = sup.passage_key(p)
            check(rd.render_context(ctx, first, [h.line for h in p.hits], item["q"]), list(enumerate(ctx, first)))
            card = rd.passage_card(p, item["q"], ctx)
            assert card.count('data-line="') == html.count('data-line="')
            seen += 1
    assert seen >= 50


# ----- around a passage ---------------------------------------------------------------------------
def hit(line: int, words: float, meaning: float, exam: bool = False) -> Hit:
    return Hit("n.md", line, "H", [], "", 1.0, words=words, meaning=meaning, exam=exam)


def passage(hits: list[Hit], text="- **Amazon SES** : envoi d'e-mails\n\t- SES et ses statistiques", **kw) -> Passage:
    return Passage("n.md", "Amazon SES", ["Amazon SES"], ["Parent"], [4, 5], text, hits, 1.0, **kw)


def test_why_this_passage():
    p = passage([hit(4, 0.1, 0.6), hit(5, 0.1, 0.3)])
    w = why(p, "statistiques de SES")
    assert w.words == ["SES", "statistiques"] and w.carrier == "sens"
    assert why(passage([hit(4, 0.9, 0.1)]), "SES").carrier == "mots"
    assert why(passage([hit(4, 0.5, 0.4)]), "SES").carrier == "les deux"
    assert why(passage([hit(4, 0, 0)]), "SES").carrier == ""
    assert why(passage([hit(4, 0.1, 0.1)]), "rien").words == []
    hostile = passage([hit(4, 0.1, 0.1)], text="- <b>SES</b> :material/home:")
    assert "&lt;b&gt;" not in why_html(hostile, "SES") and "« SES »" in why_html(hostile, "SES")


def test_copy_is_the_markdown_and_its_source():
    p = passage([hit(4, 0.1, 0.1)])
    assert copy_text(p) == p.text + "\n\nn.md:4–5"


def test_caption_badge_and_ref():
    p = passage([hit(4, 0.1, 0.1, exam=True)])
    card = rd.passage_card(p, "SES")
    assert '<span class="rv-badge">Examen</span>Amazon SES › Parent' in card
    assert '<div class="rv-ref">n.md:4–5</div>' in card


def test_comparison_layout():
    def p(heading, contrast=False):
        return Passage("n.md", heading, [heading], [], [1], "- x", [], 1.0, contrast=contrast)

    ps = [p("A"), p("B", True), p("B"), p("A"), p("C")]
    view = layout(Answer("q", "compare", services=["B", "A"], passages=ps))
    assert [i for i, _ in view.first] == [1]
    assert [(h, [i for i, _ in x]) for h, x in view.columns] == [("B", [2]), ("A", [0, 3]), ("C", [4])]
    view = layout(Answer("q", "lookup", passages=ps))
    assert [i for i, _ in view.first] == [0, 1, 2, 3, 4] and not view.columns


def test_passage_context_is_verbatim_and_refuses_a_changed_note(tmp_path):
    note = tmp_path / "n.md"
    note.write_text("## A\n\n- a\n\t- b\n\t- c   \n", encoding="utf-8")
    p = Passage("n.md", "A", ["A"], [], [3, 5], "- a\n\t- c", [], 1.0, first_line=3, last_line=5)
    assert sup.passage_context(tmp_path, p) == ["- a", "\t- b", "\t- c   "]
    note.write_text("## A\n\n- a\n\t- c changé\n", encoding="utf-8")
    assert sup.passage_context(tmp_path, p) is None
    outside = Passage("../x.md", "A", [], [], [1], "x", [], 1.0, first_line=1, last_line=1)
    assert sup.passage_context(tmp_path, outside) is None
