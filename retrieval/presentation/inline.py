"""One line of a note as safe HTML: every character escaped (controls and bidirectional overrides shown as
`\\x1b` / `\\u202e`), long lines cut at a safe point, balanced `**bold**`, `*italic*` and `` `code` `` drawn,
the question's words marked; the labels of the interface (`ui`).

rendering.py builds the note's blocks (lists, tables, code, callouts) out of these lines.
"""

from __future__ import annotations

import html
import re
import unicodedata

from ..reader import LINK
from .formatting import emphasis_pairs, highlight_spans, shown_char

LINE_CAP = 2000  # characters of one line a passage shows; the rest is in "Voir le contexte"
PASSAGE_CAP = 12_000  # characters one passage shows
CONTEXT_LINE_CAP = 10_000  # characters of one line "Voir le contexte" shows
CONTEXT_CAP = 50_000  # characters "Voir le contexte" shows
MARKUP_CAP = 2000  # longer lines are shown without emphasis (the emphasis search is quadratic)
LABEL_CAP = 300  # a heading, breadcrumb or file name longer than this is cut (a 2 MiB parent line)

# A Markdown line, read as the parser reads it (the fence also keeps its indentation here).

# Characters shown as an escape rather than acting on the page.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff" + _BIDI + "]")
# Never cut between these and the character before them.
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


# ----- characters ---------------------------------------------------------------------------------
def esc(text: str) -> str:
    """Plain text as HTML: every character escaped, control and bidi characters shown as escapes."""
    out = html.escape(text, quote=True)
    if SPECIAL.search(out):
        out = SPECIAL.sub(lambda m: f'<span class="rv-ctl">{shown_char(m.group(0))}</span>', out)
    return out


def cut_point(text: str, limit: int) -> int:
    """Where to cut `text` to show at most `limit` characters: never before a combining mark, a
    joiner or variation selector, nor between the two halves of a surrogate pair or a flag."""
    if len(text) <= limit:
        return len(text)
    j = max(limit, 1)
    while j > 1 and (
        unicodedata.combining(text[j])
        or text[j] in _JOINERS
        or text[j - 1] == "\u200d"
        or "\udc00" <= text[j] <= "\udfff"
        or _regional_pair_split(text, j)
    ):
        j -= 1
    return j


def _regional_pair_split(text: str, j: int) -> bool:
    def ri(c: str) -> bool:
        return "\U0001f1e6" <= c <= "\U0001f1ff"

    if not (ri(text[j]) and ri(text[j - 1])):
        return False
    k = j
    while k > 0 and ri(text[k - 1]):
        k -= 1
    return (j - k) % 2 == 1


def number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def ui(text: str, cls: str = "", tag: str = "span") -> str:
    """An interface label (not a quote): grey italic, not selectable."""
    return f'<{tag} class="rv-ui{(" " + cls) if cls else ""}">{esc(text)}</{tag}>'


# ----- inline markup ------------------------------------------------------------------------------
def code_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end, backticks) of balanced code spans: a run of n backticks closed by a run of exactly n.

    Linear: each run is looked up once in a table of the later runs of the same length."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "`":
            j = i
            while j < n and text[j] == "`":
                j += 1
            runs.append((i, j - i))
            i = j
        else:
            i += 1
    by_len: dict[int, list[int]] = {}
    for k, (_, ln) in enumerate(runs):
        by_len.setdefault(ln, []).append(k)
    nxt: dict[int, int] = {}  # run index → next run index of the same length
    for ks in by_len.values():
        for a, b in zip(ks, ks[1:]):
            nxt[a] = b
    out, k = [], 0
    while k < len(runs):
        m = nxt.get(k)
        start, ln = runs[k]
        if m is not None and runs[m][0] > start + ln:  # not empty
            out.append((start, runs[m][0] + ln, ln))
            k = m + 1
        else:
            k += 1
    return out


