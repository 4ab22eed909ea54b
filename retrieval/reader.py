"""The one Markdown reader: a note's lines, each with the role markdown-it gives it.

Every part of the package that needs a note's structure asks this module: the chunker
(retrieval/parsing.py), the passages (which lines a code block spans), the chat's HTML
(retrieval/presentation/rendering.py), the study cards (table cells, bold spans) and the test oracle. The
syntax is read by markdown-it-py (CommonMark, with GFM tables and the front matter and footnote
plugins); its tokens carry their source lines (`token.map`), so each line of the
file gets a role (`Line.kind`) and its content (`Line.text`, a verbatim substring of the line).

Where CommonMark reads a student's note worse than the student meant it, the reading is
corrected here, and only here (`_CORRECTIONS` lists them): text indented by four spaces is
text, not code; a line that starts a list item is a list item even where CommonMark would glue
it to the paragraph above (a jump of indentation, `2)` under `1.`); `---` under a paragraph of
several lines, or inside a list, is a rule, not a heading; lines of `|` cells are a table even
without a delimiter row; a line without `|` after a table is text; HTML tags alone on their
line (`<aside>`, `</details>`) carry no words.

The conventions of note-taking tools (Logseq properties, Notion callouts, file names as
titles...) are read on top of this, in retrieval/conventions.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version as _dist_version

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

TAB_WIDTH = 4
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IMAGE_ONLY = re.compile(r"^!\[\[[^\]]*\]\]$|^!\[[^\]]*\]\([^)]*\)$")  # Obsidian embed or Markdown image alone
_TAG_ONLY = re.compile(r"^</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>$")  # "<aside>", "</details>", "<br/>"

# Inline syntax, for the few who read words inside a line (retrieval/text.py strips it for indexing,
# retrieval/presentation/formatting.py draws balanced emphasis, the cards find bold terms): the one copy of each.
STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")  # `**x**` / `__x__`
EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")  # `*x*`
EM_UNDER = re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")  # `_x_`
ONLY_EMPHASIS = re.compile(r"^(\*\*|__)[^*_]+\1$|^\*[^*]+\*$|^_[^_]+_$")  # "**Sécurité**" alone: a label
CODE_SPAN = re.compile(r"`([^`]*)`")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # `[text](url)`, `![alt](img)`
WIKI_LINK = re.compile(r"\[\[([^\]|]*)(?:\|([^\]]*))?\]\]")  # Obsidian [[page]] / [[page|alias]]
HIGHLIGHT = re.compile(r"==(?=\S)([^=]+?)(?<=\S)==")  # Obsidian ==highlight==
TABLE_SEP = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?$")  # a table's delimiter row

_CORRECTIONS = (
    "indented code (4 spaces, no fence) is read again as text at its indentation",
    "a paragraph's line that alone would start a list item is a list item",
    "setext `---`/`===` only under a single line at the margin; elsewhere `---` is a rule",
    "a paragraph of `|` lines is a table; a line without `|` ends a table",
    "`|` lines with their delimiter row under a line of text are a table, not the text's continuation",
    "an HTML block's tag-only lines carry no words; its other lines are text",
)

READER_VERSION = f"markdown-it-py {_dist_version('markdown-it-py')}, mdit-py-plugins {_dist_version('mdit-py-plugins')}"


def _parser() -> MarkdownIt:
    # maxNesting: notes nest bullets deeper than CommonMark's default of 20 ("sixty levels" in the tests);
    # (a list item is two levels). Past it markdown-it reads the rest as plain lines, which stay quotable.
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": 130}).enable(["table", "strikethrough"])
    return md.use(front_matter_plugin).use(footnote_plugin)


# Blocks only: the structure of lines. Inline parsing is left to the few who need it (`_INLINE`):
# run over every paragraph of a pasted dump ("[[[[…" × 200,000) it took seconds.
_MD = _parser().disable("inline")
_INLINE = _parser()


@dataclass
class Line:
    """One line of a note as the reader sees it.

    kind: "blank" | "heading" | "underline" (a setext heading's `===`) | "bullet" | "marker" (a
    list marker with no words) | "text" | "fence" (opening) | "fence_end" | "code" | "header" (a
    table's header row) | "sep" (its delimiter row) | "row" | "rule" | "meta" (front matter,
    properties: no passage) | "html" (a tag alone) | "image" (a picture alone) | "callout" (the
    `> [!tip] title` line).
    """

    kind: str = "blank"
    text: str = ""  # the content, verbatim: quote markers, indentation and list marker removed, stripped
    indent: int = 0  # columns before the content's block (quote markers count), a tab to the next multiple of 4
    quote: int = 0  # characters of blockquote markers at the start of the line ("> ", "> > ")
    offset: int = 0  # 0 outside a blockquote, else the columns of its markers + 1
    lead: int = 0  # columns of white space before the quote markers
    level: int = 0  # heading level; the depth of a bullet in its lists (1: top)
    info: str = ""  # callout type, fence markup, list marker ("-", "1.")
    title: str = ""  # a heading's or callout's own words
    prop: tuple[str, str] | None = None  # (key, value) of a metadata line (conventions.py)
    start: int = 0  # character of the line where `text` begins
    item: bool = False  # the line opens a list item (its marker is before `text`)
    tip: bool = False  # an exam tip by its tool's convention (a Notion callout "💡 **Examen**")
    section: bool = False  # a bullet that opens a section, as a heading would (conventions.py: outlines)
    task: bool = False  # a to-do (Logseq/org `TODO`, `DONE`…: conventions.py): what to do, not what is known


@dataclass
class Document:
    """A note read once: its lines as an editor numbers them and the role of each."""

    lines: list[str]
    roles: list[Line]
    title: str = ""  # a title the conventions give (file name, `title::`), when no `#` title
    names: list[str] = field(default_factory=list)  # other names of the page (aliases)
    outer: list[str] = field(default_factory=list)  # pages above this one (Notion's folders), outermost first
    tags: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: "\\n", "\\r\\n" and a lone "\\r" (old Mac files) end a line; a BOM is dropped.

    The indexer, the context shown in the app and the card extractor all number lines with this.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return _LINE_BREAK.split(text)


def indent_width(prefix: str) -> int:
    """Columns of leading white space, a tab advancing to the next multiple of 4 (tabs and spaces mix in the notes)."""
    col = 0
    for c in prefix:
        col = (col // TAB_WIDTH + 1) * TAB_WIDTH if c == "\t" else col + 1
    return col


def quote_prefix(raw: str) -> int:
    """Characters of the blockquote markers opening `raw` ("> ", ">> ", "> > "), 0 if none."""
    i = 0
    while i < len(raw) and i < 3 and raw[i] == " ":
        i += 1
    if i >= len(raw) or raw[i] != ">":
        return 0
    end = i + 1
    while True:
        j = end
        if j < len(raw) and raw[j] in " \t" and j + 1 < len(raw) and raw[j + 1] == ">":
            end = j + 2
        elif j < len(raw) and raw[j] == ">":
            end = j + 1
        else:
            break
    if end < len(raw) and raw[end] in " \t":
        end += 1
    return end


def is_image_only(s: str) -> bool:
    """A picture alone (`![[schema.png]]`, `![alt](x.png)`): no words to quote."""
    return bool(_IMAGE_ONLY.match(s))


def strong_spans(s: str) -> list[tuple[int, int]]:
    """[start, end) of each `**bold**` / `__bold__` span of a line, markers included, as CommonMark
    reads it: a span inside inline code (`` `**x**` ``, `` `__init__` ``) is no span."""
    cands = [(m.start(), m.end()) for m in STRONG.finditer(s)]  # candidates, then checked against code spans
    if not cands or "`" not in s:
        return cands
    code: list[tuple[int, int]] = []
    pos = 0
    for tok in _INLINE.parseInline(s)[0].children or []:
        if tok.type == "code_inline":
            mark = tok.markup
            a = s.find(mark + tok.content, pos) if tok.content else s.find(mark * 2, pos)
            if a < 0:
                a = s.find(mark, pos)
            b = s.find(mark, a + len(mark)) + len(mark) if a >= 0 else -1
            if a >= 0 and b > a:
                code.append((a, b))
                pos = b
    return [(a, b) for a, b in cands if not any(ca <= a < cb or ca < b <= cb for ca, cb in code)]


def table_cells(row: str) -> list[tuple[int, int]]:
    """[start, end) of each cell's text in a table row, surrounding spaces left out; a "\\|" stays in its cell."""
    edges = [-1, *(i for i, ch in enumerate(row) if ch == "|" and (i == 0 or row[i - 1] != "\\")), len(row)]
    spans = list(zip((a + 1 for a in edges), edges[1:]))
    if row.lstrip().startswith("|"):  # the pipe opening the row has nothing before it
        spans = spans[1:]
    if len(edges) > 2 and not row[edges[-2] + 1 :].strip():  # nor the closing one after it
        spans = spans[:-1]
    out = []
    for start, end in spans:
        while start < end and row[start].isspace():
            start += 1
        while end > start and row[end - 1].isspace():
            end -= 1
        out.append((start, end))
    return out


