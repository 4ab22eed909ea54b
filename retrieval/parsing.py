"""Markdown notes → chunks: one per bullet, table row, paragraph line and code line.

The parser never changes a quoted character: `Chunk.text` is always a substring of
line `Chunk.line` of the file, so every answer can be checked against the notes.

Students write notes in many ways; each is read for its structure:
- headings of any level, `#` or underlined (`Titre\n=====`, `Sous-titre\n-----`): a chunk's heading
  is the nearest one, its heading path all of them;
- bullets (`-`, `*`, `+`, `1.`, `2)`) nested by 2, 4 spaces or tabs, in any mix;
- a paragraph that introduces what follows ("**Sécurité**", "Exemple :", "**Object Lock** : …"
  right above a list) is the parent of that list or code block, like a bullet would be;
- lines of text one under the other are one paragraph (one block, shown whole); a line that a hard
  wrap cut mid-sentence is indexed with its whole sentence (`Chunk.wrapped`), while definitions one
  under the other ("X :: …", "**X** — …", "Q :" / "R :") stay separate statements; a paragraph
  ending with ":" introduces the paragraph after the next blank line;
- code blocks belong to the label above them, and their `# comments` are not headings;
- tables: each row is a chunk whose parent is the header row;
- Obsidian: callouts (`> [!tip] Pour l'examen`) are parents of their lines, tip callouts are
  exam tips; embedded images (`![[schema.png]]`) are skipped; `[[liens]]` and `#tags` are text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from . import conventions
from .conventions import NEW_STATEMENT, TIP_CALLOUTS, is_tips_label, own_path, searchable, subject
from .models import Chunk
from .reader import ONLY_EMPHASIS as _ONLY_EMPHASIS
from .reader import Document, Line, cells, indent_width, split_lines
from .text import MAX_MARKUP_CHARS, strip_emphasis

__all__ = ["parse_markdown", "chunks_of", "index_text", "split_lines", "indent_width", "is_label_text", "is_tips_label"]


# Guards against pathological input (a dumped file of one huge line, thousands of nesting
# levels): emphasis removal is quadratic on some inputs ("[[[[..."), breadcrumbs grow with depth.
MAX_CRUMBS = 64  # deeper breadcrumbs keep their first entry and the nearest parents
MAX_INDEX_CHARS = 4000  # indexed text of one chunk (the quote itself is never cut)
MAX_CHUNK_CHARS = 3000  # a longer line is indexed as several chunks, each a piece of it
# A line that ends a sentence (or introduces what follows): the next text line does not continue it.
_ENDS_SENTENCE = re.compile(r"[.!?:;…]['\")\]*_`]*\s*$")
_SENTENCE_END = re.compile(r"[.!?…]['\")\]*_`]*\s")  # a sentence ending inside a line
MAX_WRAPPED_LINES = 6  # lines a wrapped sentence may borrow on each side


def _crumbs(items: list[str]) -> list[str]:
    return items if len(items) <= MAX_CRUMBS else items[:1] + items[-(MAX_CRUMBS - 1) :]


def is_label_text(text: str) -> bool:
    """Text that names what follows rather than says something: "Statistiques détaillées :", "**Sécurité**"."""
    t = text.rstrip()
    if t.endswith(":"):
        return True
    return len(t) <= MAX_MARKUP_CHARS and bool(_ONLY_EMPHASIS.match(t))


@dataclass
class _Parent:
    indent: int  # columns; -1 for a paragraph that introduces a list at the margin
    text: str  # emphasis-free, for breadcrumbs
    line: int
    exam: bool  # this parent or one above it announces exam tips
    labelish: bool  # ends with ":" (keeps a code block at its own indentation as its child)
    paragraph: bool = False  # a paragraph parent: the next paragraph at the margin closes it
    section: bool = False  # an outline's top-level bullet that is its section's heading (not a crumb)
    marker: str = ""  # a paragraph parent: the kind of marker of the list it introduces ("*", "-", ".", ")")


_OPENS_BLOCK = frozenset({"bullet", "fence", "header", "row", "sep"})


def parse_markdown(text: str, source: str = "notes.md") -> list[Chunk]:
    """The note's chunks, from its lines as the reader (retrieval/reader.py) and the tools'
    conventions (retrieval/conventions.py) read them."""
    return chunks_of(conventions.read_note(text, source), source)


def chunks_of(doc: Document, source: str) -> list[Chunk]:
    """The chunks of a note the reader has read (see the module's docstring for what each line becomes)."""
    return _Chunker(doc, source).run()


class _Chunker:
    """The walk over a note's lines, one role at a time: the open headings, the open parents (bullets,
    introducing paragraphs, callouts), the open code block, table and blockquote, and the chunks made."""

    def __init__(self, doc: Document, source: str):
        self.doc, self.source = doc, source
        self.lines, self.roles = doc.lines, doc.roles
        self.title = ""
        self.default_heading = doc.title or PurePosixPath(source).stem
        self.headings: list[tuple[int, str]] = []  # open headings, shallowest first
        self.heading_exam = False  # a heading of the path announces exam tips
        self.stack: list[_Parent] = []  # open parents: bullets, introducing paragraphs, callouts
        self.chunks: list[Chunk] = []
        self.roots: list[int] = []  # per chunk: line of its top-level block
        self.wraps: list[bool] = []  # per chunk: its line continues the sentence of the line above (a hard wrap)
        self.last_text: tuple[int, int] | None = None  # (line, chunk index) of the last bullet or paragraph line
        self.run_start = 0  # first line of the paragraph at the margin being read (consecutive lines: one block)
        self.fence = False
        self.fence_quoted = False  # the open fence started inside a blockquote
        self.fence_owner: _Parent | None = None  # the label a code block at its own indentation belongs to
        self.table_header: list[str] | None = None
        self.table_header_text = ""
        self.table_header_line = 0
        self.table_root = 0
        self.quote_depth: int | None = None  # len(stack) when the current blockquote began
        self.callouts: set[int] = set()  # lines of callout titles (labels of the callout's lines)
        self.outline = any(r.section for r in self.roles)  # a page of bullets whose top-level ones are its sections
        self.intro_text: set[int] = set()  # lines of labels introducing a paragraph after a blank line

    def emit(
        self,
        line_no: int,
        body: str,
        kind: str,
        extra_crumbs: tuple[str, ...] = (),
        parent: int = 0,
        tip: bool = False,
        task: bool = False,
    ) -> None:
        stack, doc = self.stack, self.doc
        path = [t for _, t in self.headings]
        crumbs = _crumbs([p.text for p in stack if not p.section] + list(extra_crumbs))
        heading = path[-1] if path else self.default_heading
        for piece in _windows(body):
            self.chunks.append(
                Chunk(
                    source=self.source,
                    line=line_no,
                    heading=heading,
                    breadcrumb=crumbs,
                    text=piece,
                    kind=kind,
                    title=self.title,  # the "#" title; a title the file name gives is the first heading instead
                    heading_path=[*doc.outer, *(path if self.title or not doc.title else [doc.title, *path])],
                    parent_line=parent or (stack[-1].line if stack else 0),
                    exam=self.heading_exam or tip or any(p.exam for p in stack),
                    names=list(doc.names),
                    task=task,
                )
            )
            self.roots.append(stack[0].line if stack else line_no)
            self.wraps.append(False)

    def push(self, indent: int, body: str, line_no: int, *, paragraph: bool = False, exam: bool | None = None) -> None:
        stack = self.stack
        plain = strip_emphasis(body)
        is_exam = (stack[-1].exam if stack else False) or (is_tips_label(plain) if exam is None else exam)
        stack.append(_Parent(indent, plain, line_no, is_exam, is_label_text(body), paragraph))

    def starts_block(self, j: int) -> bool:
        """Line j (0-based) opens a list, a code block or a table: what an introducing paragraph introduces."""
        if j >= len(self.lines):
            return False
        if self.quote_depth is not None and not self.roles[j].quote:
            return False
        return self.roles[j].kind in _OPENS_BLOCK

    def open_heading(self, level: int, text: str) -> None:
        htext = strip_emphasis(text)
        self.stack.clear()
        self.table_header = None
        if level == 1:
            self.title = htext
        self.headings = [(lv, t) for lv, t in self.headings if lv < level] + ([(level, htext)] if htext else [])
        self.heading_exam = any(is_tips_label(t) for lv, t in self.headings if lv > 1)  # not the file's title

    def _text_after_blank(self, j: int) -> bool:
        """Line j+1 (0-based) is blank and line j+2 is plain text at the margin: what a label may introduce."""
        lines, roles = self.lines, self.roles
        if j + 2 >= len(lines) or roles[j + 1].kind != "blank" or lines[j + 1].strip() or self.quote_depth is not None:
            return False
        r = roles[j + 2]
        return r.kind == "text" and not r.quote and lines[j + 2][:1] not in (" ", "\t")

    def run(self) -> list[Chunk]:
        for i, r in enumerate(self.roles):
            if r.kind not in ("underline", "meta", "html"):
                self._line(i, r)
        return self._finish()

    def _line(self, i: int, r: Line) -> None:
        kind, n = r.kind, i + 1
        self._quote(r)
        if self._code(r, n):
            return
        self.fence = False
        if kind == "blank":
            self.table_header = None
            if self.quote_depth is not None and r.offset == 0:
                del self.stack[self.quote_depth :]
                self.quote_depth = None
            return
        if kind == "heading" and r.offset == 0:
            self.open_heading(r.level, r.title)
            return
        if kind == "callout" and not self.stack[self.quote_depth or 0 :]:
            # "> [!tip] Pour l'examen": the title is a parent of the callout's lines
            exam = r.info in TIP_CALLOUTS or is_tips_label(r.title)
            if r.title:
                self.emit(n, r.title, "paragraph")
                self.callouts.add(n)
            self.push(r.offset - 1, r.title or r.info, n, exam=exam)
            return
        if kind in ("image", "marker"):
            return
        if kind in ("header", "row", "sep"):
            self._table(r, n)
            return
        self.table_header = None
        if kind == "rule":
            del self.stack[self.quote_depth or 0 :]
            return
        if kind == "bullet":
            self._bullet(r, n)
            return
        self._text(i, r, n)

    def _quote(self, r: Line) -> None:
        """A blockquote begins (it closes the lists above it) or ends (its parents close with it)."""
        if self.fence and not self.fence_quoted:
            return
        stack = self.stack
        if r.quote:
            if self.quote_depth is None:
                # at the margin it also closes the label of the paragraph or list above ("**Sécurité**")
                while stack and (stack[-1].indent >= r.lead or (r.lead == 0 and stack[-1].paragraph)):
                    stack.pop()
                self.table_header = None
                self.quote_depth = len(stack)
        elif self.quote_depth is not None and not self.fence:
            del stack[self.quote_depth :]
            self.quote_depth = None
            self.table_header = None

    def _code(self, r: Line, n: int) -> bool:
        """A code line, a fence that opens or closes a code block, a blank line inside one: True when handled."""
        kind, stack = r.kind, self.stack
        if kind == "code":
            self.emit(n, r.text, "code", tip=r.tip)
            return True
        if kind == "fence_end":
            self.fence = False
            if stack and stack[-1] is self.fence_owner:  # "Exemple :" introduced this code block, and only it
                stack.pop()
            return True
        if kind == "fence":
            self.fence, self.fence_quoted = True, self.quote_depth is not None
            fi = r.indent
            # A code block under "**Activer le versioning** :" belongs to it, even at its indentation.
            while stack and stack[-1].indent >= fi and not stack[-1].labelish:
                stack.pop()
            # kept only as the label of this block: it closes with it
            self.fence_owner = stack[-1] if stack and (stack[-1].paragraph or stack[-1].indent >= fi) else None
            self.table_header = None
            return True
        return self.fence and kind == "blank"

    def _table(self, r: Line, n: int) -> None:
        stack = self.stack
        if self.table_header is None:
            ti = r.indent
            while stack and stack[-1].indent >= ti and not stack[-1].labelish and len(stack) > (self.quote_depth or 0):
                stack.pop()
            self.table_header = [strip_emphasis(c) for c in cells(r.text)]
            self.table_header_text = " | ".join(c for c in self.table_header if c)
            self.table_header_line = n
            self.table_root = stack[0].line if stack else n
            # The header row is a chunk too: the parent of the rows, as a label is of its list.
            self.emit(n, r.text, "header")
            return
        if r.kind == "sep":
            return
        crumbs = (self.table_header_text,) if self.table_header_text else ()
        self.emit(n, r.text, "row", crumbs, parent=self.table_header_line)
        self.roots[-1] = self.table_root

    def _bullet(self, r: Line, n: int) -> None:
        stack = self.stack
        ind = r.indent
        while stack and stack[-1].indent >= ind and len(stack) > (self.quote_depth or 0):
            stack.pop()
        if stack and stack[-1].paragraph and len(stack) > (self.quote_depth or 0) and r.level == 1:
            # "Vocabulaire à connaître :" introduces its list, not the next one ("1." items, then "*" ones)
            mark = r.info[-1:] if r.info[:1].isdigit() else r.info
            if stack[-1].marker and stack[-1].marker != mark:
                stack.pop()
            elif not stack[-1].marker:
                stack[-1].marker = mark
        if self.outline and ind == 0:  # an outline's top-level bullet opens its section, or closes the last
            self.open_heading(2, r.title if r.section else "")
        body = r.text
        self.emit(n, body, "bullet", tip=r.tip, task=r.task)
        self.last_text, self.run_start = (n, len(self.chunks) - 1), 0
        self.push(ind, body, n)
        stack[-1].section = r.section

    def _text(self, i: int, r: Line, n: int) -> None:
        """Plain text: a continuation of the open bullet when indented, else a paragraph of its own."""
        stack, chunks, offset = self.stack, self.chunks, r.offset
        stripped = r.text
        ind = r.indent
        prev = self.last_text if self.last_text is not None and self.last_text[0] == n - 1 else None
        top = stack[-1] if stack else None
        # "Les politiques de scaling :", a blank line, then definitions one under the other: its children
        under_intro = (
            top is not None
            and top.paragraph
            and top.line in self.intro_text
            and ind <= offset
            and (n == top.line + 2 or (prev is not None and chunks[prev[1]].parent_line == top.line))
        )
        while not under_intro and stack and (stack[-1].indent >= ind or (stack[-1].paragraph and ind <= offset)):
            if len(stack) <= (self.quote_depth or 0):
                break
            stack.pop()
        self.emit(n, stripped, "paragraph", tip=r.tip, task=r.task)
        if prev is not None and not _ENDS_SENTENCE.search(chunks[prev[1]].text) and not NEW_STATEMENT.match(stripped):
            self.wraps[-1] = True  # "… les producteurs y déposent des" / "messages, …": one sentence, two lines
        self.last_text = (n, len(chunks) - 1)
        at_margin = not stack[self.quote_depth or 0 :]
        # "**Sécurité**", "Exemple :" or "**Object Lock** : …" right above a list: the list's parent.
        introduces = at_margin and (
            self.starts_block(i + 1) or (is_label_text(stripped) and _next_starts(i, self.starts_block))
        )
        # "Exemple :" or a bold line alone ("**Managed Spot Training**", a heading in Google Docs' and
        # Typora's exports), a blank line, then a paragraph: the paragraph's parent.
        if at_margin and not introduces and is_label_text(stripped) and self._text_after_blank(i):
            introduces = True
            self.intro_text.add(n)
        if at_margin and not stack and not introduces:
            # consecutive lines of text at the margin are one paragraph: one block, shown together
            self.run_start = self.run_start if prev is not None and self.run_start else n
            self.roots[-1] = self.run_start
        else:
            self.run_start = 0
        if introduces:
            self.push(offset - 1, stripped, n, paragraph=True)

    def _finish(self) -> list[Chunk]:
        chunks, roots = self.chunks, self.roots
        _sentences(chunks, self.wraps)
        # A block runs from its top-level line to the last line of a chunk under it.
        ends: dict[int, int] = {}
        for ch, r0 in zip(chunks, roots):
            ends[r0] = max(ends.get(r0, r0), ch.line)
        parents = {ch.parent_line for ch in chunks if ch.parent_line}
        for ch, r0 in zip(chunks, roots):
            ch.block_start, ch.block_end = r0, ends[r0]
            ch.label = ch.line in parents and (
                ch.kind == "header"
                or (ch.kind in ("bullet", "paragraph") and (is_label_text(ch.text) or ch.line in self.callouts))
            )
        return chunks


def _sentences(chunks: list[Chunk], wraps: list[bool]) -> None:
    """A line of a hard-wrapped sentence ("… les producteurs y déposent des" / "messages, les
    consommateurs …") gets the whole sentence in `Chunk.wrapped`: what is indexed for it. The quote
    stays the line; the sentence runs back and forth to where one ends (also inside a line)."""
    n = len(chunks)
    for j in range(n):
        if not (wraps[j] or (j + 1 < n and wraps[j + 1])):
            continue
        before: list[str] = []
        k = j
        while wraps[k] and k > 0 and len(before) < MAX_WRAPPED_LINES:
            k -= 1
            ends = list(_SENTENCE_END.finditer(chunks[k].text))
            before.insert(0, chunks[k].text[ends[-1].end() :] if ends else chunks[k].text)
            if ends:
                break
        after: list[str] = []
        k = j
        while k + 1 < n and wraps[k + 1] and len(after) < MAX_WRAPPED_LINES:
            k += 1
            end = _SENTENCE_END.search(chunks[k].text + " ")
            after.append(chunks[k].text[: end.end()].rstrip() if end else chunks[k].text)
            if end:
                break
        parts = [p for p in (*before, chunks[j].text, *after) if p.strip()]
        if len(parts) > 1:
            chunks[j].wrapped = " ".join(p.strip() for p in parts)


def _windows(body: str) -> list[str]:
    """A line longer than MAX_CHUNK_CHARS (a pasted dump) as consecutive pieces cut at white space.

    Each piece is a chunk of its own, so every part of the line is searchable (only the first
    MAX_INDEX_CHARS of a chunk are indexed), and each is still a substring of the line.
    """
    if len(body) <= MAX_CHUNK_CHARS:
        return [body]
    out, start = [], 0
    while start < len(body):
        end = min(start + MAX_CHUNK_CHARS, len(body))
        if end < len(body):
            cut = body.rfind(" ", start + MAX_CHUNK_CHARS // 2, end)
            end = cut if cut > start else end
        piece = body[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    return out


def _next_starts(i: int, starts_block) -> bool:
    """A label paragraph may have one blank line before what it introduces."""
    return starts_block(i + 2) and not starts_block(i + 1)


def index_text(c: Chunk) -> str:
    """What is embedded and indexed: headings > breadcrumb > text, emphasis removed.

    The document's "#" title is left out when a deeper heading exists: it is the same for
    every chunk of the file and would drown the service's own name; unless it is the page's subject
    (conventions.subject: a Notion page's title, a file name standing for a missing title), then
    it says what the page is about, with the page's other names (aliases). A table row is spelled
    out against its header ("Durée max: AWS Lambda 15 minutes max ...") so that each cell
    keeps its meaning.
    """
    crumbs = list(c.breadcrumb)
    body = strip_emphasis(searchable(c.wrapped or c.text))
    if c.kind == "row" and crumbs:
        header = [h.strip() for h in crumbs[-1].split("|")]
        row = [strip_emphasis(x) for x in cells(c.text)]
        if len(row) == len(header) and len(row) > 1:
            body = row[0] + " : " + " ; ".join(f"{h} : {v}" for h, v in zip(header[1:], row[1:]))
            crumbs = crumbs[:-1]
    path = own_path(c) or [c.heading]
    topic = subject(c)
    heads = path if topic and topic == c.title else ([h for h in path if h != c.title] or path[-1:])
    if topic and c.names:
        heads = [f"{h} ({', '.join(c.names)})" if h == topic else h for h in heads]
    parts = [p for p in [*heads, *crumbs] if p]
    # Over-long context gives way to the chunk's own words: far ancestors go first.
    while len(parts) > 1 and sum(len(p) + 3 for p in parts) + len(body) > MAX_INDEX_CHARS:
        del parts[1]
    return " > ".join([*parts, body] if body else parts)[:MAX_INDEX_CHARS]
