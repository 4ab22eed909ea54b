"""Passages of the notes as safe HTML for the chat (`st.html`): the note's own structure, its exact characters.

Streamlit's Markdown cannot show a note verbatim, even fully backslash-escaped: its frontend
turns `:material/x:` into icons and `:streamlit:` into a logo, " -> " and " >= " into arrows
and signs, and bare URLs, `www.` text and e-mail addresses into links. So quotes are drawn here
as HTML: every character of the note goes through `html.escape`, and the Markdown syntax of the
note is *replaced* by real structure:

- bullets and numbered items → nested `<ul>`/`<ol>` from their indentation (the note's numbers kept);
- ``` fences → `<pre><code>` (the fences and the info string are not shown);
- `| table | rows |` → `<table>` with its header row (pipes and the `|---|` rule are not shown);
- `> [!tip] Titre` callouts and `>` quotes → a framed block with its title;
- `**bold**`, `*italic*` and `` `code` `` → `<strong>`, `<em>`, `<code>`, only when balanced
  (`formatting.emphasis_pairs` decides for `*`/`_`, a matching backtick run for code).

Nothing else is added to a quote. Labels of the interface (a skipped-lines marker, a cut line,
"la suite dans « Voir le contexte »") carry the class `rv-ui`: grey, italic, not selectable, and
never inside a line of the note. Each line of the note that shows text is one element with a
`data-line` attribute (its 1-based line number), so tests compare what is shown line by line
with the file: the visible text of a line is the note's characters minus the syntax above.

Control characters and bidirectional overrides (which could make a quote *look* different from
what the note says) are shown as `\\x1b` / `\\u202e`, like the terminal output does.

Long lines are cut for display (`LINE_CAP` characters, never inside a character or before a
combining mark), a passage renders at most `PASSAGE_CAP` characters, a context `CONTEXT_CAP`:
what is cut is said by a marker outside the quote. A line too long for inline markup
(`MARKUP_CAP`) is shown with its `*`, `_` and backticks as written.

No Streamlit import: pure functions of strings, tested without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ..models import Passage
from ..reader import Line, cells, indent_width, read_shown
from .formatting import escape_markdown, line_ranges
from .inline import (
    CONTEXT_CAP,
    CONTEXT_LINE_CAP,
    LINE_CAP,
    PASSAGE_CAP,
    SPECIAL,
    cut_point,
    esc,
    inline,
    label_html,
    number,
    ui,
)

STYLE = """<style>
.rv-card{line-height:1.55}
.rv-cap{font-size:.85rem;opacity:.75;margin-bottom:.2rem;overflow-wrap:anywhere}
.rv-badge{display:inline-block;font-style:normal;font-weight:600;font-size:.75rem;padding:0 .45em;margin-right:.4em;
 border-radius:.5em;color:rgb(230,120,0);background:rgba(255,164,33,.18);user-select:none}
.rv-ref{font-size:.8rem;opacity:.7;margin-top:.25rem;overflow-wrap:anywhere;font-family:"Source Code Pro",monospace}
.rv-q ul,.rv-q ol{margin:0;padding-left:1.5em}
.rv-q li{margin:0;padding:0}
.rv-q ol.rv-w2{padding-left:2em}.rv-q ol.rv-w3{padding-left:2.5em}.rv-q ol.rv-w4{padding-left:3em}
.rv-q ol.rv-w5{padding-left:5em}
.rv-q li.rv-gap{list-style:none}
.rv-l{display:block;white-space:pre-wrap;overflow-wrap:anywhere;border-radius:3px}
.rv-l.rv-hit,.rv-cl.rv-hit{box-shadow:inset 2px 0 0 rgba(255,150,0,.9);padding-left:.35em;margin-left:-.15em}
.rv-q mark{background:rgba(255,164,33,.32);color:inherit;border-radius:2px;padding:0}
.rv-q code{font-family:"Source Code Pro",monospace;font-size:.86em;background:rgba(128,128,128,.16);
 border-radius:3px;padding:.05em .25em}
.rv-code{margin:.25em 0;padding:.45em .7em;background:rgba(128,128,128,.12);border-radius:6px;overflow-x:auto}
.rv-code code{background:none;padding:0;font-size:.84em;white-space:pre;display:block}
.rv-cl{display:block;min-height:1.35em}
.rv-tw{overflow-x:auto;margin:.25em 0}
.rv-table{border-collapse:collapse;font-size:.92em}
.rv-table th,.rv-table td{border:1px solid rgba(128,128,128,.35);padding:.15em .5em;vertical-align:top;
 white-space:pre-wrap;text-align:left}