def cells(row: str) -> list[str]:
    """A table row's cells, verbatim and stripped."""
    return [row[a:b] for a, b in table_cells(row)]


@lru_cache(maxsize=4096)
def _alone(s: str) -> tuple[str, str]:
    """What a line reads as on its own: ("bullet", marker) when it starts a list item with words."""
    toks = _MD.parse(s)
    if len(toks) > 2 and toks[1].type == "list_item_open" and toks[2].type == "paragraph_open":
        return "bullet", (toks[1].info + toks[1].markup)
    return "", ""


def read(text: str) -> Document:
    """The note's lines and the role of each (see `Line`)."""
    lines = split_lines(text)
    roles = [Line(kind="text" if ln.strip() else "blank") for ln in lines]
    quoted = [False] * len(lines)
    _walk(_MD.parse("\n".join(lines)), lines, roles, quoted, 0, len(lines))
    for i, (raw, r) in enumerate(zip(lines, roles)):
        _finish(raw, r, quoted[i])
    return Document(lines, roles)


def read_shown(lines: list[str]) -> list[Line]:
    """The roles of lines shown together (a passage: lines of a note in file order, gaps allowed), read
    as one text: what the chat's renderer (retrieval/presentation/rendering.py) draws and the test oracle expects.
    One role per line, whatever the line holds (a "\\r" inside a line is read as a space)."""
    doc = read("\n".join(ln.replace("\r", " ") for ln in lines))
    return doc.roles[: len(lines)]


