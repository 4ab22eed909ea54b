"""Property-based tests of the parser: any text parses, and every quote is verbatim at its line."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.corpus import CorpusReport, read_note
from retrieval.parsing import index_text, parse_markdown, split_lines

# Markdown-ish building blocks, so that generated text hits every branch of the parser
# (fences, headings, tables, nesting, front matter), mixed with arbitrary Unicode.
_PIECES = [
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "#",
    "## ",
    "### ",
    "####### ",
    "```",
    "~~~",
    "````",
    "| a | b |",
    "|---|---|",
    "---",
    "...",
    "***",
    "  ",
    "\t",
    "**",
    "_",
    "`",
    "[x](y)",
    "\r\n",
    "\n",
    "\r",
    "\ufeff",
    "é",
    "’",
    "\x00",
    "\x0c",
    "\u2028",
    "\x85",
    "S3",
    "EC2",
]
_TEXT = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)), max_size=80).map("".join)
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str, source: str = "n.md") -> None:
    chunks = parse_markdown(text, source)
    lines = split_lines(text)
    for c in chunks:
        assert 1 <= c.line <= len(lines)
        assert c.text and c.text.strip(), c
        assert c.text in lines[c.line - 1], (c.line, c.text, lines[c.line - 1])
        assert c.block_start <= c.line <= c.block_end
        assert c.source == source and isinstance(c.heading, str) and c.heading
        index_text(c)  # never raises


@_SETTINGS
@given(_TEXT)
def test_markdownish_text_parses_and_quotes_are_verbatim(text):
    _check(text)


@_SETTINGS
@given(st.text())
def test_any_unicode_text_parses_and_quotes_are_verbatim(text):
    _check(text)


@_SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_read_as_a_note_parse_and_quotes_are_verbatim(tmp_path_factory, data):
    # The full path a file takes in a build: bytes → read_note (decoding fallbacks) → parser.
    p = tmp_path_factory.mktemp("b") / "n.md"
    p.write_bytes(data)
    note = read_note("n.md", p, CorpusReport())
    if note is not None:
        _check(note.text)


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.sampled_from(["-", "*", "+", "1."]), st.text(min_size=1, max_size=10)),
        max_size=40,
    )
)
def test_nested_bullets_keep_their_line_and_parents(items):
    text = "\n".join(" " * (2 * depth) + f"{marker} x{body!r}" for depth, marker, body in items)
    chunks = parse_markdown(text)
    assert len(chunks) == len(items)  # one chunk per bullet: nothing lost
    for c, (depth, _, _) in zip(chunks, items):
        assert len(c.breadcrumb) <= depth


def test_pathological_lines_parse_fast():
    # Lines that made regexes backtrack quadratically ("# ###...#x" in the old heading regex,
    # "[[[[..." in emphasis removal): a pasted dump must not stall the build.
    for line in [
        "# " + "#" * 200_000 + "x",
        "[" * 200_000,
        "- " + "[" * 200_000,
        "| " + "[" * 200_000,
        "**a" * 60_000,
        "- " + "a " * 100_000,
    ]:
        t0 = time.perf_counter()
        chunks = parse_markdown(line + "\n- fin\n")
        for c in chunks:
            index_text(c)
        assert time.perf_counter() - t0 < 2.0, line[:10]
        assert chunks[-1].text == "fin"
