"""From ranked chunks to passages: what a student reads, verbatim, instead of lone bullets.

Retrieval ranks single bullets; a passage shows each matched bullet with the lines it needs:
- a label ("Statistiques détaillées :", "**Fonctionnalités clés**", a callout's title) brings its
  children; a bullet under a label brings the label's whole list, so a list question gets the list;
- bullets matched under one ordinary parent share one passage, the parent line on top;
- a table row brings the header row (and the separator, so the quote is still a table);
- a label over a code block brings the code, fences included.
A block longer than MAX_LINES shows the label, the matched lines and their parents, then the
first lines that fit; `Passage.more` says it goes on. Lines come from the note as it is on disk,
read like the indexer reads it, so a passage's text is always exactly its lines.
"""

from __future__ import annotations

import os
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .conventions import read_note as read_roles
from .corpus import CorpusReport, read_note
from .models import Chunk, Hit, Passage
from .reader import Document

MAX_LINES = 10  # lines one passage shows; the block's other lines are in "Voir le contexte"
_FRAME = frozenset({"fence", "fence_end", "header", "sep", "row"})  # lines that keep a code block or table whole


class NoteStructure:
    """Parent links of a set of chunks, by (source, line): what a passage needs to find a block."""

    def __init__(self, chunks: list[Chunk]):
        self.chunk_at: dict[tuple[str, int], Chunk] = {}
        children: dict[tuple[str, int], list[int]] = defaultdict(list)
        for c in chunks:
            key = (c.source, c.line)
            if key in self.chunk_at:
                continue  # the other pieces of a very long line
            self.chunk_at[key] = c
            if c.parent_line:
                children[(c.source, c.parent_line)].append(c.line)
            elif c.kind == "paragraph" and c.block_start < c.line:
                children[(c.source, c.block_start)].append(c.line)  # the next lines of a paragraph
        self.children = dict(children)

    def descendants(self, source: str, line: int) -> list[int]:
        out, todo = [], [line]
        while todo:
            for child in self.children.get((source, todo.pop()), ()):
                out.append(child)
                todo.append(child)
        return sorted(out)

    def anchor(self, c: Chunk) -> tuple[int, bool]:
        """(line the passage is built around, whether it shows that line's whole block)."""
        if c.kind == "row":
            return (c.parent_line or c.line), False
        if c.label:  # a label, a callout's title, a table's header row: with everything under it
            return c.line, True
        parent = self.chunk_at.get((c.source, c.parent_line)) if c.parent_line else None
        if c.kind == "code":
            return (c.parent_line or c.line), bool(c.parent_line)
        if parent is not None and parent.label:
            return parent.line, True
        if c.kind == "paragraph" and not c.parent_line and c.block_end > c.block_start:
            return c.block_start, True  # a paragraph of several lines is read whole
        return (c.parent_line or c.line), False

    def continued(self, source: str, line: int) -> list[int]:
        """The lines right under `line` that carry on its text (a bullet wrapped onto the next lines)."""
        out, n = [], line + 1
        while (c := self.chunk_at.get((source, n))) is not None and c.kind == "paragraph" and c.parent_line == line:
            out.append(n)
            n += 1
        return out


class NoteLines:
    """The notes' lines as the indexer numbers them, with the role the reader gives each line
    (retrieval/reader.py), read once per file version (small LRU)."""

    def __init__(self, corpus_dir: Path, size: int = 32):
        self.root = Path(corpus_dir)
        self._cache: OrderedDict[tuple[str, int, int], Document] = OrderedDict()
        self._size = size

    def get(self, source: str) -> list[str] | None:
        doc = self.read(source)
        return doc.lines if doc is not None else None

    def read(self, source: str) -> Document | None:
        try:
            root = self.root.resolve()
            path = (root / source).resolve()
            path.relative_to(root)  # a source from the index never leads outside the notes
            st = os.stat(path)
        except (OSError, RuntimeError, ValueError):
            return None
        key = (source, st.st_size, st.st_mtime_ns)
        doc = self._cache.get(key)
        if doc is None:
            note = read_note(source, path, CorpusReport())
            if note is None:
                return None
            doc = read_roles(note.text, source)
            self._cache[key] = doc
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return doc


@dataclass
class _Draft:
    source: str
    anchor: int
    whole: bool  # the anchor's whole block (a label's list) rather than the matched lines only
    hits: list[Hit] = field(default_factory=list)
    block: set[int] = field(default_factory=set)  # every line the block may show (anchor + descendants)
    siblings: tuple | None = None  # top-level bullets of one section: they share a passage, as under a parent

    def holds(self, line: int) -> bool:
        return line == self.anchor or line in self.block