.rv-table thead th{background:rgba(128,128,128,.12)}
.rv-table tr.rv-hit td:first-child{box-shadow:inset 2px 0 0 rgba(255,150,0,.9)}
.rv-table tr.rv-gap td{border:none}
.rv-callout{border-left:3px solid rgba(60,140,255,.75);background:rgba(60,140,255,.08);border-radius:4px;
 padding:.3em .7em;margin:.25em 0}
.rv-ct{font-weight:600}
.rv-link{text-decoration:underline dotted;text-underline-offset:2px}
.rv-hr{border:none;border-top:1px solid rgba(128,128,128,.4);margin:.4em 0}
.rv-ctl{font-family:"Source Code Pro",monospace;font-size:.85em;opacity:.8}
.rv-ui{color:rgba(128,128,128,1);font-style:italic;font-size:.82em;user-select:none}
div.rv-ui,span.rv-gap,span.rv-more{display:block}
.rv-why{font-size:.9rem}
.rv-echo{white-space:pre-wrap;overflow-wrap:anywhere}
.rv-box{padding:.6rem .9rem;border-radius:.5rem;background:rgba(60,140,255,.1);overflow-wrap:anywhere}
.rv-colhead{font-weight:600;font-size:1.05rem;overflow-wrap:anywhere}
</style>"""


# ----- lines to blocks ----------------------------------------------------------------------------
@dataclass
class _Line:
    n: int
    raw: str  # right-stripped, cut to the cap
    hit: bool = False
    cut: int = 0  # characters kept when the line was cut (0: whole line)
    rest: int = 0  # characters not shown
    gap: tuple[int, int] | None = None  # lines skipped just before this one
    markup: bool = True
    header: bool = False  # a table row followed, in the note and on screen, by its |---| rule
    role: Line = field(default_factory=Line)  # what the reader makes of the line, among the lines shown


@dataclass
class _Builder:
    query: str
    cut_label: str
    out: list[str] = field(default_factory=list)
    lists: list[tuple[int, str]] = field(
        default_factory=list
    )  # open lists: (indent, "ul"|"ol"), each with an open <li>
    fence: tuple[str, int, int] | None = None  # char, length, indentation of the open code block
    table: bool = False  # a table is open (its <tbody> too once a body row came)
    tbody: bool = False
    cols: int = 1
    pending: tuple[int, int] | None = None  # skipped lines not said yet (they came before a blank line)

    # -- containers
    def close_table(self) -> None:
        if self.table:
            self.out.append("</tbody></table></div>" if self.tbody else "</table></div>")
            self.table = self.tbody = False

    def close_fence(self) -> None:
        if self.fence is not None:
            self.out.append("</code></pre>")
            self.fence = None

    def close_lists(self, above: int = -1) -> None:
        """Close the lists indented at least `above` (all by default)."""
        while self.lists and self.lists[-1][0] >= above:
            self.out.append(f"</li></{self.lists.pop()[1]}>")

    def finish(self) -> str:
        self.pending = None  # nothing shown after them: the passage ends there
        self.close_fence()
        self.close_table()
        self.close_lists()
        return "".join(self.out)

    def block(self, indent: int) -> None:
        """Make room for a block (paragraph, table, code) at `indent`: inside the item it continues, or alone."""
        self.close_lists(indent)

    # -- what one line adds
    def gap(self, ln: _Line, where: str) -> None:
        if ln.gap is None:
            return
        text = _gap_text(ln.gap)
        ln.gap = None
        if where == "li":
            self.out.append(ui(text, "rv-gap", "li"))
        elif where == "tr":
            self.out.append(f'<tr class="rv-ui rv-gap"><td colspan="{self.cols}">{esc(text)}</td></tr>')
        elif where == "code":
            self.out.append(ui(text, "rv-gap"))
        else:
            self.out.append(ui(text, "rv-gap", "div"))

    def attrs(self, ln: _Line, cls: str) -> str:
        cut = f' data-cut="{ln.cut}"' if ln.rest else ""
        return f'class="{cls}{" rv-hit" if ln.hit else ""}" data-line="{ln.n}"{cut}'

    def cut_mark(self, ln: _Line) -> str:
        return ui(f" … {number(ln.rest)} caractères de plus {self.cut_label}", "rv-cut") if ln.rest else ""

    def text_line(self, ln: _Line, text: str, cls: str = "rv-l", tag: str = "span") -> str:
        return f"<{tag} {self.attrs(ln, cls)}>{inline(text, self.query, ln.markup)}{self.cut_mark(ln)}</{tag}>"

    def add(self, ln: _Line, body: str) -> None:
        """One line whose blockquote prefix (if any) was removed."""
        if self.pending is not None:  # lines skipped before a line that shows nothing: said now
            ln.gap = (self.pending[0], ln.gap[1] if ln.gap else self.pending[1])
            self.pending = None
        self._add(ln, body)
        self.pending = ln.gap  # still unsaid (a blank line, a bare marker, a table rule): said with the next line

    def _add(self, ln: _Line, body: str) -> None:
        """`body`: the line without its blockquote markers; what it is, the reader says (`ln.role`)."""
        r = ln.role
        kind = r.kind
        if self.fence is not None:
            if kind == "fence_end":
                self.gap(ln, "code")
                self.close_fence()
                return
            if kind in ("code", "blank"):
                self.gap(ln, "code")
                code = _dedent(body, self.fence[2])
                shown = inline(code, self.query, markup=False)
                self.out.append(f"<span {self.attrs(ln, 'rv-cl')}>{shown}{self.cut_mark(ln)}</span>")
                return
            self.close_fence()  # the reader ended the code block (its quote ended): what follows is not code
        if not body.strip():
            self.close_table()
            return
        lead = indent_width(body[: len(body) - len(body.lstrip())])
        if kind == "fence":
            self.close_table()
            self.block(lead)
            self.gap(ln, "div")
            self.fence = (r.info[:1] or "`", len(r.info), lead)
            self.out.append('<pre class="rv-code"><code>')
            return
        stripped = body.strip()
        if kind == "sep":
            return  # the rule under the header: syntax
        if kind in ("header", "row"):
            row = cells(stripped) or [""]
            if not self.table:
                self.block(lead)
                self.gap(ln, "div")
                self.cols = max(len(row), 1)
                self.out.append('<div class="rv-tw"><table class="rv-table">')
                self.table = True
                if ln.header:
                    self.out.append(f"<thead><tr {self.attrs(ln, 'rv-row')}>")
                    self.out.extend(f"<th>{inline(c, self.query, ln.markup)}</th>" for c in row)
                    self.out.append(f"{_cut_cell(self.cut_mark(ln))}</tr></thead>")
                    return
            if not self.tbody:
                self.out.append("<tbody>")
                self.tbody = True
            self.gap(ln, "tr")
            self.out.append(f"<tr {self.attrs(ln, 'rv-row')}>")
            self.out.extend(f"<td>{inline(c, self.query, ln.markup)}</td>" for c in row)
            self.out.append(f"{_cut_cell(self.cut_mark(ln))}</tr>")
            return
        self.close_table()
        if is_rule(r, stripped):
            self.close_lists()
            self.gap(ln, "div")
            self.out.append('<hr class="rv-hr">')
            return
        if is_item(r):
            content = shown_item(r, ln.raw)
            if not content:
                return  # a bare marker says nothing
            ordered = r.info[:1].isdigit()
            tag = "ol" if ordered else "ul"
            self.close_lists(lead + 1)  # lists deeper than this item
            if self.lists and self.lists[-1][0] == lead and self.lists[-1][1] != tag:
                self.close_lists(lead)
            number = int(r.info[:-1]) if ordered else 0
            if self.lists and self.lists[-1][0] == lead:
                self.out.append("</li>")
            else:  # a numbered list gets room for its numbers ("100." would stick out)
                width = f" rv-w{min(len(str(number)), 5)}" if number >= 10 else ""
                self.out.append(f'<{tag} class="rv-list{width}">')
                self.lists.append((lead, tag))
            self.gap(ln, "li")
            value = f' value="{number}"' if ordered else ""
            self.out.append(f"<li{value}>{self.text_line(ln, content)}")
            return
        self.block(lead)
        self.gap(ln, "div")
        self.out.append(self.text_line(ln, stripped))


def is_rule(r: Line, stripped: str) -> bool:
    """A line drawn as a rule: a thematic break, or `---` under a line (a setext underline, shown as a
    rule among the lines of a passage; `===` stays text), or `---` read as front matter in a passage."""
    return r.kind == "rule" or (r.kind in ("underline", "meta") and stripped[:1] == "-" and not stripped.strip("-"))


def is_item(r: Line) -> bool:
    """The line opens a list item (its marker is syntax)."""
    return r.item or r.kind in ("bullet", "marker")


def shown_item(r: Line, raw: str) -> str:
    """The words of a list item's line (after its marker), as written; "" for a bare marker."""
    return raw[r.start :].strip() if r.start < len(raw) else ""


