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

from .models import Chunk
from .text import MAX_MARKUP_CHARS, fold, strip_emphasis

# How a line is read (the renderer, retrieval/rendering.py, reads lines with the same patterns).
BULLET = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
TABLE_SEP = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?$")
RULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$")
QUOTE = re.compile(r"^ {0,3}>(?:[ \t]?>)*[ \t]?")
CALLOUT = re.compile(r"^\[!([A-Za-z-]+)\][+-]?[ \t]*(.*)$")
_IMAGE_ONLY = re.compile(r"^!\[\[[^\]]*\]\]$|^!\[[^\]]*\]\([^)]*\)$")
_ONLY_EMPHASIS = re.compile(r"^(\*\*|__)[^*_]+\1$|^\*[^*]+\*$|^_[^_]+_$")
# Exam tips, in a heading ("Astuces examen", "7. Astuces pour l'Examen", "Exam tips"), a parent
# bullet ("Pour l'examen AWS SAA", "À retenir :", "Pièges") or a callout's title (folded text).
TIPS_LABEL = re.compile(r"\b(examen|exam|certif\w*|a retenir|astuces?|pieges?|tips?)\b")
TIP_CALLOUTS = frozenset({"tip", "hint", "important", "exam"})

TAB_WIDTH = 4
# Guards against pathological input (a dumped file of one huge line, thousands of nesting
# levels): emphasis removal is quadratic on some inputs ("[[[[..."), breadcrumbs grow with depth.
MAX_CRUMBS = 64  # deeper breadcrumbs keep their first entry and the nearest parents
MAX_INDEX_CHARS = 4000  # indexed text of one chunk (the quote itself is never cut)
MAX_CHUNK_CHARS = 3000  # a longer line is indexed as several chunks, each a piece of it
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line that ends a sentence (or introduces what follows): the next text line does not continue it.
_ENDS_SENTENCE = re.compile(r"[.!?:;…]['\")\]*_`]*\s*$")
_SENTENCE_END = re.compile(r"[.!?…]['\")\]*_`]*\s")  # a sentence ending inside a line
# A line that starts a statement of its own, even under a line without a full stop: a term defined
# ("**Multi-AZ** — …", "Cold start :: …", "Durée : …") or a question and its answer ("Q : …", "R : …").
_NEW_STATEMENT = re.compile(r"^(?:\*\*[^*]{1,60}\*\*\s*[—–:=-]|[^\s:][^:]{0,60}\s::\s|[QR]\s?:\s)")
MAX_WRAPPED_LINES = 6  # lines a wrapped sentence may borrow on each side
_SETEXT = re.compile(r"^ {0,3}(={2,}|-{2,})[ \t]*$")  # "Titre\n=====" (level 1), "Sous-titre\n-----" (level 2)


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
    """Lines as an editor numbers them: "\\n", "\\r\\n" and a lone "\\r" (old Mac files) end a line; a BOM is dropped.

    The indexer, the context shown in the app and the card extractor all number lines with this.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return _LINE_BREAK.split(text)


def _cells(row: str) -> list[str]:
    s = row.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [strip_emphasis(c) for c in s.split("|")]


def is_label_text(text: str) -> bool:
    """Text that names what follows rather than says something: "Statistiques détaillées :", "**Sécurité**"."""
    t = text.rstrip()
    if t.endswith(":"):
        return True
    return len(t) <= MAX_MARKUP_CHARS and bool(_ONLY_EMPHASIS.match(t))


def is_tips_label(text: str) -> bool:
    """A heading, parent bullet or callout title announcing exam tips ("Pour l'examen", "Astuces examen")."""
    return bool(TIPS_LABEL.search(fold(text)))


@dataclass
class _Parent:
    indent: int  # columns; -1 for a paragraph that introduces a list at the margin
    text: str  # emphasis-free, for breadcrumbs
    line: int
    exam: bool  # this parent or one above it announces exam tips
    labelish: bool  # ends with ":" (keeps a code block at its own indentation as its child)
    paragraph: bool = False  # a paragraph parent: the next paragraph at the margin closes it


def parse_markdown(text: str, source: str = "notes.md") -> list[Chunk]:
    lines = split_lines(text)
    title = ""
    default_heading = PurePosixPath(source).stem
    headings: list[tuple[int, str]] = []  # open headings, shallowest first
    heading_exam = False  # a heading of the path announces exam tips
    stack: list[_Parent] = []  # open parents: bullets, introducing paragraphs, callouts
    chunks: list[Chunk] = []
    roots: list[int] = []  # per chunk: line of its top-level block
    wraps: list[bool] = []  # per chunk: its line continues the sentence of the line above (a hard wrap)
    last_text: tuple[int, int] | None = None  # (line, chunk index) of the last bullet or paragraph line
    run_start = 0  # first line of the paragraph at the margin being read (consecutive lines: one block)
    fence: str | None = None
    fence_quoted = False  # the open fence started inside a blockquote
    fence_owner: _Parent | None = None  # the label a code block at its own indentation belongs to
    table_header: list[str] | None = None
    table_header_text = ""
    table_header_line = 0
    table_root = 0
    quote_depth: int | None = None  # len(stack) when the current blockquote began
    callouts: set[int] = set()  # lines of callout titles (labels of the callout's lines)
    start = 0

    # YAML front matter is metadata, not notes.
    if lines and lines[0].strip() == "---":
        for j in range(1, min(len(lines), 200)):
            if lines[j].strip() in ("---", "..."):
                start = j + 1
                break

    def emit(line_no: int, body: str, kind: str, extra_crumbs: tuple[str, ...] = (), parent: int = 0) -> None:
        path = [t for _, t in headings]
        crumbs = _crumbs([p.text for p in stack] + list(extra_crumbs))
        for piece in _windows(body):
            chunks.append(
                Chunk(
                    source=source,
                    line=line_no,
                    heading=path[-1] if path else default_heading,
                    breadcrumb=crumbs,
                    text=piece,
                    kind=kind,
                    title=title,
                    heading_path=path,
                    parent_line=parent or (stack[-1].line if stack else 0),
                    exam=heading_exam or any(p.exam for p in stack),
                )
            )
            roots.append(stack[0].line if stack else line_no)
            wraps.append(False)

    def push(indent: int, body: str, line_no: int, *, paragraph: bool = False, exam: bool | None = None) -> None:
        plain = strip_emphasis(body)
        is_exam = (stack[-1].exam if stack else False) or (is_tips_label(plain) if exam is None else exam)
        stack.append(_Parent(indent, plain, line_no, is_exam, is_label_text(body), paragraph))

    def starts_block(j: int) -> bool:
        """Line j (0-based) opens a list, a code block or a table: what an introducing paragraph introduces."""
        if j >= len(lines):
            return False
        s = lines[j]
        if quote_depth is not None:
            q = QUOTE.match(s)
            if not q:
                return False
            s = s[q.end() :]
        st = s.strip()
        if st.startswith("|") or _FENCE.match(s):
            return True
        m = BULLET.match(s)
        return bool(m and (m.group(3) or "").strip()) and not RULE.match(s)

    def open_heading(level: int, text: str) -> None:
        nonlocal title, headings, heading_exam, table_header
        htext = strip_emphasis(text)
        stack.clear()
        table_header = None
        if level == 1:
            title = htext
        headings = [(lv, t) for lv, t in headings if lv < level] + ([(level, htext)] if htext else [])
        heading_exam = any(is_tips_label(t) for lv, t in headings if lv > 1)  # not the file's title

    underline = -1  # the line under a setext heading: read with its heading
    intro_text: set[int] = set()  # lines of labels introducing a paragraph after a blank line

    def _text_after_blank(j: int) -> bool:
        """Line j+1 (0-based) is blank and line j+2 is plain text at the margin: what a label may introduce."""
        if j + 2 >= len(lines) or lines[j + 1].strip() or quote_depth is not None:
            return False
        s = lines[j + 2]
        st = s.strip()
        return (
            bool(st)
            and s[:1] not in (" ", "\t")
            and not (BULLET.match(s) or _FENCE.match(s) or st.startswith(("|", "#", ">")) or RULE.match(s))
            and not (j + 3 < len(lines) and _SETEXT.match(lines[j + 3]))
        )

    for i in range(start, len(lines)):
        if i == underline:
            continue
        raw = lines[i]
        n = i + 1
        offset = 0  # columns of blockquote markers before the content

        if fence is None or fence_quoted:
            q = QUOTE.match(raw)
            if q:
                if quote_depth is None:  # a blockquote begins: it closes the lists above it
                    while stack and stack[-1].indent >= indent_width(raw[: len(raw) - len(raw.lstrip())]):
                        stack.pop()
                    table_header = None
                    quote_depth = len(stack)
                offset = indent_width(q.group(0)) + 1
                raw = raw[q.end() :]
            elif quote_depth is not None and fence is None:
                del stack[quote_depth:]  # the blockquote ended: its parents close with it
                quote_depth = None
                table_header = None
        stripped = raw.strip()

        if fence is not None:  # inside a code block nothing is a bullet or a heading
            k = len(stripped) - len(stripped.lstrip(fence[0]))
            if k >= len(fence) and not stripped[k:].strip():  # closing fence: same char, at least as long
                fence = None
                if stack and stack[-1] is fence_owner:  # "Exemple :" introduced this code block, and only it
                    stack.pop()
            elif stripped:
                emit(n, stripped, "code")
            continue
        m = _FENCE.match(raw)
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):  # "```x``` y" is inline code, not a fence
            fence, fence_quoted = m.group(1), quote_depth is not None
            fi = offset + indent_width(raw[: len(raw) - len(raw.lstrip())])
            # A code block under "**Activer le versioning** :" belongs to it, even at its indentation.
            while stack and stack[-1].indent >= fi and not stack[-1].labelish:
                stack.pop()
            # kept only as the label of this block: it closes with it
            fence_owner = stack[-1] if stack and (stack[-1].paragraph or stack[-1].indent >= fi) else None
            table_header = None
            continue

        if not stripped:
            table_header = None
            if quote_depth is not None and offset == 0:
                del stack[quote_depth:]
                quote_depth = None
            continue

        if offset == 0 and stripped.startswith("#"):
            h = _heading(raw)
            if h:
                open_heading(*h)
                continue

        if offset and not stack[quote_depth or 0 :]:
            c = CALLOUT.match(stripped)
            if c:  # "> [!tip] Pour l'examen": the title is a parent of the callout's lines
                ctype, ctitle = c.group(1).lower(), c.group(2).strip()
                exam = ctype in TIP_CALLOUTS or is_tips_label(ctitle)
                if ctitle:
                    emit(n, ctitle, "paragraph")
                    callouts.add(n)
                push(offset - 1, ctitle or ctype, n, exam=exam)
                continue

        if _IMAGE_ONLY.match(stripped):
            continue  # an embedded picture carries no words to quote

        if stripped.startswith("|"):
            if table_header is None:
                ti = offset + indent_width(raw[: len(raw) - len(raw.lstrip())])
                while stack and stack[-1].indent >= ti and not stack[-1].labelish and len(stack) > (quote_depth or 0):
                    stack.pop()
                table_header = _cells(stripped)
                table_header_text = " | ".join(c for c in table_header if c)
                table_header_line = n
                table_root = stack[0].line if stack else n
                # The header row is a chunk too: the parent of the rows, as a label is of its list.
                emit(n, stripped, "header")
                continue
            if TABLE_SEP.match(stripped):
                continue
            crumbs = (table_header_text,) if table_header_text else ()
            emit(n, stripped, "row", crumbs, parent=table_header_line)
            roots[-1] = table_root
            continue
        table_header = None

        if RULE.match(raw):
            del stack[quote_depth or 0 :]
            continue

        m = BULLET.match(raw)
        if m and (m.group(3) or "").strip():
            ind = offset + indent_width(m.group(1))
            while stack and stack[-1].indent >= ind and len(stack) > (quote_depth or 0):
                stack.pop()
            body = m.group(3).rstrip()
            if _IMAGE_ONLY.match(body.strip()):
                continue
            emit(n, body, "bullet")
            last_text, run_start = (n, len(chunks) - 1), 0
            push(ind, body, n)
            continue
        if m:  # a bare marker carries no words
            continue

        # Plain text: a continuation of the open bullet when indented, else a paragraph of its own.
        ind = offset + indent_width(raw[: len(raw) - len(raw.lstrip())])
        if (
            offset == 0
            and ind <= 3
            and i + 1 < len(lines)
            and _SETEXT.match(lines[i + 1])
            and (i == start or not lines[i - 1].strip() or _heading(lines[i - 1]) is not None)
            and (ind == 0 or not stack)
        ):
            open_heading(1 if lines[i + 1].strip()[0] == "=" else 2, stripped)
            underline = i + 1
            continue
        prev = last_text if last_text is not None and last_text[0] == n - 1 else None
        top = stack[-1] if stack else None
        # "Les politiques de scaling :", a blank line, then definitions one under the other: its children
        under_intro = (
            top is not None
            and top.paragraph
            and top.line in intro_text
            and ind <= offset
            and (n == top.line + 2 or (prev is not None and chunks[prev[1]].parent_line == top.line))
        )
        while not under_intro and stack and (stack[-1].indent >= ind or (stack[-1].paragraph and ind <= offset)):
            if len(stack) <= (quote_depth or 0):
                break
            stack.pop()
        emit(n, stripped, "paragraph")
        if prev is not None and not _ENDS_SENTENCE.search(chunks[prev[1]].text) and not _NEW_STATEMENT.match(stripped):
            wraps[-1] = True  # "… les producteurs y déposent des" / "messages, …": one sentence, two lines
        last_text = (n, len(chunks) - 1)
        at_margin = not stack[quote_depth or 0 :]
        # "**Sécurité**", "Exemple :" or "**Object Lock** : …" right above a list: the list's parent.
        introduces = at_margin and (starts_block(i + 1) or (is_label_text(stripped) and _next_starts(i, starts_block)))
        if at_margin and not introduces and stripped.endswith(":") and _text_after_blank(i):
            introduces = True
            intro_text.add(n)
        if at_margin and not stack and not introduces:
            # consecutive lines of text at the margin are one paragraph: one block, shown together
            run_start = run_start if prev is not None and run_start else n
            roots[-1] = run_start
        else:
            run_start = 0
        if introduces:
            push(offset - 1, stripped, n, paragraph=True)

    _sentences(chunks, wraps)
    # A block runs from its top-level line to the last line of a chunk under it.
    ends: dict[int, int] = {}
    for ch, r in zip(chunks, roots):
        ends[r] = max(ends.get(r, r), ch.line)
    parents = {ch.parent_line for ch in chunks if ch.parent_line}
    for ch, r in zip(chunks, roots):
        ch.block_start, ch.block_end = r, ends[r]
        ch.label = ch.line in parents and (
            ch.kind == "header"
            or (ch.kind in ("bullet", "paragraph") and (is_label_text(ch.text) or ch.line in callouts))
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
    every chunk of the file and would drown the service's own name. A table row is spelled
    out against its header ("Durée max: AWS Lambda 15 minutes max ...") so that each cell
    keeps its meaning.
    """
    crumbs = list(c.breadcrumb)
    body = strip_emphasis(c.wrapped or c.text)
    if c.kind == "row" and crumbs:
        header = [h.strip() for h in crumbs[-1].split("|")]
        cells = _cells(c.text)
        if len(cells) == len(header) and len(cells) > 1:
            body = cells[0] + " : " + " ; ".join(f"{h} : {v}" for h, v in zip(header[1:], cells[1:]))
            crumbs = crumbs[:-1]
    path = c.heading_path or [c.heading]
    heads = [h for h in path if h != c.title] or path[-1:]
    parts = [p for p in [*heads, *crumbs] if p]
    # Over-long context gives way to the chunk's own words: far ancestors go first.
    while len(parts) > 1 and sum(len(p) + 3 for p in parts) + len(body) > MAX_INDEX_CHARS:
        del parts[1]
    return " > ".join([*parts, body] if body else parts)[:MAX_INDEX_CHARS]
