"""Markdown notes → chunks: one per bullet, one per table row, one per paragraph line.

The parser never changes a quoted character: `Chunk.text` is always a substring of
line `Chunk.line` of the file, so every answer can be checked against the notes.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .models import Chunk
from .text import strip_emphasis

_BULLET = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_TABLE_SEP = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?$")
_RULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$")

TAB_WIDTH = 4
# Guards against pathological input (a dumped file of one huge line, thousands of nesting
# levels): emphasis removal is quadratic on some inputs ("[[[[..."), breadcrumbs grow with depth.
MAX_MARKUP_CHARS = 1000  # longer strings only get their white space collapsed
MAX_CRUMBS = 64  # deeper breadcrumbs keep their first entry and the nearest parents
MAX_INDEX_CHARS = 4000  # indexed text of one chunk (the quote itself is never cut)


def _plain(s: str) -> str:
    return strip_emphasis(s) if len(s) <= MAX_MARKUP_CHARS else " ".join(s.split())


def _heading(raw: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading ("## x ##"), else None. Hand-written: the regex it
    replaces backtracked quadratically on lines such as "# ####...#x"."""
    lead = len(raw) - len(raw.lstrip(" "))
    if lead > 3:
        return None
    s = raw[lead:]
    level = len(s) - len(s.lstrip("#"))
    if not 1 <= level <= 6:
        return None
    rest = s[level:]
    if rest and rest[0] not in " \t":
        return None  # "#hashtag", "####### x"
    rest = rest.strip(" \t")
    closed = rest.rstrip("#")
    if not closed:
        rest = ""
    elif closed != rest and closed[-1] in " \t":  # optional closing sequence "## x ##"
        rest = closed.rstrip(" \t")
    return level, rest


def _crumbs(items: list[str]) -> list[str]:
    return items if len(items) <= MAX_CRUMBS else items[:1] + items[-(MAX_CRUMBS - 1) :]


def indent_width(prefix: str) -> int:
    """Columns of leading white space, a tab advancing to the next multiple of 4 (tabs and spaces mix in the notes)."""
    col = 0
    for c in prefix:
        col = (col // TAB_WIDTH + 1) * TAB_WIDTH if c == "\t" else col + 1
    return col


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: only "\\n" (or "\\r\\n") ends a line, a BOM is dropped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _cells(row: str) -> list[str]:
    s = row.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [_plain(c) for c in s.split("|")]


def parse_markdown(text: str, source: str = "notes.md") -> list[Chunk]:
    lines = split_lines(text)
    title = ""
    heading = ""
    default_heading = PurePosixPath(source).stem
    subheadings: list[tuple[int, str]] = []  # ("###"+ level, text) under the current "##"
    stack: list[tuple[int, str, int]] = []  # (indent, emphasis-free text, line) of open parent bullets
    chunks: list[Chunk] = []
    roots: list[int] = []  # per chunk: line of its top-level block
    fence: str | None = None
    table_header: list[str] | None = None
    table_header_text = ""
    table_root = 0
    start = 0

    # YAML front matter is metadata, not notes.
    if lines and lines[0].strip() == "---":
        for j in range(1, min(len(lines), 200)):
            if lines[j].strip() in ("---", "..."):
                start = j + 1
                break

    def emit(line_no: int, body: str, kind: str, crumbs: list[str], root: int) -> None:
        chunks.append(
            Chunk(
                source=source,
                line=line_no,
                heading=heading or title or default_heading,
                breadcrumb=_crumbs([t for _, t in subheadings] + crumbs),
                text=body,
                kind=kind,
                title=title,
            )
        )
        roots.append(root)

    for i in range(start, len(lines)):
        raw = lines[i]
        n = i + 1
        stripped = raw.strip()

        if fence is not None:  # inside a code block nothing is a bullet or a heading
            k = len(stripped) - len(stripped.lstrip(fence[0]))
            if k >= len(fence) and not stripped[k:].strip():  # closing fence: same char, at least as long
                fence = None
            elif stripped:
                emit(n, stripped, "paragraph", [t for _, t, _ in stack], stack[0][2] if stack else n)
            continue
        m = _FENCE.match(raw)
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):  # "```x``` y" is inline code, not a fence
            fence = m.group(1)
            continue

        if not stripped:
            table_header = None
            continue

        h = _heading(raw) if stripped.startswith("#") else None
        if h:
            level, htext = h[0], _plain(h[1])
            stack.clear()
            table_header = None
            if level == 1:
                title, heading, subheadings = htext, "", []
            elif level == 2:
                heading, subheadings = htext, []
            else:
                subheadings = [(lv, t) for lv, t in subheadings if lv < level] + [(level, htext)]
            continue

        if stripped.startswith("|"):
            if table_header is None:
                table_header = _cells(stripped)
                table_header_text = " | ".join(c for c in table_header if c)
                table_root = stack[0][2] if stack else n
                continue
            if _TABLE_SEP.match(stripped):
                continue
            crumbs = [t for _, t, _ in stack] + ([table_header_text] if table_header_text else [])
            emit(n, stripped, "row", crumbs, table_root)
            continue
        table_header = None

        if _RULE.match(raw):
            stack.clear()
            continue

        m = _BULLET.match(raw)
        if m and (m.group(3) or "").strip():
            ind = indent_width(m.group(1))
            while stack and stack[-1][0] >= ind:
                stack.pop()
            body = m.group(3).rstrip()
            emit(n, body, "bullet", [t for _, t, _ in stack], stack[0][2] if stack else n)
            stack.append((ind, _plain(body), n))
            continue
        if m:  # a bare marker carries no words
            continue

        # Plain text: a continuation of the open bullet when indented, else a paragraph of its own.
        ind = indent_width(raw[: len(raw) - len(raw.lstrip())])
        while stack and stack[-1][0] >= ind:
            stack.pop()
        emit(n, stripped, "paragraph", [t for _, t, _ in stack], stack[0][2] if stack else n)

    # A block runs from its top-level line to the last line of a chunk under it.
    ends: dict[int, int] = {}
    for c, r in zip(chunks, roots):
        ends[r] = max(ends.get(r, r), c.line)
    for c, r in zip(chunks, roots):
        c.block_start, c.block_end = r, ends[r]
    return chunks


def index_text(c: Chunk) -> str:
    """What is embedded and indexed: heading > breadcrumb > text, emphasis removed.

    A table row is spelled out against its header ("Durée max: AWS Lambda 15 minutes max ...")
    so that each cell keeps its meaning.
    """
    crumbs = list(c.breadcrumb)
    body = _plain(c.text)
    if c.kind == "row" and crumbs:
        header = [h.strip() for h in crumbs[-1].split("|")]
        cells = _cells(c.text)
        if len(cells) == len(header) and len(cells) > 1:
            body = cells[0] + " : " + " ; ".join(f"{h} : {v}" for h, v in zip(header[1:], cells[1:]))
            crumbs = crumbs[:-1]
    parts = [p for p in [c.heading, *crumbs] if p]
    # Over-long context gives way to the chunk's own words: far ancestors go first.
    while len(parts) > 1 and sum(len(p) + 3 for p in parts) + len(body) > MAX_INDEX_CHARS:
        del parts[1]
    return " > ".join(parts + [body] if body else parts)[:MAX_INDEX_CHARS]