def build(ranked: Iterable[Hit], structure: NoteStructure, notes: NoteLines, k: int) -> list[Passage]:
    """At most k passages from hits in rank order; a hit inside an earlier passage joins it."""
    drafts: list[_Draft] = []
    snapshot: dict[str, Document | None] = {}  # one reading per note for the whole answer (notes change)
    for h in ranked:
        c = structure.chunk_at.get((h.source, h.line))
        if h.source not in snapshot:
            snapshot[h.source] = notes.read(h.source)
        doc = snapshot[h.source]
        lines = doc.lines if doc is not None else None
        if c is None or lines is None or not (1 <= h.line <= len(lines)) or h.text not in lines[h.line - 1]:
            continue  # the note changed since it was indexed: quoting other lines would misquote
        home = next((d for d in drafts if d.source == h.source and d.holds(h.line)), None)
        if home is not None:
            home.hits.append(h)
            continue
        # bullets written straight under a heading are siblings as much as children of one bullet are
        group = (h.source, tuple(c.heading_path)) if not c.parent_line and c.kind == "bullet" and not c.label else None
        kin = next((d for d in drafts if group is not None and d.siblings == group), None)
        if kin is not None:
            kin.hits.append(h)
            kin.block |= {h.line, *structure.descendants(h.source, h.line)}
            continue
        anchor, whole = structure.anchor(c)
        draft = _Draft(h.source, anchor, whole, [h], {anchor, *structure.descendants(h.source, anchor)})
        # an earlier passage inside this one's block (a child shown before its label) joins it, in its place
        inner = [d for d in drafts if d.source == h.source and draft.holds(d.anchor)]
        if inner:
            slot = drafts.index(inner[0])
            for d in inner:
                draft.hits.extend(d.hits)
                draft.whole = draft.whole or d.whole
                drafts.remove(d)
            drafts.insert(slot, draft)
            continue
        if len(drafts) >= k:
            break
        draft.siblings = group
        drafts.append(draft)
    out = []
    for d in drafts:
        doc = snapshot[d.source]
        p = _passage(d, structure, doc) if doc is not None else None
        if p is not None:
            out.append(p)
    return out


def _passage(d: _Draft, structure: NoteStructure, doc: Document) -> Passage | None:
    lines = doc.lines
    matched = {h.line for h in d.hits}
    block = sorted(d.block)
    if block[-1] > len(lines):
        return None  # the note got shorter since it was indexed: its block is not where the index says
    end = _close_fence(doc, block[-1])
    start = min(d.block) if d.siblings is not None else d.anchor
    full = [n for n in range(start, end + 1) if _shown(doc, n, d.block, end)]
    if d.whole:
        wanted = full
    elif d.siblings is not None:  # bullets under one heading: the ones that matched, in the note's order
        wanted = sorted(matched)
    else:  # an ordinary parent: the parent on top and what matched (with the children of a matched label)
        wanted = sorted({d.anchor, *matched, *(x for h in d.hits for x in _own_block(structure, h, lines))})
    wanted = _with_table_header(doc, wanted, structure, d)
    # a line is shown with the lines its text runs on to ("* taille max : 256 Ko … en" / "  2025) ; …")
    wanted = sorted({*wanted, *(x for n in wanted for x in structure.continued(d.source, n))})
    whole_lines = matched | {x for n in matched for x in structure.continued(d.source, n)}
    shown, more = _cap(wanted, whole_lines, structure, d.source)
    more = more or (len(shown) < len(full) and d.siblings is None)
    first = structure.chunk_at.get((d.source, d.anchor))
    top = first or structure.chunk_at.get((d.source, min(matched)))
    assert top is not None
    breadcrumb = list(top.breadcrumb)
    if first is None and top.kind == "row" and breadcrumb:
        breadcrumb = breadcrumb[:-1]  # the header row is shown: not in the breadcrumb too
    return Passage(
        source=d.source,
        heading=top.heading,
        heading_path=list(top.heading_path),
        breadcrumb=breadcrumb,
        lines=shown,
        text="\n".join(lines[n - 1].rstrip() for n in shown),
        hits=d.hits,
        score=max(h.score for h in d.hits),
        more=more,
        first_line=start,
        last_line=end,
    )


def _shown(doc: Document, n: int, block: set[int], end: int) -> bool:
    """Lines of a block worth showing: its chunks, and the fences and table rules between them."""
    if n in block:  # a chunk of the block: always (what the index holds is what a passage shows)
        return True
    kind = doc.roles[n - 1].kind
    if kind in ("blank", "image", "meta", "marker"):
        return False
    return kind in _FRAME or n == end


def _close_fence(doc: Document, last: int) -> int:
    """The block's last line, past the closing fence when it ends inside a code block."""
    roles = doc.roles
    n = last
    while n >= 1 and roles[n - 1].kind not in ("fence", "fence_end"):
        n -= 1
    if n < 1 or roles[n - 1].kind != "fence":
        return last
    for m in range(last + 1, len(roles) + 1):
        if roles[m - 1].kind == "fence_end":
            return m
        if roles[m - 1].kind not in ("code", "blank"):
            break
    return last


def _own_block(structure: NoteStructure, h: Hit, lines: list[str]) -> list[int]:
    """A matched label's own children, and a matched table row's header."""
    c = structure.chunk_at.get((h.source, h.line))
    if c is not None and c.label:
        return structure.descendants(h.source, h.line)
    return []


def _with_table_header(doc: Document, wanted: list[int], structure: NoteStructure, d: _Draft) -> list[int]:
    """A table row is read against its header: the header row and its rule come with it."""
    out = set(wanted)
    for n in wanted:
        c = structure.chunk_at.get((d.source, n))
        if c is not None and c.kind == "row" and c.parent_line:
            out.add(c.parent_line)
            rule = c.parent_line + 1
            if rule <= len(doc.roles) and doc.roles[rule - 1].kind == "sep":
                out.add(rule)
    return sorted(out)


def _cap(wanted: list[int], matched: set[int], structure: NoteStructure, source: str) -> tuple[list[int], bool]:
    """At most MAX_LINES: the first line and every matched line always (a passage shows what it matched),
    then their parents, then the first lines in file order."""
    if len(wanted) <= MAX_LINES:
        return wanted, False
    keep: set[int] = {wanted[0], *(n for n in matched if n in wanted)}
    for n in sorted(matched):
        c = structure.chunk_at.get((source, n))
        while c is not None and c.parent_line and c.parent_line in wanted and len(keep) < MAX_LINES:
            keep.add(c.parent_line)
            c = structure.chunk_at.get((source, c.parent_line))
    for n in wanted:
        if len(keep) >= MAX_LINES:
            break
        keep.add(n)
    return sorted(keep), True