def _dedent(line: str, width: int) -> str:
    """A code line without the fence's own indentation (its further indentation kept)."""
    i = 0
    while i < len(line) and line[i] in " \t" and indent_width(line[: i + 1]) <= width:
        i += 1
    return line[i:]


def _cut_cell(mark: str) -> str:
    return f"<td>{mark}</td>" if mark else ""


def _render(lines: list[_Line], query: str, cut_label: str) -> str:
    """Lines (already cut and flagged) to HTML: quoted runs (callouts) as framed blocks, the rest by _Builder."""
    for ln, role in zip(lines, read_shown([ln.raw for ln in lines])):
        ln.role = role
    _flag_headers(lines)
    out: list[str] = []
    b = _Builder(query, cut_label)
    i = 0
    while i < len(lines):
        ln = lines[i]
        if not ln.role.quote:  # (the reader says "> x" inside a code block is code)
            b.add(ln, ln.raw)
            i += 1
            continue
        carry = b.pending  # lines skipped before a blank line: said before the framed block
        out.append(b.finish())
        b = _Builder(query, cut_label)
        run: list[_Line] = []
        while i < len(lines) and lines[i].role.quote:
            src = lines[i]
            q = src.role.quote
            run.append(_Line(src.n, src.raw[q:], src.hit, src.cut, src.rest, src.gap, src.markup, src.header))
            run[-1].role = _unquoted(src.role)
            i += 1
        first = run[0]
        if carry is not None:
            first.gap = (carry[0], first.gap[1] if first.gap else carry[1])
        if first.gap is not None:  # the skipped lines come before the framed block, not inside it
            out.append(ui(_gap_text(first.gap), "rv-gap", "div"))
            first.gap = None
        inner = _Builder(query, cut_label)
        head = ""
        if first.role.kind == "callout":  # "[!tip] Pour l'examen": the title of the block ("tip" when it has none)
            s = first.raw.strip()
            title = first.role.title or s[2 : s.index("]")]
            shown = inline(title, query, first.markup) + inner.cut_mark(first)
            head = f"<div {inner.attrs(first, 'rv-l rv-ct')}>{shown}</div>"
            run = run[1:]
        for rl in run:
            inner.add(rl, rl.raw)
        b.pending = inner.pending
        out.append(f'<div class="rv-callout">{head}{inner.finish()}</div>')
    out.append(b.finish())
    return "".join(out)


