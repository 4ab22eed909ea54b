"""Showing hits to a person: text for the terminal, JSON for programs, highlight spans for the app.

Nothing here writes a word of its own into a quote: quotes are printed as they stand in the notes.
"""

from __future__ import annotations

import re
import unicodedata

from ..lexical import tokenize
from ..models import Answer, Hit, Passage
from ..reader import read_alone, read_shown
from ..text import EM_STAR, EM_UNDER, STRONG, fold

NOTHING_FOUND = "Rien de pertinent dans tes notes pour cette question."
_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+")


def hits_to_json(query: str, hits: list[Hit]) -> dict:
    return {"query": query, "hits": [h.to_dict() for h in hits]}


# A quote longer than this is cut in the terminal, with a marker that is not part of it.
MAX_SHOWN_CHARS = 1500


def shown_char(ch: str) -> str:
    """A control, surrogate or bidi character as the reader sees it, in the terminal and in the app: its
    escape (\\x1b, \\u202e)."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Text from a note or a file name, made inert for a terminal: control and format characters
    (escape sequences, CR, bidi overrides, zero-width) are shown as \\x1b, \\r, \\u202e instead
    of acting on the screen. Tabs stay."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch != "\t" and (cat == "Cc" or cat == "Cf" or cat == "Cs" or ch in "\u2028\u2029"):
            out.append(shown_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def shown_quote(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """« quote » for the terminal: cut at `limit` characters with a marker outside the quote marks."""
    if len(text) <= limit:
        return f"« {terminal_safe(text)} »"
    return f"« {terminal_safe(text[:limit])} » […] (passage coupé : {len(text):,} caractères)".replace(",", " ")


def format_hit(h: Hit, rank: int | None = None) -> str:
    head = f"{rank}. " if rank is not None else ""
    crumbs = " > ".join(h.breadcrumb)
    lines = [f"{head}[{terminal_safe(h.heading)}] {terminal_safe(h.source)}:{h.line}  (score {h.score:.3f})"]
    if crumbs:
        lines.append(f"   {terminal_safe(crumbs)}")
    lines.append(f"   {shown_quote(h.text)}")
    return "\n".join(lines)


def format_hits(query: str, hits: list[Hit]) -> str:
    if not hits:
        return NOTHING_FOUND
    return "\n\n".join(format_hit(h, i) for i, h in enumerate(hits, 1))


def answer_to_json(answer: Answer) -> dict:
    return {
        "query": answer.query,
        "intent": answer.intent,
        "services": list(answer.services),
        "notice": answer.notice,
        "missing": list(answer.missing),
        "passages": [p.to_dict() for p in answer.passages],
        "subject": answer.subject.to_dict() if answer.subject is not None else None,
    }


def line_ranges(lines: list[int]) -> str:
    """ "103–106", "92, 94–98": the lines of a passage as a reader cites them."""
    parts, start = [], None
    for n, nxt in zip(lines, [*lines[1:], None]):
        start = n if start is None else start
        if nxt != n + 1:
            parts.append(str(start) if start == n else f"{start}–{n}")
            start = None
    return ", ".join(parts)


def format_passage(p: Passage, rank: int | None = None) -> str:
    """A passage for the terminal: where it is, its parents, then its lines as in the note.

    Lines the passage skips are marked with "┊", which is not part of the quote; matched lines
    start with "▶".
    """
    head = f"{rank}. " if rank is not None else ""
    out = [
        f"{head}[{terminal_safe(p.heading)}] {terminal_safe(p.source)}:{line_ranges(p.lines)}  (score {p.score:.3f})"
    ]
    if p.breadcrumb:
        out.append(f"   {terminal_safe(' > '.join(p.breadcrumb))}")
    matched = {h.line for h in p.hits}
    prev = None
    for n, text in zip(p.lines, p.text.split("\n")):
        if prev is not None and n > prev + 1:
            out.append("   ┊")
        mark = "▶" if n in matched else "│"
        shown = text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + " […]"
        out.append(f" {mark} {terminal_safe(shown)}")
        prev = n
    if p.more:
        out.append("   ┊ (la suite dans la note)")
    return "\n".join(out)


def format_answer(answer: Answer) -> str:
    lines = []
    if answer.missing:
        lines.append(missing_sentence(answer.missing))
    if not answer.passages:
        lines.append(NOTHING_FOUND)
        return "\n".join(lines)
    lines.append("\n\n".join(format_passage(p, i) for i, p in enumerate(answer.passages, 1)))
    return "\n".join(lines)


def missing_sentence(missing: list[str]) -> str:
    """One sentence for compared things the notes never name ("NACL" in "Security Groups vs NACL")."""
    names = " et ".join(f"« {m} »" for m in missing)
    verb = "n'apparaît" if len(missing) == 1 else "n'apparaissent"
    return f"{names} {verb} pas dans tes notes : seul ce qu'elles disent de l'autre côté est montré."


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
# Coloured text, not a background: a background pads the word and looks like an added space.
HIGHLIGHT = (":orange[", "]")


def _block_marker_end(line: str) -> int:
    """End of a leading "- ", "1. " or "---" that Markdown would read as a list or a rule (0: none)."""
    r = read_alone(line)  # as the one Markdown reader (retrieval/reader.py) reads it
    lead = len(line) - len(line.lstrip(" \t"))
    if r.item:
        return lead + len(r.info)
    if r.kind == "rule":  # "---" or "***" alone would draw a rule
        return lead + 1
    return 0


def _escape_line(
    line: str, keep: frozenset[int] | set[int] = frozenset(), marks: tuple[set[int], set[int]] | None = None
) -> str:
    """One line escaped; `keep` are the `*`/`_` left live (balanced emphasis), `marks` the
    indexes where a highlight opens (first set) or closes (second set)."""
    out = []
    # A quote starting with "- ", "1. " or "# " must not turn into a list or a heading.
    block_marker_end = _block_marker_end(line)
    opens, closes = marks or (set(), set())
    for i, ch in enumerate(line):
        if i in closes:
            out.append(HIGHLIGHT[1])
        if i in opens:
            out.append(HIGHLIGHT[0])
        if (
            ch in _ALWAYS_ESCAPED
            or (ch in _EMPHASIS and i not in keep)
            or (i < block_marker_end and not ch.isspace() and (not ch.isdigit() or i == block_marker_end - 1))
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    if len(line) in closes:
        out.append(HIGHLIGHT[1])
    return "".join(out)


def escape_markdown(text: str) -> str:
    """Plain text (a heading, a breadcrumb) made inert for Markdown: shown exactly as written."""
    return "  \n".join(_escape_line(line) for line in text.split("\n"))


# ----- which `*` / `_` may stay live -----------------------------------------------------------
# A lone `*` (`s3:*`, `bucket/*/logs`) would open an italic and eat itself and its partner, so
# every `*` and `_` is escaped except the delimiters of a balanced run (`**x**`, `*x*`, `__x__`,
# `_x_`, as retrieval/text.py reads them) that CommonMark is certain to render as emphasis.
# The run must also sit at word edges, as a writer puts it: after a space or an opening
# bracket/quote, before a space (closing punctuation may come between): not `s3:* et ec2:*`,
# `a/*/b/*` or `__init__.py`. `**` may also bold part of one word (`x**SES**y`), never across a
# space (`2**3 et 4**5`). Rendering is then decided with CommonMark's flanking rules; a
# neighbour whose class renderers disagree on (symbols, odd spaces, the line edge) must satisfy
# them under every reading, else the run is escaped.
_BEFORE_OPENER = frozenset("([{\"'«“‘’")
_AFTER_CLOSER = frozenset(")]}\"'»”’.,;:!?…")


def _at_word_edges(line: str, start: int, end: int, n: int) -> bool:
    if n == 2 and line[start] == "*" and not any(c.isspace() for c in line[start:end]):
        return True
    if not (start == 0 or line[start - 1].isspace() or line[start - 1] in _BEFORE_OPENER):
        return False
    while end < len(line) and line[end] in _AFTER_CLOSER:  # "**x**)." but not "__init__.py"
        end += 1
    return end == len(line) or line[end].isspace()


def _classes(ch: str | None) -> set[str]:
    if ch is None:  # edge of the line: paragraph start/end, or a wrapper's bracket
        return {"ws", "punct"}
    if ch in " \t":
        return {"ws"}
    cat = unicodedata.category(ch)
    if cat[0] == "P" or (ch.isascii() and cat[0] == "S"):
        return {"punct"}
    if cat[0] == "S":  # CommonMark 0.31 counts symbols as punctuation, older renderers do not
        return {"punct", "other"}
    if ch.isspace() or cat[0] in "ZC":
        return {"ws", "punct", "other"}
    return {"other"}


def _flanking(prev: str, nxt: str) -> tuple[bool, bool]:
    left = nxt != "ws" and (nxt != "punct" or prev in ("ws", "punct"))
    right = prev != "ws" and (prev != "punct" or nxt in ("ws", "punct"))
    return left, right


def _can(ch: str, prev: str | None, nxt: str | None, opening: bool) -> bool:
    for p in _classes(prev):
        for n in _classes(nxt):
            left, right = _flanking(p, n)
            if ch == "*":
                ok = left if opening else right
            elif opening:
                ok = left and (not right or p == "punct")
            else:
                ok = right and (not left or n == "punct")
            if not ok:
                return False
    return True


def _pair_renders(line: str, pair: tuple[int, int, int], opens=frozenset(), closes=frozenset()) -> bool:
    """Would this (start, end, delimiter length) run render as emphasis, highlights included?"""
    start, end, n = pair

    def before(i):  # the character the renderer sees just before line[i]
        return "[" if i in opens else "]" if i in closes else (line[i - 1] if i else None)

    def after(i):  # ... just after line[:i]
        return "]" if i in closes else ":" if i in opens else (line[i] if i < len(line) else None)

    ch = line[start]
    return _can(ch, before(start), after(start + n), True) and _can(ch, before(end - n), after(end), False)


def emphasis_pairs(line: str) -> list[tuple[int, int, int]]:
    """Balanced emphasis runs of one line kept live: non-overlapping, not nested, each certain to render."""
    bm = _block_marker_end(line)
    found = sorted(
        {
            (m.start(), m.end(), len(m.group(1)) if rx is STRONG else 1)
            for rx in (STRONG, EM_STAR, EM_UNDER)
            for m in rx.finditer(line)
        }
    )
    pairs, last = [], 0
    for pair in found:
        if pair[0] >= max(last, bm) and _at_word_edges(line, *pair) and _pair_renders(line, pair):
            pairs.append(pair)
            last = pair[1]
    return pairs


def delimiters(pairs) -> set[int]:
    return {i for s, e, n in pairs for i in (*range(s, s + n), *range(e - n, e))}


def quote_markdown(text: str, query: str = "") -> str:
    """A verbatim quote as Streamlit Markdown: its emphasis rendered, query terms highlighted.

    Only backslash escapes and highlight wrappers are added, so stripping them gives back
    `text` unchanged (tested); nothing in the note can inject HTML, links, math or colours,
    and the rendered text is the note minus its emphasis delimiters (tested by rendering).
    """
    spans = highlight_spans(text, query) if query else []
    lines, pos = [], 0
    for line in text.split("\n"):
        lo, hi = pos, pos + len(line)
        pairs = emphasis_pairs(line)
        mine = [(s - lo, e - lo) for s, e in spans if lo <= s < hi]
        while True:
            opens, closes = {s for s, _ in mine}, {e for _, e in mine}
            bad = [p for p in pairs if not _pair_renders(line, p, opens, closes)]
            if not bad:
                break
            # A highlight's `:` / `]` next to a delimiter can stop it from opening or closing
            # (e.g. `x**SES**y`): such a word is left unhighlighted rather than lose the bold.
            edges = {i for s, e, n in bad for i in (s, s + n, e - n, e)}
            mine = [(s, e) for s, e in mine if s not in edges and e not in edges]
        lines.append(_escape_line(line, delimiters(pairs), (opens, closes)))
        pos = hi + 1
    return "  \n".join(lines)


CONTEXT_MARK = (":blue-background[", "]")


def context_markdown(block: str, start_line: int, hit_line: int) -> str | None:
    """A note's list block as safe Markdown: same nesting, same words, the quoted line marked.

    Raw Markdown with tabs is hard to read in a narrow column, so the list is re-drawn from its
    indentation; each item's text goes through `quote_markdown` (escaped, emphasis kept).
    Returns None when the block is not a plain list (table, paragraph): show it as code then.
    """
    out: list[str] = []
    stack: list[int] = []  # indentation widths of the open parents
    lines = block.split("\n")
    for n, (line, r) in enumerate(zip(lines, read_shown(lines)), start_line):
        if not line.strip():
            continue
        if not r.item:
            return None
        lead = len(line) - len(line.lstrip(" \t"))
        marker, rest = r.info, (line[r.start :].rstrip() if r.start > lead else "")
        width = r.indent
        while stack and stack[-1] >= width:
            stack.pop()
        depth = len(stack)
        stack.append(width)
        text = quote_markdown(rest)
        if n == hit_line and text:
            text = CONTEXT_MARK[0] + text + CONTEXT_MARK[1]
        out.append("    " * depth + ("-" if marker in "-+*" else marker) + " " + text)
    return "\n".join(out) if out else None