@lru_cache(maxsize=4096)
def read_alone(line: str) -> Line:
    """The role of one line read on its own (what Markdown would make of it shown alone: a list item,
    a rule…): for escaping a quote shown through Markdown. Shared: not to be changed."""
    return read_shown([line])[0]


def _walk(tokens: list[Token], lines: list[str], roles: list[Line], quoted: list[bool], base: int, stop: int) -> None:
    """Roles of lines [base, stop) from the tokens of their text (`base`: line of the tokens' line 0)."""
    depth = 0  # list nesting
    quote_start: list[int] = []  # per open blockquote: its first line
    item_line: list[int] = []  # per open list item: its first line (its marker)
    heading_setext: tuple[int, int, str] | None = None
    i = 0
    while i < len(tokens):
        t = tokens[i]
        m = (t.map[0] + base, min(t.map[1] + base, stop)) if t.map else None
        typ = t.type
        if typ == "front_matter" and m:
            for n in range(m[0], m[1]):
                roles[n].kind = "meta"
        elif typ == "blockquote_open" and m:
            for n in range(m[0], m[1]):
                quoted[n] = True
            quote_start.append(m[0])
        elif typ == "blockquote_close":
            quote_start.pop()
        elif typ in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif typ in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif typ == "list_item_open" and m:
            item_line.append(m[0])
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            words = nxt is not None and nxt.map is not None and nxt.map[0] + base == m[0] and nxt.type != "fence"
            r = roles[m[0]]
            r.kind, r.level, r.info, r.item = ("bullet" if words else "marker"), depth, t.info + t.markup, True
            if nxt is not None and nxt.type == "code_block" and nxt.map and nxt.map[0] + base == m[0]:
                r.kind = "bullet"  # "-     x": words after a wide gap are the item's words, not code
        elif typ == "list_item_close":
            item_line.pop()
        elif typ == "heading_open" and m:
            if t.markup in ("=", "-"):
                heading_setext = (m[0], m[1], t.markup)
            elif not (item_line and item_line[-1] == m[0]):
                roles[m[0]].kind, roles[m[0]].level = "heading", int(t.tag[1])
                roles[m[0]].title = tokens[i + 1].content.strip()
        elif typ == "paragraph_open" and m:
            if quote_start and quote_start[-1] == m[0]:
                body = lines[m[0]][quote_prefix(lines[m[0]]) :].strip()
                if body.startswith("[!") and "]" in body:
                    roles[m[0]].kind = "callout"
            _paragraph(lines, roles, m, item_line[-1] if item_line else -1)
        elif typ == "heading_close" or typ == "paragraph_close":
            pass
        elif typ == "inline" and heading_setext and m and heading_setext[0] == m[0]:
            # a setext heading: its lines are read like a paragraph's (heading_open came first)
            a, b, mark = heading_setext
            heading_setext = None
            ok = b - a == 2 and not quote_start and not item_line and lines[a][:1] not in (" ", "\t")
            if ok and not (a > 0 and roles[a - 1].kind not in ("blank", "heading", "meta", "underline")):
                roles[a].kind, roles[a].level, roles[a].title = "heading", 1 if mark == "=" else 2, lines[a].strip()
                roles[b - 1].kind = "underline"
            else:
                roles[b - 1].kind = "rule" if mark == "-" else "text"
                _paragraph(lines, roles, (a, b - 1), item_line[-1] if item_line else -1)
        elif typ == "fence" and m:
            roles[m[0]].kind, roles[m[0]].info = "fence", t.markup
            end = m[1] - 1
            closing = lines[end][quote_prefix(lines[end]) :].strip() if end > m[0] else ""
            closed = bool(closing) and closing.strip(t.markup[0]) == "" and len(closing) >= len(t.markup)
            for n in range(m[0] + 1, end if closed else m[1]):
                roles[n].kind = "code" if lines[n].strip() else "blank"
            if closed:
                roles[end].kind, roles[end].info = "fence_end", t.markup
            if item_line and item_line[-1] == m[0]:
                roles[m[0]].level = depth
        elif typ == "code_block" and m:
            if roles[m[0]].item:  # "- \tx": the item's own words
                m = (m[0] + 1, m[1])
            if m[1] > m[0]:
                _reread(lines, roles, quoted, m)
        elif typ == "hr" and m:
            if item_line and item_line[-1] == m[0]:
                roles[m[0]].kind = "marker"  # "- ---"
            else:
                roles[m[0]].kind = "rule"
        elif typ == "table_open" and m:
            j = i
            while tokens[j].type != "table_close":
                tj = tokens[j]
                if tj.type == "tr_open" and tj.map:
                    n = tj.map[0] + base
                    if n < stop:
                        head = tokens[j - 1].type == "thead_open"
                        roles[n].kind = "header" if head else ("row" if "|" in lines[n] else "text")
                        if head and n + 1 < stop:
                            roles[n + 1].kind = "sep"
                j += 1
            # a row without "|" ends the table for the student: the rest is text
            seen_text = False
            for n in range(m[0], m[1]):
                seen_text = seen_text or roles[n].kind == "text"
                if seen_text and roles[n].kind == "row":
                    roles[n].kind = "text"
            i = j
        elif typ == "html_block" and m:
            for n in range(m[0], m[1]):
                s = lines[n][quote_prefix(lines[n]) :].strip()
                roles[n].kind = "blank" if not s else ("html" if _TAG_ONLY.match(s) else "text")
        i += 1