def _gap_text(gap: tuple[int, int]) -> str:
    a, b = gap
    return f"⋯ ligne {a} non montrée" if a == b else f"⋯ lignes {a}–{b} non montrées"


def _flag_headers(lines: list[_Line]) -> None:
    """A table row is a header when the next line of the note, shown right after it, is the |---| rule."""
    for ln, nxt in zip(lines, lines[1:]):
        ln.header = nxt.n == ln.n + 1 and ln.role.kind == "header" and nxt.role.kind == "sep"


def _unquoted(r: Line) -> Line:
    """A quoted line's role, its positions counted after the quote markers (what the framed block draws)."""
    return replace(r, start=max(r.start - r.quote, 0), quote=0)


# ----- public entry points ------------------------------------------------------------------------
def _prepare(
    numbered: Iterable[tuple[int, str]],
    hits: set[int],
    line_cap: int,
    total_cap: int,
    hidden_blank: Callable[[int, int], bool] | None,
) -> tuple[list[_Line], int, int]:
    """Lines cut to the caps: (kept lines, lines left out, characters left out)."""
    kept: list[_Line] = []
    total, prev = 0, None
    items = list(numbered)
    for idx, (n, text) in enumerate(items):
        raw = text.rstrip()
        if kept and total + min(len(raw), line_cap) > total_cap:
            rest_lines = items[idx:]
            return kept, len(rest_lines), sum(len(t.rstrip()) for _, t in rest_lines)
        j = cut_point(raw, line_cap)
        ln = _Line(n, raw[:j], n in hits)
        if j < len(raw):
            ln.cut, ln.rest, ln.markup = j, len(raw) - j, False
        if prev is not None and n > prev + 1 and not (hidden_blank and hidden_blank(prev + 1, n - 1)):
            ln.gap = (prev + 1, n - 1)
        kept.append(ln)
        total += j
        prev = n
    return kept, 0, 0