def inline_markup(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, delimiter length, tag) of the emphasis and code spans rendered in `text`.

    Code spans first (nothing inside them is emphasis); an emphasis run is kept when none of
    its delimiters falls in a code span and it holds code spans whole. Empty for long lines."""
    if len(text) > MARKUP_CAP or not any(c in text for c in "*_`"):
        return []
    codes = code_spans(text) if "`" in text else []
    spans = [(s, e, n, "code") for s, e, n in codes]
    if "*" in text or "_" in text:
        for s, e, n in emphasis_pairs(text):
            if all(e <= cs or s >= ce or (s + n <= cs and ce <= e - n) for cs, ce, _ in codes):
                spans.append((s, e, n, "strong" if n == 2 else "em"))
    return sorted(spans)


def page_links(text: str, spans: list[tuple[int, int, int, str]] | None = None) -> list[tuple[int, int, int]]:
    """(start, end of its words, end) of each link to another page of the notes, drawn as its words:
    `[Amazon Athena](Amazon%20Athena%204da7….md)` (Notion's export), `[S3](stockage.md)`. A link out
    (any `scheme:`), a picture, or a link crossing an emphasis or code span is shown as written.
    `spans`: the line's `inline_markup`, when the caller has it."""
    if len(text) > MARKUP_CAP or "](" not in text:
        return []
    spans = inline_markup(text) if spans is None else spans
    out = []
    for m in LINK.finditer(text):
        s, words_end, e = m.start(), m.end(1), m.end()
        target = text[words_end + 2 : e - 1]
        if text[s] == "!" or not m.group(1).strip() or ":" in target or "(" in target or target.startswith("#"):
            continue  # a picture, no words, a link out (`https:`, `mailto:`, `javascript:`), an anchor
        if all(se <= s or ss >= e or (ss > s and se <= words_end) for ss, se, _, _ in spans):
            out.append((s, words_end, e))
    return out


def delimiters(text: str) -> set[int]:
    """Indexes of `text` that are markup delimiters, not shown (for tests): emphasis and code delimiters,
    and the syntax of links to other pages (`page_links`)."""
    out = {i for s, e, n, _ in inline_markup(text) for i in (*range(s, s + n), *range(e - n, e))}
    return out | {i for s, w, e in page_links(text) for i in (s, *range(w, e))}


def inline(text: str, query: str = "", markup: bool = True) -> str:
    """One line's text (or a cell's) as HTML: escaped, its balanced emphasis drawn, query words marked."""
    if not text:
        return ""
    tags: dict[int, tuple[str, int]] = {}  # index → (tag, delimiter characters it replaces)
    spans = inline_markup(text) if markup else []
    for s, e, n, tag in spans:
        tags[s] = (f"<{tag}>", n)
        tags[e - n] = (f"</{tag}>", n)
    for s, w, e in page_links(text, spans) if markup else []:  # its words, the address hidden
        if s not in tags and w not in tags:
            tags[s] = ('<span class="rv-link">', 1)
            tags[w] = ("</span>", e - w)
    hidden = {i for s, (_, n) in tags.items() for i in range(s, s + n)}
    # a highlighted word never holds a delimiter (words are letters and digits): checked all the same
    marks = [(a, b) for a, b in (highlight_spans(text, query) if query else []) if hidden.isdisjoint(range(a, b))]
    starts, ends = {a for a, _ in marks}, {b for _, b in marks}
    out: list[str] = []
    i = 0
    for p in sorted({*tags, *starts, *ends, len(text)}):
        if p > i:
            out.append(esc(text[i:p]))
            i = p
        if p < i:
            continue
        if p in ends:
            out.append("</mark>")
        if p in tags:
            html_tag, n = tags[p]
            out.append(html_tag)
            i = p + n
        if p in starts:
            out.append("<mark>")
    return "".join(out)


def label_html(text: str, cap: int = LABEL_CAP) -> str:
    """A note-derived label (heading, breadcrumb, file name): escaped, cut with a marker when huge."""
    j = cut_point(text, cap)
    if j < len(text):
        return esc(text[:j]) + ui(f"… ({number(len(text) - j)} caractères de plus)")
    return esc(text)
