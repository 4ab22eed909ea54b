"""What a reader sees of the chat's HTML, line by line, and what they should see of the note.

`shown(html)` parses the HTML the chat hands to `st.html` (html.parser: no browser) and returns,
per `data-line`, the text a reader sees there, interface labels (class `rv-ui`) left out. It
also checks the HTML only holds the few tags and attributes the renderer draws with, and that
no text sits outside a line of the note or an interface label.

`expected(lines)` says, independently of retrieval/presentation/rendering.py's drawing, what a line of the note
must look like once its Markdown syntax is drawn as structure: list markers, indentation,
blockquote markers, fences, table pipes and rule gone; a callout's `[!type]`; emphasis delimiters
(the only thing asked of the renderer: `inline.delimiters`, checked to be `*`, `_` or backticks
in pairs). Everything else is the note's characters, control characters shown as escapes. What
each line is (an item, a fence, a table row, a quote) is what the one Markdown reader says of the
lines shown (`reader.read_shown`), as for the renderer: no pattern of its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from retrieval.presentation import inline, rendering
from retrieval.reader import cells as _cells
from retrieval.reader import read_shown

TAGS = {
    "div",
    "span",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "strong",
    "em",
    "mark",
    "hr",
}
ATTRS = {"class", "data-line", "data-cut", "value", "colspan"}
VOID = {"hr"}


@dataclass
class Line:
    text: str = ""
    cells: list[str] = field(default_factory=list)
    cut: int = 0  # data-cut: characters of the note's line kept
    ui: list[str] = field(default_factory=list)  # interface labels inside the line (a cut marker)
    row: bool = False


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, int | None]] = []  # (tag, is ui, data-line)
        self.lines: dict[int, Line] = {}
        self.order: list[int] = []
        self.ui: list[str] = []  # interface labels outside lines
        self.stray: list[str] = []  # text outside any line or label
        self.cell: list[str] | None = None

    def current(self) -> tuple[bool, int | None]:
        in_ui = any(u for _, u, _ in self.stack)
        line = next((n for _, _, n in reversed(self.stack) if n is not None), None)
        return in_ui, line

    def handle_starttag(self, tag, attrs):
        assert tag in TAGS, f"unexpected tag <{tag}>"
        a = dict(attrs)
        assert set(a) <= ATTRS, f"unexpected attribute in <{tag} {a}>"
        classes = (a.get("class") or "").split()
        n = int(a["data-line"]) if "data-line" in a else None
        if n is not None:
            _, outer = self.current()
            assert outer is None, f"line {n} inside line {outer}"
            assert n not in self.lines, f"line {n} drawn twice"
            self.lines[n] = Line(cut=int(a.get("data-cut", 0)), row=tag == "tr")
            self.order.append(n)
        if tag in VOID:
            return
        self.stack.append((tag, "rv-ui" in classes, n))
        if tag in ("td", "th"):
            in_ui, line = self.current()
            if line is not None and not in_ui:
                self.cell = []

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        if tag in ("td", "th") and self.cell is not None:
            _, line = self.current()
            assert line is not None
            self.lines[line].cells.append("".join(self.cell))
            self.cell = None
        self.stack.pop()

    def handle_data(self, data):
        in_ui, line = self.current()
        if in_ui:
            (self.lines[line].ui if line is not None else self.ui).append(data)
        elif line is not None:
            if self.cell is not None:
                self.cell.append(data)
            else:
                self.lines[line].text += data
        elif data.strip():
            self.stray.append(data)


def shown(html: str) -> tuple[dict[int, Line], list[int], list[str]]:
    """(per line: what is seen, lines in display order, interface labels outside lines)."""
    r = _Reader()
    r.feed(html)
    r.close()
    assert not r.stack, f"unclosed tags: {r.stack}"
    assert not r.stray, f"text outside the note's lines and the labels: {r.stray}"
    for n, ln in r.lines.items():
        if ln.row:
            assert not ln.text.strip(), f"text outside the cells of row {n}"
            ln.text = "\t".join(ln.cells)
    return r.lines, r.order, r.ui


# ----- what the note says, syntax drawn as structure --------------------------------------------------
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible_chars(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\t\n") or cat == "Cs" or ch in _BIDI:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def without_markup(text: str, markup: bool = True) -> str:
    if not markup:
        return visible_chars(text)
    gone = inline.delimiters(text)
    links: set[int] = set()
    for s, w, e in inline.page_links(text):  # a link to another page shows its words only
        assert text[s] == "[" and text[w : w + 2] == "](" and text[e - 1] == ")" and ":" not in text[w:e]
        links |= {s, *range(w, e)}
    removed = [text[i] for i in sorted(gone - links)]
    assert set(removed) <= set("*_`"), f"markup removed {removed!r} from {text!r}"
    for ch in "*_`":
        assert removed.count(ch) % 2 == 0, f"unbalanced {ch} removed from {text!r}"
    return visible_chars("".join(c for i, c in enumerate(text) if i not in gone))


def _dedent(line: str, width: int) -> str:
    col, i = 0, 0
    while i < len(line) and line[i] in " \t":
        nxt = (col // 4 + 1) * 4 if line[i] == "\t" else col + 1
        if nxt > width:
            break
        col, i = nxt, i + 1
    return line[i:]


def _width(prefix: str) -> int:
    col = 0
    for c in prefix:
        col = (col // 4 + 1) * 4 if c == "\t" else col + 1
    return col


def expected(numbered: list[tuple[int, str]], cuts: dict[int, int] | None = None) -> dict[int, str | None]:
    """Per line (shown in this order): the text a reader must see, None for syntax only.

    `cuts`: lines shown cut, and how many characters of the line were kept (no markup then)."""
    cuts = cuts or {}
    out: dict[int, str | None] = {}
    raws = [raw.rstrip()[: cuts[n]] if n in cuts else raw.rstrip() for n, raw in numbered]
    roles = read_shown(raws)
    fence: int | None = None  # indentation of the open code block
    prev_quoted = False
    for (n, _), raw, r in zip(numbered, raws, roles):
        markup = n not in cuts  # a long text gets no markup: inline.delimiters says so itself
        body = raw[r.quote :]
        first_in_quote = bool(r.quote) and not prev_quoted
        if bool(r.quote) != prev_quoted:
            fence = None  # a blockquote is framed apart: a code block does not run into or out of it
        prev_quoted = bool(r.quote)
        if fence is not None:
            if r.kind == "fence_end":
                fence, out[n] = None, None
                continue
            if r.kind in ("code", "blank"):
                out[n] = visible_chars(_dedent(body, fence))
                continue
            fence = None
        s = body.strip()
        if not s or r.kind == "sep":
            out[n] = None
            continue
        if r.kind == "fence":
            fence, out[n] = _width(body[: len(body) - len(body.lstrip())]), None
            continue
        if r.kind == "callout" and first_in_quote:
            out[n] = without_markup(r.title or s[2 : s.index("]")], markup)
            continue
        if r.kind in ("header", "row"):
            out[n] = "\t".join(without_markup(cell, markup) for cell in (_cells(s) or [""]))
            continue
        if rendering.is_rule(r, s):
            out[n] = None
            continue
        if rendering.is_item(r):
            content = raw[r.start :].strip() if r.start < len(raw) else ""
            out[n] = without_markup(content, markup) if content else None
            continue
        out[n] = without_markup(s, markup)
    return out


def check(html: str, numbered: list[tuple[int, str]], *, complete: bool = True, gaps: bool = True) -> dict[int, Line]:
    """Every line shown is the note's line as `expected` says; with `complete`, every line with text
    is shown, unless an interface label says the rest was left out; with `gaps`, every line skipped
    between two shown lines has a marker (not when blank lines are left unsaid)."""
    lines, order, labels = shown(html)
    cuts = {n: ln.cut for n, ln in lines.items() if ln.cut}
    want = expected(numbered, cuts)
    numbers = [n for n, _ in numbered]
    assert order == sorted(order), f"lines out of file order: {order}"
    assert set(order) <= set(numbers), f"lines not in the passage: {set(order) - set(numbers)}"
    for n in order:
        assert want[n] is not None, f"line {n} is syntax only but shows {lines[n].text!r}"
        assert lines[n].text == want[n], f"line {n}: shown {lines[n].text!r}, note {want[n]!r}"
        if lines[n].cut:
            assert any("caractères de plus" in u for u in lines[n].ui), f"line {n} cut without a marker"
        else:
            assert not lines[n].ui, f"line {n}: a label inside a whole line: {lines[n].ui}"
    if gaps and order:  # every line skipped between two shown lines is said to be skipped
        said: set[int] = set()
        for u in labels:
            m = re.fullmatch(r"⋯ lignes? (\d+)(?:–(\d+))? non montrées?", u)
            if m:
                said |= set(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
        capped = any("de plus" in u for u in labels)
        # up to the last line that shows text (a marker before a trailing fence may or may not come)
        end = order[-1] if capped else max(n for n in numbers if want.get(n) is not None)
        skipped = set(range(numbers[0], end)) - set(numbers)
        assert skipped <= said, f"lines {sorted(skipped - said)} skipped without a marker"
        blank = {n for n in numbers if want.get(n) is None}  # a marker may run over a blank line
        anywhere = set(range(numbers[0], numbers[-1])) - set(numbers)
        assert said <= anywhere | blank, f"lines {sorted(said - anywhere - blank)} said skipped but shown"
    missing = [n for n in numbers if want.get(n) is not None and n not in lines]
    if complete and missing:
        assert any("de plus" in u for u in labels), f"lines {missing} not shown and nothing says so"
        last = order[-1] if order else 0
        assert all(n > last for n in missing), f"lines {missing} dropped in the middle"
    return lines