def render_lines(
    numbered: Iterable[tuple[int, str]],
    query: str = "",
    hits: Iterable[int] = (),
    *,
    line_cap: int = LINE_CAP,
    total_cap: int = PASSAGE_CAP,
    more: bool = False,
    context: bool = False,
    hidden_blank: Callable[[int, int], bool] | None = None,
) -> str:
    """Lines of a note ((line number, text) in file order, gaps allowed) as a `<div class="rv-q">`."""
    lines, left, _ = _prepare(numbered, set(hits), line_cap, total_cap, hidden_blank)
    cut_label = "dans la note" if context else "(voir le contexte)"
    body = _render(lines, query, cut_label)
    tail = ""
    if left:
        what = f"{left} ligne{'s' if left > 1 else ''} de plus"
        tail = ui(f"… {what} dans la note" if context else f"… {what} : la suite dans « Voir le contexte »", "rv-more")
    elif more:
        tail = ui("⋯ la suite dans « Voir le contexte »", "rv-more")
    return f'<div class="rv-q">{body}{tail}</div>'


def render_passage(p: Passage, query: str = "", context: list[str] | None = None) -> str:
    """A passage as HTML: its lines as the note draws them, matched lines marked, query words highlighted.

    `context` (the note's lines first_line..last_line, read with the answer) tells which skipped
    lines are blank, so that only skipped *text* gets a "lignes … non montrées" marker."""
    texts = p.text.split("\n")
    numbered = list(zip(p.lines, texts))
    hidden_blank = None
    if context is not None and p.first_line:

        def hidden_blank(a: int, b: int) -> bool:
            seg = context[a - p.first_line : b - p.first_line + 1] if a >= p.first_line else None
            return seg is not None and len(seg) == b - a + 1 and all(not s.strip() for s in seg)

    return render_lines(numbered, query, {h.line for h in p.hits}, more=p.more, hidden_blank=hidden_blank)


def render_context(lines: list[str], first_line: int, hits: Iterable[int] = (), query: str = "") -> str:
    """The whole block (lines first_line…), capped: what "Voir le contexte" shows."""
    numbered = list(enumerate(lines, first_line))
    return render_lines(numbered, query, hits, line_cap=CONTEXT_LINE_CAP, total_cap=CONTEXT_CAP, context=True)


def passage_card(p: Passage, query: str = "", context: list[str] | None = None, heading: bool = True) -> str:
    """What the chat shows of one passage in one `st.html`: caption (exam badge, heading unless a
    column already says it, breadcrumb), the passage, and `fichier:lignes`."""
    return (
        f'<div class="rv-card">{caption_html(p, heading)}{render_passage(p, query, context)}'
        f'<div class="rv-ref">{ref_html(p)}</div></div>'
    )


def caption_html(p: Passage, heading: bool = True) -> str:
    parts = [label_html(x) for x in [p.heading if heading else "", *p.breadcrumb] if x]
    badge = '<span class="rv-badge">Examen</span>' if any(h.exam for h in p.hits) else ""
    if not parts and not badge:
        return ""
    return f'<div class="rv-cap">{badge}{" › ".join(parts)}</div>'


def ref(p: Passage) -> str:
    """`fichier:lignes` as a reader cites it: "other-services.md:92, 94–98"."""
    return f"{p.source}:{line_ranges(p.lines)}"


def ref_html(p: Passage) -> str:
    return label_html(p.source, 1000) + esc(":" + line_ranges(p.lines))


def text_block(text: str, cls: str = "rv-echo") -> str:
    """A plain note- or user-derived string (the question, a services list) as a safe HTML block."""
    j = cut_point(text, PASSAGE_CAP)
    tail = ui(f" … {number(len(text) - j)} caractères de plus") if j < len(text) else ""
    return f'<div class="{cls}">{esc(text[:j]).replace(chr(10), "&#10;")}{tail}</div>'


# ----- the few places where Streamlit Markdown is unavoidable (button labels, alerts) ----------------
# Streamlit's frontend rewrites these in Markdown even when escaped (icons, logo, arrows, autolinks).
_MARKDOWN_RISKS = re.compile(r":material|:streamlit:|->|<-|--|>=|<=|~=|www\.|://|@", re.IGNORECASE)


def markdown_label(text: str, cap: int = 200) -> str | None:
    """`text` escaped for a button label or an alert, or None when Streamlit would show it otherwise
    than written (the caller then says it another way: HTML, or a label of its own)."""
    if len(text) > cap or _MARKDOWN_RISKS.search(text) or SPECIAL.search(text):
        return None
    return escape_markdown(text)