def _paragraph(lines: list[str], roles: list[Line], m: tuple[int, int], item: int) -> None:
    """Lines of a paragraph: text, a first line that is its list item's marker line, and the corrections."""
    a, b = m
    pipes = all(lines[n][quote_prefix(lines[n]) :].lstrip().startswith("|") for n in range(a, b))
    table = b  # first line of a table that closes the paragraph ("- item" / "| a | b |" / "|---|---|")
    while table > a + 1 and lines[table - 1][quote_prefix(lines[table - 1]) :].lstrip().startswith("|"):
        table -= 1
    if pipes or table > b - 2 or not TABLE_SEP.match(lines[table + 1][quote_prefix(lines[table + 1]) :].strip()):
        table = b
    for n in range(a, b):
        r = roles[n]
        if r.kind == "callout":
            continue
        if n >= table:
            r.kind = "header" if n == table else ("sep" if n == table + 1 else "row")
            continue
        if n == item:
            r.kind = "bullet" if r.kind != "marker" else r.kind
            continue
        body = lines[n][quote_prefix(lines[n]) :].lstrip()
        if pipes:
            r.kind = "header" if n == a else "row"
            continue
        r.kind = "text"
        if n > a and body[:1] in "-*+0123456789":
            kind, marker = _alone(body.rstrip())
            if kind:
                r.kind, r.info, r.item = kind, marker, True


