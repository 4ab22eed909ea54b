"""Showing hits to a person: text for the terminal, JSON for programs, highlight spans for the app.

Nothing here writes a word of its own into a quote: quotes are printed as they stand in the notes.
"""
from __future__ import annotations

import re

from .lexical import tokenize
from .models import Hit
from .text import fold

_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+")


def hits_to_json(query: str, hits: list[Hit]) -> dict:
    return {"query": query, "hits": [h.to_dict() for h in hits]}


def format_hit(h: Hit, rank: int | None = None) -> str:
    head = f"{rank}. " if rank is not None else ""
    crumbs = " > ".join(h.breadcrumb)
    lines = [f"{head}[{h.heading}] {h.source}:{h.line}  (score {h.score:.3f})"]
    if crumbs:
        lines.append(f"   {crumbs}")
    lines.append(f"   « {h.text} »")
    return "\n".join(lines)


def format_hits(query: str, hits: list[Hit]) -> str:
    if not hits:
        return "Rien de pertinent dans tes notes pour cette question."
    return "\n\n".join(format_hit(h, i) for i, h in enumerate(hits, 1))


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of `text` whose words match a query term (same stem, accents ignored).

    Spans index the original string, so a renderer can wrap them without changing a character.
    """
    terms = set(tokenize(query))
    if not terms:
        return []
    spans = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        toks = tokenize(word)
        if (toks and toks[0] in terms) or fold(word) in terms:
            spans.append((m.start(), m.end()))
    return spans


# ----- Markdown for the Streamlit chat --------------------------------------------------------
# Quotes are shown through Streamlit's Markdown, which also understands HTML, LaTeX ($), emoji
# shortcodes and directives (:red[...]), GFM tables, strikethrough and autolinks. Every ASCII
# punctuation character that one of those could read is backslash-escaped: CommonMark removes
# the backslash on display, so the reader sees exactly the characters of the note.
_ALWAYS_ESCAPED = frozenset("\\`[]()<>$~|{}!#&:@^=")  # () too: never a link target after "]"
_EMPHASIS = frozenset("*_")
_LIST_START = re.compile(r"^(\s*)([-+*]|\d+[.)])(?=\s|$)")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
# Coloured text, not a background: a background pads the word and looks like an added space.
HIGHLIGHT = (":orange[", "]")


def _escape_line(line: str, keep_emphasis: bool, marks: set[int] | None = None) -> str:
    """One line escaped; `marks` are indexes where a highlight opens (+) or closes (-)."""
    out = []
    lead = _LIST_START.match(line)
    # A quote starting with "- ", "1. " or "# " must not turn into a list or a heading.
    block_marker_end = lead.end() if lead else 0
    if not lead and _THEMATIC_BREAK.match(line):  # "---" or "***" alone would draw a rule
        block_marker_end = len(line) - len(line.lstrip()) + 1
    opens, closes = marks or (set(), set())
    for i, ch in enumerate(line):
        if i in closes:
            out.append(HIGHLIGHT[1])
        if i in opens:
            out.append(HIGHLIGHT[0])
        if ch in _ALWAYS_ESCAPED or (ch in _EMPHASIS and not keep_emphasis) or \
                (i < block_marker_end and not ch.isspace() and (not ch.isdigit() or i == block_marker_end - 1)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    if len(line) in closes:
        out.append(HIGHLIGHT[1])
    return "".join(out)


def escape_markdown(text: str) -> str:
    """Plain text (a heading, a breadcrumb) made inert for Markdown: shown exactly as written."""
    return "  \n".join(_escape_line(line, keep_emphasis=False) for line in text.split("\n"))


def _breaks_emphasis(text: str, start: int, end: int) -> bool:
    """True when wrapping text[start:end] would glue a `**` run to a letter and break the bold.

    CommonMark decides whether `**` opens or closes from the characters on both sides; the
    highlight puts punctuation (`:` / `]`) on one side, which is fine unless the other side is a
    letter or digit (e.g. `x**mot**`). Those rare spans are simply not highlighted.
    """
    i = start
    while i > 0 and text[i - 1] in _EMPHASIS:
        i -= 1
    if i < start and i > 0 and text[i - 1].isalnum():
        return True
    j = end
    while j < len(text) and text[j] in _EMPHASIS:
        j += 1
    return j > end and j < len(text) and text[j].isalnum()


def quote_markdown(text: str, query: str = "") -> str:
    """A verbatim quote as Streamlit Markdown: its emphasis rendered, query terms highlighted.

    Only backslash escapes and highlight wrappers are added, so stripping them gives back
    `text` unchanged (tested); nothing in the note can inject HTML, links, math or colours.
    """
    spans = [s for s in highlight_spans(text, query) if not _breaks_emphasis(text, *s)] if query else []
    lines, pos = [], 0
    for line in text.split("\n"):
        lo, hi = pos, pos + len(line)
        opens = {s - lo for s, e in spans if lo <= s < hi}
        closes = {e - lo for s, e in spans if lo < e <= hi}
        lines.append(_escape_line(line, keep_emphasis=True, marks=(opens, closes)))
        pos = hi + 1
    return "  \n".join(lines)


def unrender_quote(md: str) -> str:
    """Inverse of `quote_markdown` / `escape_markdown` (for tests): highlights and escapes removed."""
    md = md.replace("  \n", "\n")
    md = re.sub(re.escape(HIGHLIGHT[0]) + r"([0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]*)" + re.escape(HIGHLIGHT[1]), r"\1", md)
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)


def context_block(corpus_dir, hit: Hit) -> str:
    """The verbatim lines block_start..block_end of the hit's note ("" when unavailable).

    The path comes from the index, so it is checked to stay inside the notes folder.
    """
    from pathlib import Path

    root = Path(corpus_dir).resolve()
    path = (root / hit.source).resolve()
    try:
        path.relative_to(root)
    except ValueError:
        return ""
    start = hit.block_start or hit.line
    end = max(hit.block_end, start)
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):  # same reading order as the indexer
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    lines = text.splitlines()
    if start < 1 or start > len(lines) or not (start <= hit.line <= len(lines)):
        return ""
    if hit.text and hit.text not in lines[hit.line - 1]:
        return ""  # the note changed since indexing: showing other lines would misquote
    return "\n".join(lines[start - 1:end]).rstrip()


_LIST_ITEM = re.compile(r"^([ \t]*)([-+*]|\d+[.)])[ \t]+(.*?)\s*$")
CONTEXT_MARK = (":blue-background[", "]")


def _columns(indent: str) -> int:
    col = 0
    for ch in indent:
        col = col + 4 - col % 4 if ch == "\t" else col + 1
    return col


def context_markdown(block: str, start_line: int, hit_line: int) -> str | None:
    """A note's list block as safe Markdown: same nesting, same words, the quoted line marked.

    Raw Markdown with tabs is hard to read in a narrow column, so the list is re-drawn from its
    indentation; each item's text goes through `quote_markdown` (escaped, emphasis kept).
    Returns None when the block is not a plain list (table, paragraph): show it as code then.
    """
    out: list[str] = []
    stack: list[int] = []  # indentation widths of the open parents
    for n, line in enumerate(block.split("\n"), start_line):
        if not line.strip():
            continue
        m = _LIST_ITEM.match(line)
        if not m:
            return None
        indent, marker, rest = m.groups()
        width = _columns(indent)
        while stack and stack[-1] >= width:
            stack.pop()
        depth = len(stack)
        stack.append(width)
        text = quote_markdown(rest)
        if n == hit_line and text:
            text = CONTEXT_MARK[0] + text + CONTEXT_MARK[1]
        out.append("    " * depth + ("-" if marker in "-+*" else marker) + " " + text)
    return "\n".join(out) if out else None
