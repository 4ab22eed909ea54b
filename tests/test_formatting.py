"""Quotes as the reader SEES them: the Markdown is rendered (markdown-it-py, CommonMark + GFM tables
and strikethrough) and the visible text compared with the note minus its emphasis delimiters.

Also the context reader: same decoding and line numbers as the indexer, and a note replaced by a
FIFO or a symlink loop gives "" instead of hanging or crashing the chat.
"""

import html
import os
import re
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from markdown_it import MarkdownIt
from readback import shown_text

from retrieval.models import Passage
from retrieval.parsing import parse_markdown
from retrieval.presentation.app_support import passage_context
from retrieval.presentation.formatting import HIGHLIGHT, context_markdown, quote_markdown
from retrieval.reader import split_lines
from retrieval.text import EM_STAR, EM_UNDER, STRONG

ROOT = Path(__file__).resolve().parents[1]
NOTE_LINES = (ROOT / "corpus" / "other-services.md").read_text(encoding="utf-8").split("\n")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered(md: str) -> list[str]:
    """Visible text of rendered Markdown, one entry per non-blank line, edges trimmed as a browser does."""
    out = html.unescape(re.sub(r"<[^>]+>", "", MD.render(md)))
    return [ln.strip(" ") for ln in out.split("\n") if ln.strip(" ")]


def visible(text: str) -> list[str]:
    return [ln.strip(" ") for ln in shown_text(text).split("\n") if ln.strip(" ")]


def live(md: str) -> str:
    """The characters of `md` that Markdown may interpret: everything not backslash-escaped."""
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md):
            i += 2
            continue
        out.append(md[i])
        i += 1
    return "".join(out)


def emphasis_removed(line: str) -> str:
    """retrieval/text.py's reading of the emphasis, without its other clean-ups (links, spaces)."""
    for _ in range(3):
        line = EM_UNDER.sub(r"\1", EM_STAR.sub(r"\1", STRONG.sub(r"\2", line)))
    return line


# Quotes never start with white space (the parser strips it); four spaces would make a code block.
CHARS = list("*_`[]<>$:|#0123456789abSE ()/-.~!\\’€é")
texts = hs.text(alphabet=hs.sampled_from(CHARS + ["\n"]), max_size=40).map(
    lambda t: "\n".join(ln.lstrip() for ln in t.split("\n"))
)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_rendered_quote_shows_every_character(text):
    md = quote_markdown(text)
    assert rendered(md) == visible(text), md
    # Only `*`/`_` of balanced emphasis may vanish, and no Streamlit directive, math or
    # emoji shortcode (`:orange[..]`, `:material/x:`, `$x$`, `:smile:`) is left live.
    assert len(shown_text(text)) == len(text) - sum(text.count(c) - shown_text(text).count(c) for c in "*_")
    assert not set(live(md)) & set(":$[]<>`|#\\")


@settings(max_examples=300, deadline=None)
@given(
    hs.lists(hs.sampled_from([c for c in CHARS if c not in "[]:"] + ["SES", "ab"]), max_size=30).map(
        lambda parts: "".join(parts).lstrip()
    )
)
def test_highlighted_quote_shows_every_character(text):
    # Without "[", "]" or ":" in the note, every literal ":orange[" and "]" on screen is a wrapper.
    shown = [ln.replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "") for ln in rendered(quote_markdown(text, "SES ab"))]
    assert [ln for ln in (s.strip(" ") for s in shown) if ln] == visible(text)


@pytest.mark.parametrize(
    "text",
    [
        "Policy : `s3:*` et `ec2:*`",
        "bucket/*/logs/*",
        "a_b_c et __init__.py",
        "2**3 et 4**5",
        "*seul",
        "x * y * z",
        "*(a)*b",
        "_a_b",
    ],
)
def test_lone_stars_and_underscores_are_shown(text):
    assert shown_text(text) == text
    assert rendered(quote_markdown(text)) == [text]


@pytest.mark.parametrize(
    "text,seen",
    [
        ("Dans **SNS** ou **SES**, tu gères", "Dans SNS ou SES, tu gères"),
        ("un *mot* et un _autre_ et __gras__", "un mot et un autre et gras"),
        ("d’**environnement**.", "d’environnement."),
        ("(**DKIM (DomainKeys)**)", "(DKIM (DomainKeys))"),
        ("x**SES**y", "xSESy"),
    ],
)
def test_balanced_emphasis_still_renders(text, seen):
    assert shown_text(text) == seen
    assert rendered(quote_markdown(text)) == [seen]
    assert re.search(r"<(strong|em)>", MD.render(quote_markdown(text)))