def _reread(lines: list[str], roles: list[Line], quoted: list[bool], m: tuple[int, int]) -> None:
    """Indented code without a fence is, in a student's notes, text indented under what it continues: read again."""
    a, b = m
    bodies = []
    for n in range(a, b):
        raw = lines[n]
        q = quote_prefix(raw) if quoted[n] else 0
        rest = raw[q:]
        lead = rest[: len(rest) - len(rest.lstrip(" \t"))]
        bodies.append((indent_width(lead), rest[len(lead) :]))
    cut = min((w for w, s in bodies if s.strip()), default=0)
    if cut == 0:  # nothing to take off: plain text (never read the same lines twice)
        for n in range(a, b):
            roles[n].kind = "text" if lines[n].strip() else "blank"
        return
    src = "\n".join((" " * (w - cut) + s) if s.strip() else "" for w, s in bodies)
    sub = [Line(kind="text" if s.strip() else "blank") for _, s in bodies]
    sub_quoted = [False] * len(sub)
    sub_lines = src.split("\n")
    _walk(_MD.parse(src), sub_lines, sub, sub_quoted, 0, len(sub))
    for k, r in enumerate(sub):
        if r.kind == "meta":  # "---" lines read as front matter at the top of the piece
            r.kind = "rule" if sub_lines[k].strip() == "---" else "text"
        roles[a + k].kind, roles[a + k].level, roles[a + k].info = r.kind, r.level, r.info
        roles[a + k].title, roles[a + k].item = r.title, r.item


def _finish(raw: str, r: Line, quoted: bool) -> None:
    """Content, indentation and quote markers of a line of known kind."""
    q = quote_prefix(raw) if quoted else 0
    r.quote = q
    r.lead = indent_width(raw[: len(raw) - len(raw.lstrip(" \t"))]) if q else 0
    r.offset = indent_width(raw[:q]) + 1 if q else 0
    rest = raw[q:]
    body = rest.lstrip(" \t")
    r.indent = r.offset + indent_width(rest[: len(rest) - len(body)])
    start = len(raw) - len(body)
    if r.kind == "bullet" or (r.item and r.kind in ("header", "row", "sep", "fence", "text")):
        k = 0
        while k < len(body) and body[k].isdigit():
            k += 1
        k += 1  # the marker: "-", "*", "+", or the "." / ")" after the number
        words = body[k:].lstrip(" \t")
        start += len(body) - len(words)
        body = words
    if r.kind == "image" or (r.kind in ("text", "bullet") and is_image_only(body.strip())):
        r.kind = "image" if r.kind == "text" else "marker"
    r.text = body.strip()
    r.start = start
    if not r.text and r.kind in ("text", "code", "header", "row", "callout", "image"):
        r.kind = "blank"  # white space only ("\x0c"): no words
    elif not r.text and r.kind == "bullet":
        r.kind = "marker"
    if r.kind == "callout":
        inner = body.strip()[2:]
        close = inner.find("]")
        ctype = inner[:close]
        if not ctype or not all(c.isalnum() or c == "-" for c in ctype):
            r.kind = "text"
            return
        title = inner[close + 1 :]
        title = title[1:] if title[:1] in "+-" else title
        r.info, r.title = ctype.lower(), title.strip()
    if r.kind == "heading" and not r.title:
        r.title = ""
