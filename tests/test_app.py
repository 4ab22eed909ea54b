"""The Streamlit chat, run headless with AppTest: real model, real notes, no mocks.

Quotes reach the page as Markdown with backslash escapes and highlight wrappers;
`unrender_quote` removes exactly those, so comparing with the note proves not one character changed.
"""

import re
import tomllib
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from retrieval import Hit
from retrieval import app_support as sup
from retrieval.formatting import (
    CONTEXT_MARK,
    context_block,
    context_markdown,
    escape_markdown,
    quote_markdown,
    unrender_quote,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
NOTES = CORPUS / "other-services.md"

APP = str(ROOT / "app.py")
COMPARE = "quelle différence entre SES et Pinpoint ?"
NOTE_LINES = NOTES.read_text(encoding="utf-8").splitlines()


def section_of_lines() -> dict[int, str]:
    heading, out = "", {}
    for n, line in enumerate(NOTE_LINES, 1):
        if line.startswith("## "):
            heading = line[3:].strip()
        out[n] = heading
    return out


SECTION = section_of_lines()


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app(monkeypatch, built_index):
    """The app on the shipped notes, with the session's prebuilt index."""
    monkeypatch.setenv(sup.INDEX_ENV, str(built_index))
    monkeypatch.delenv(sup.CORPUS_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


REF = re.compile(r"(.+\.md)\\?:(\d+)")


def passages(node) -> list[tuple[str, str, int]]:
    """(unrendered quote, file, line) of every passage: a quote is the Markdown right before its `file:line` caption."""
    flat = [e for e in node if getattr(e, "type", None) in ("markdown", "caption")]
    out = []
    for prev, e in zip(flat, flat[1:]):
        m = REF.fullmatch(e.value) if e.type == "caption" else None
        if m and prev.type == "markdown":
            out.append((unrender_quote(prev.value), unrender_quote(m.group(1)), int(m.group(2))))
    return out


def context_lines(md: str) -> list[str]:
    """Item texts of a context list (bullets re-drawn, quoted line marked), unrendered."""
    out = []
    for line in md.split("\n"):
        text = re.sub(r"^\s*(?:-|\d+[.)]) ", "", line)
        if text.startswith(CONTEXT_MARK[0]) and text.endswith(CONTEXT_MARK[1]):
            text = text[len(CONTEXT_MARK[0]) : -len(CONTEXT_MARK[1])]
        out.append(unrender_quote(text))
    return out


def quotes(node) -> list[str]:
    return [q for q, _, _ in passages(node)]


def answer_headings(at) -> list[str]:
    return [s.value for s in at.main.subheader]


def ask(at, question):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def line_sections(quote: str) -> set[str]:
    return {SECTION[n] for n, line in enumerate(NOTE_LINES, 1) if quote in line}


# ----- end to end in AppTest ---------------------------------------------------------------------
@pytest.mark.slow  # whole app, first run builds the index
def test_first_run_builds_index_then_compares_ses_and_pinpoint(monkeypatch, tmp_path):
    index = tmp_path / "index"
    monkeypatch.setenv(sup.INDEX_ENV, str(index))
    monkeypatch.delenv(sup.CORPUS_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert not at.error
    assert (index / "CURRENT").is_file(), "the first run must build the missing index"
    assert any("Index prêt" in s.label for s in at.status)
    # Welcome: example questions as buttons and the services of the notes.
    labels = [b.label for b in at.button]
    assert COMPARE in labels and "c'est quoi Outposts ?" in labels
    assert any("Amazon SES" in c.value and "AWS Outposts" in c.value for c in at.caption)

    ask(at, COMPARE)
    heads = answer_headings(at)
    assert "Amazon SES" in heads and "Amazon Pinpoint" in heads
    qs = quotes(at.main)
    assert qs
    for q in qs:
        assert line_sections(q), f"not a verbatim line of the notes: {q!r}"
    covered = set().union(*(line_sections(q) for q in qs))
    assert {"Amazon SES", "Amazon Pinpoint"} <= covered
    # Each passage says where it comes from, and that line really holds the quote.
    for q, source, line in passages(at.main):
        assert source == "other-services.md" and q in NOTE_LINES[line - 1]
    # The whole parent block, verbatim, in "Voir le contexte".
    assert [e.label for e in at.main.expander].count("Voir le contexte") == len(qs)
    for exp in at.main.expander:
        for m in exp.markdown:
            for line in context_lines(m.value):
                assert any(line in note for note in NOTE_LINES), line

    # Reruns reuse the loaded retriever: the model and index were loaded once.
    shared = sup.shared(str(CORPUS.resolve()), str(index.resolve()), "use-multilingual-v3")
    at.run()
    ask(at, "c'est quoi Outposts ?")
    assert shared.loads == 1
    assert len(at.session_state["history"]) == 4


def test_service_filter_restricts_passages(app):
    app.multiselect[0].set_value(["Amazon SES"]).run()
    ask(app, COMPARE)
    assert set(answer_headings(app)) == {"Amazon SES"}
    for q in quotes(app.main):
        assert "Amazon SES" in line_sections(q)


def test_slider_sets_number_of_passages(app):
    app.slider[0].set_value(2).run()
    ask(app, "c'est quoi Outposts ?")
    assert 1 <= len(quotes(app.main)) <= 2


def test_exam_only_shows_exam_marker(app):
    app.toggle[0].set_value(True).run()
    ask(app, "conseils pour l'examen sur SSM")
    qs = quotes(app.main)
    assert qs, "the notes hold exam tips on SSM"
    assert set(answer_headings(app)) == {"SSM Session Manager"}
    for q in qs:
        assert "SSM Session Manager" in line_sections(q)
    markers = [c for c in app.main.caption if "Examen" in c.value]
    assert len(markers) == len(qs)


def test_example_button_asks_it(app):
    next(b for b in app.button if b.label == "c'est quoi Outposts ?").click().run()
    assert not app.exception
    assert app.session_state["history"][0]["text"] == "c'est quoi Outposts ?"
    assert "AWS Outposts" in answer_headings(app)


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_question_does_nothing(app, blank):
    ask(app, blank)
    assert not app.error
    assert app.session_state["history"] == []
    assert len(app.main.chat_message) == 1  # the welcome message only


def test_rebuild_button(app, monkeypatch, tmp_path):
    # Rebuild a scratch copy of the notes and index so the session's shared index stays untouched.
    corpus, index = tmp_path / "notes", tmp_path / "index"
    corpus.mkdir()
    (corpus / "other-services.md").write_bytes(NOTES.read_bytes())
    monkeypatch.setenv(sup.CORPUS_ENV, str(corpus))
    monkeypatch.setenv(sup.INDEX_ENV, str(index))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "Amazon Nouveau" not in at.multiselect[0].options
    (corpus / "nouveau.md").write_text(
        "# N\n\n## Amazon Nouveau\n\n- Un service ajouté après le démarrage\n", encoding="utf-8"
    )
    next(b for b in at.sidebar.button if b.label == "Reconstruire l'index").click().run()
    assert not at.exception and not at.error
    assert any("Index reconstruit" in s.value for s in at.sidebar.success)
    # The filter and the services list are drawn again from the new index, without another click.
    assert "Amazon Nouveau" in at.multiselect[0].options
    assert any("Amazon Nouveau" in c.value for c in at.caption)
    ask(at, COMPARE)
    assert quotes(at.main)


def test_missing_corpus_is_one_french_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv(sup.CORPUS_ENV, str(tmp_path / "pas-de-notes"))
    monkeypatch.setenv(sup.INDEX_ENV, str(tmp_path / "index"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert len(at.error) == 1
    msg = at.error[0].value
    assert "introuvable" in msg and "Traceback" not in msg and "\n" not in msg
    assert not at.chat_input


HOSTILE = """# Pièges

## Service <b>Gras</b> $x$

- <script>alert(1)</script> dans une note
- Une image <img src=x onerror=alert(1)> qui ne doit pas s'afficher
- Lien [cliquer](javascript:alert(1)) et couleur :red[rouge] et math $a^2$ et ~~barré~~
- # pas un titre | pas | un tableau |

## Section sans conseil

- Rien ici sur les conseils
"""


@pytest.fixture
def hostile_app(monkeypatch, tmp_path):
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "pieges.md").write_text(HOSTILE, encoding="utf-8")
    monkeypatch.setenv(sup.CORPUS_ENV, str(corpus))
    monkeypatch.setenv(sup.INDEX_ENV, str(tmp_path / "index"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


def test_html_in_notes_is_inert(hostile_app):
    at = hostile_app
    at.slider[0].set_value(10).run()
    ask(at, "script alert image onerror lien couleur")
    shown = quotes(at.main)
    for raw in [
        "<script>alert(1)</script> dans une note",
        "Une image <img src=x onerror=alert(1)> qui ne doit pas s'afficher",
        "Lien [cliquer](javascript:alert(1)) et couleur :red[rouge] et math $a^2$ et ~~barré~~",
    ]:
        assert raw in shown  # the exact characters, once escapes are removed
    for m in at.markdown:
        assert not m.proto.allow_html
        # No unescaped tag, link, colour directive or math left for Markdown to interpret.
        assert not re.search(r"(?<!\\)<(script|img|b)\b", m.value)
        assert not re.search(r"(?<!\\)\]\(", m.value), m.value  # no live link
        assert not re.search(r"(?<!\\):red\[", m.value), m.value  # no live colour
    assert "Service <b>Gras</b> $x$" in [unrender_quote(s.value) for s in at.main.subheader]
    assert all(not s.value.startswith("Service <b>") for s in at.main.subheader)


def test_nothing_relevant_message(hostile_app):
    at = hostile_app
    at.multiselect[0].set_value(["Section sans conseil"]).run()
    at.toggle[0].set_value(True).run()
    ask(at, "conseils")
    assert not quotes(at.main)
    assert any(m.value == "Rien de pertinent dans tes notes pour cette question." for m in at.main.markdown)


def test_no_unsafe_html_anywhere():
    for path in [ROOT / "app.py", *sorted(ROOT.glob("retrieval/**/*.py")), *sorted(ROOT.glob("ui/*.py"))]:
        assert "unsafe_allow_html" not in path.read_text(encoding="utf-8"), path


def test_streamlit_config_is_local_and_private():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["address"] == "localhost"
    assert cfg["browser"]["gatherUsageStats"] is False


# ----- the non-widget helpers ----------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(hs.text(alphabet=hs.sampled_from(list("ab SES*_[]()<>$:~|{}!#&@^=\\`-+.1é’\n")), max_size=40))
def test_quote_markdown_changes_no_character(text):
    assert unrender_quote(quote_markdown(text, "SES ab")) == text
    assert unrender_quote(escape_markdown(text)) == text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\</script\>"),
        ("$x$ :red[y] [l](u)", r"\$x\$ \:red\[y\] \[l\]\(u\)"),
        ("- pas une liste", r"\- pas une liste"),
        ("12. pas une liste", r"12\. pas une liste"),
        ("---", r"\---"),
        ("&lt; reste tel quel", r"\&lt; reste tel quel"),
    ],
)
def test_quote_markdown_escapes(text, expected):
    assert quote_markdown(text) == expected


def test_quote_markdown_keeps_emphasis_and_highlights():
    md = quote_markdown("Dans **SNS** ou **SES**, tu gères", "SES")
    assert md == "Dans **SNS** ou **:orange[SES]**, tu gères"
    # A highlight glued to a letter would break the bold: that span is left plain.
    assert quote_markdown("x**SES**y", "SES") == "x**SES**y"


def test_context_block_is_verbatim_and_stays_in_corpus():
    hit = Hit(
        source="other-services.md",
        line=93,
        heading="Amazon Pinpoint",
        breadcrumb=[],
        text="",
        score=1.0,
        block_start=92,
        block_end=98,
    )
    assert context_block(CORPUS, hit) == "\n".join(NOTE_LINES[91:98]).rstrip()
    outside = Hit(
        source="../README.md", line=1, heading="", breadcrumb=[], text="", score=1.0, block_start=1, block_end=3
    )
    assert context_block(CORPUS, outside) == ""
    gone = Hit(source="absent.md", line=1, heading="", breadcrumb=[], text="", score=1.0)
    assert context_block(CORPUS, gone) == ""


def test_context_markdown_keeps_nesting_words_and_marks_the_line():
    block = "\n".join(NOTE_LINES[91:98])
    md = context_markdown(block, 92, 94)
    lines = md.split("\n")
    assert lines[0] == "- **Comparaison avec Amazon SNS et Amazon SES**"
    assert lines[2].startswith("    - " + CONTEXT_MARK[0]) and lines[2].endswith(CONTEXT_MARK[1])
    assert lines[3].startswith("        - ")
    for shown, raw in zip(context_lines(md), NOTE_LINES[91:98]):
        assert raw.rstrip().endswith(shown)
    hostile = "- <script>alert(1)</script>\n\t- [x](javascript:alert(1)) $y$"
    md = context_markdown(hostile, 1, 1)
    assert "<script" not in md.replace("\\<script", "") and "](" not in md
    assert context_lines(md) == ["<script>alert(1)</script>", "[x](javascript:alert(1)) $y$"]
    assert context_markdown("| a | b |\n|---|---|", 1, 1) is None  # a table: shown as code


def test_progress_text_and_examples():
    assert sup.progress_text("lecture", 1, 1) == (0.1, "Lecture des notes : 1/1 fichier")
    frac, text = sup.progress_text("embeddings", 64, 228)
    assert 0.1 < frac < 0.9 and text == "Calcul des embeddings : 64/228 passages"
    assert sup.progress_text("index", 1, 1) == (1.0, "Index prêt.")
    heads = ["Amazon SES", "Amazon Pinpoint", "SSM Session Manager", "AWS Outposts"]
    assert sup.examples_for(heads)[0] == COMPARE
    assert sup.examples_for(["Gros service"]) == ["c'est quoi Gros service ?"]


def test_loading_label(tmp_path, built_index):
    assert sup.loading_label(tmp_path / "rien").startswith("Premier démarrage")
    assert sup.loading_label(built_index).startswith("Chargement")


def test_friendly_errors_are_one_sentence(tmp_path):
    msg = sup.friendly_error(FileNotFoundError(f"Le dossier de notes « {tmp_path} » est introuvable."))
    assert "introuvable" in msg and "\n" not in msg
    assert "ValueError" in sup.friendly_error(ValueError("boom"))
    assert sup.friendly_error(RuntimeError("x")) == (
        "Erreur inattendue (RuntimeError) : réessaie, ou reconstruis l'index depuis le panneau latéral."
    )


def test_context_is_read_once_not_on_every_rerun(app, monkeypatch):
    reads = []
    real = sup.context_block
    monkeypatch.setattr(sup, "context_block", lambda d, h: reads.append(h) or real(d, h))
    ask(app, COMPARE)
    n = len(reads)
    assert n == len(quotes(app.main)) > 0
    app.run()
    app.slider[0].set_value(3).run()  # reruns redraw the history (expanders included) ...
    assert len(reads) == n  # ... from the blocks kept with the answer
    assert any(exp.markdown or exp.code for exp in app.main.expander)


def test_loaded_retriever_is_returned_without_waiting_for_the_lock(tmp_path):
    shared = sup.Shared(tmp_path, tmp_path, "m")
    shared.retriever = loaded = object()
    assert shared._lock.acquire()  # a rebuild in progress holds the lock
    try:
        assert shared.ensure() is loaded
    finally:
        shared._lock.release()