@pytest.mark.parametrize("n,line", [(n, ln) for n, ln in enumerate(NOTE_LINES, 1) if ln.strip()])
def test_every_note_line_renders_as_written(n, line):
    text = line.lstrip()
    text = re.sub(r"^(?:[-+*]|\d+[.)])[ \t]+", "", text)  # a hit's text has no bullet marker
    assert rendered(quote_markdown(text)) == visible(text)
    # and the notes' bold is still bold: the same delimiters as text.py's reading disappear
    assert shown_text(text) == emphasis_removed(text)


# ----- context blocks ------------------------------------------------------------------------------
def hit_for(corpus: Path, name: str, needle: str) -> Passage:
    """The passage of the chunk holding `needle`, as the chat keeps it for "Voir le contexte"."""
    text = context_text(corpus / name)
    chunk = next(c for c in parse_markdown(text, name) if needle in c.text)
    return Passage(
        source=name,
        heading=chunk.heading,
        heading_path=[],
        breadcrumb=[],
        lines=[chunk.line],
        text=split_lines(text)[chunk.line - 1].rstrip(),
        hits=[],
        score=1.0,
        first_line=chunk.block_start,
        last_line=chunk.block_end,
    )


def context_block(corpus: Path, p: Passage) -> str:
    """The passage's whole block as the chat reads it ("" when it cannot be read)."""
    return "\n".join(passage_context(corpus, p) or []).rstrip()


def context_text(path: Path) -> str:
    data = path.read_bytes()
    return data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8")


def test_context_line_numbers_match_the_parser_with_unicode_line_separators(tmp_path):
    # U+2028, U+0085 and form feed are not line ends for the parser (nor for an editor).
    note = "# T\n\n## S\n\n- un\u2028deux\x85trois\x0cquatre\n    - la fin du bloc\n- autre bloc\n"
    (tmp_path / "n.md").write_text(note, encoding="utf-8")
    hit = hit_for(tmp_path, "n.md", "la fin du bloc")
    assert (hit.lines[0], hit.first_line, hit.last_line) == (6, 5, 6)
    assert context_block(tmp_path, hit) == "- un\u2028deux\x85trois\x0cquatre\n    - la fin du bloc"
    md = context_markdown(context_block(tmp_path, hit), hit.first_line, hit.lines[0])
    assert md is not None and md.count("\n") == 1


def test_context_reads_utf16_notes_like_the_indexer(tmp_path):
    (tmp_path / "w.md").write_text("# T\n\n## S\n\n- écrit sous Windows\n", encoding="utf-16")
    hit = hit_for(tmp_path, "w.md", "Windows")
    assert context_block(tmp_path, hit) == "- écrit sous Windows"


def call_with_timeout(fn, seconds=5.0):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "context_block blocked"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_context_of_a_note_turned_into_a_fifo_is_empty(tmp_path):
    (tmp_path / "n.md").write_text("# T\n\n## S\n\n- texte\n", encoding="utf-8")
    hit = hit_for(tmp_path, "n.md", "texte")
    (tmp_path / "n.md").unlink()
    os.mkfifo(tmp_path / "n.md")
    assert call_with_timeout(lambda: context_block(tmp_path, hit)) == ""


def test_context_of_a_note_turned_into_a_symlink_loop_is_empty(tmp_path):
    (tmp_path / "n.md").write_text("# T\n\n## S\n\n- texte\n", encoding="utf-8")
    hit = hit_for(tmp_path, "n.md", "texte")
    (tmp_path / "n.md").unlink()
    os.symlink("m.md", tmp_path / "n.md")
    os.symlink("n.md", tmp_path / "m.md")
    assert call_with_timeout(lambda: context_block(tmp_path, hit)) == ""


def test_line_ranges_read_back():
    from readback import line_numbers

    from retrieval.presentation.formatting import line_ranges

    for lines in ([103, 104, 105, 106], [92, 94, 95, 96, 97, 98], [7], [1, 3, 5]):
        assert line_numbers(line_ranges(lines)) == lines
    assert line_ranges([92, 94, 95, 96, 97, 98]) == "92, 94–98"
