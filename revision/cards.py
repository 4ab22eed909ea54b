"""Study cards cut from the parsed notes, word for word: cloze, list and table cards.

Nothing here writes a word of its own into a card: a cloze prompt is the note's line with one
bold span replaced by the mask `[…]`; list and table prompts are the note's own labels (heading,
parent bullets, row and column headers) joined by " › " or " — " and ended with " ?".

A card's id hashes what it is about (file, heading, breadcrumb, the line's text, and the span
or the cell's row and column), never its line number: a bullet that moves keeps its card and
its review history; a bullet that is deleted or rewritten gives up its card (retired, see store).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from retrieval import Chunk, corpus
from retrieval.parsing import is_tips_label
from retrieval.reader import quote_prefix, strong_spans, table_cells
from retrieval.text import strip_emphasis

MASK = "[…]"
KINDS = ("cloze", "list", "table")
LIST_MIN, LIST_MAX = 2, 10  # a label with one child asks nothing; with 30 it is a page, not a card
_BARE_NUMBER = re.compile(r"[\d\s.,]+")
_WORD = re.compile(r"\w")


@dataclass
class Card:
    """One question on the notes, with where its answer stands."""

    id: str
    kind: str  # "cloze" | "list" | "table"
    source: str  # note file, relative to the notes folder
    line: int  # the line holding the answer (a list card: its label's line)
    heading: str  # the service
    breadcrumb: list[str]  # the parser's breadcrumb of that line
    prompt: str  # cloze: the line with the span masked; list/table: the labels, then " ?"
    answer: str  # verbatim: the span, the children's lines ("\n"-joined), or the cell
    exam: bool = False  # under an exam-tips heading, parent or callout
    text: str = ""  # the whole line of the note (cloze: the bullet; table: the row)
    title: str = ""  # the note's "#" title (the Anki deck's name)
    answer_lines: list[int] = field(default_factory=list)  # line of each answer part (list: one per child)
    span: tuple[int, int] = (0, 0)  # cloze: [start, end) of the masked `**span**` in `text`

    def to_dict(self) -> dict:
        """The CLI's JSON contract: exactly these keys."""
        return {
            "id": self.id,
            "kind": self.kind,
            "heading": self.heading,
            "breadcrumb": list(self.breadcrumb),
            "source": self.source,
            "line": self.line,
            "prompt": self.prompt,
            "answer": self.answer,
            "exam": self.exam,
        }

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def context(self) -> list[str]:
        """Breadcrumb to show above the prompt; a table's header row is left out (the prompt names the column)."""
        return self.breadcrumb[:-1] if self.kind == "table" and self.breadcrumb else list(self.breadcrumb)


def _card_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def worth_recalling(span: str, text: str, start: int, end: int) -> bool:
    """A bold span is a card unless it is the whole line (a label) or too short to mean anything."""
    inner = strip_emphasis(span)
    if len(inner) <= 2 or _BARE_NUMBER.fullmatch(inner):
        return False
    rest = text[:start] + text[end:]
    return bool(_WORD.search(rest))  # only punctuation around it ("**Email**", "**Sécurité** :"): a label


def cloze_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of each bold span of the line worth a cloze card, as the reader reads
    bold: `` `**x**` `` and `` `__init__` `` are code, not bold."""
    out = []
    for a, b in strong_spans(text):
        if worth_recalling(text[a + 2 : b - 2], text, a, b):
            out.append((a, b, text[a + 2 : b - 2]))
    return out


def _label(text: str) -> str:
    """A label as the question names it: emphasis and the closing ":" removed."""
    return strip_emphasis(text).rstrip(" :?\u00a0").strip()


def extract(chunks: Iterable[Chunk], lines: Mapping[str, list[str]] | None = None) -> list[Card]:
    """Every card of these chunks, in note order.

    `lines` (per source, as `split_lines` numbers them) gives table cards their header row as
    written; without it the parser's breadcrumb stands in, which drops empty header cells.
    """
    chunks = list(chunks)
    children: dict[tuple[str, int], list[Chunk]] = {}
    for c in chunks:
        if c.parent_line:
            children.setdefault((c.source, c.parent_line), []).append(c)
    cards: list[Card] = []
    seen: Counter[str] = Counter()

    def add(kind: str, c: Chunk, key: tuple[str, ...], **kw) -> None:
        base = (c.source, c.heading, " › ".join(c.breadcrumb), kind, *key)
        raw = "\x1f".join(base)
        seen[raw] += 1  # two identical lines under the same parents: told apart by their order
        cid = _card_id(*base, str(seen[raw]))
        cards.append(
            Card(
                id=cid,
                kind=kind,
                source=c.source,
                heading=c.heading,
                breadcrumb=list(c.breadcrumb),
                exam=c.exam,
                title=c.title,
                **kw,
            )
        )

    for c in chunks:
        if c.kind in ("bullet", "paragraph") and not c.label:
            for start, end, inner in cloze_spans(c.text):
                add(
                    "cloze",
                    c,
                    (c.text, str(start)),
                    line=c.line,
                    prompt=c.text[:start] + MASK + c.text[end:],
                    answer=inner,
                    text=c.text,
                    answer_lines=[c.line],
                    span=(start, end),
                )
        elif c.kind in ("bullet", "paragraph") and c.label:
            kids = children.get((c.source, c.line), [])
            # Exam-tips labels gather unrelated advice, not a list to recite: their lines are cloze cards.
            if (
                LIST_MIN <= len(kids) <= LIST_MAX
                and all(k.kind in ("bullet", "paragraph") for k in kids)
                and not (is_tips_label(_label(c.text)))
            ):
                names = [c.heading, *c.breadcrumb, _label(c.text)]
                add(
                    "list",
                    c,
                    (c.text,),
                    line=c.line,
                    prompt=" › ".join(n for n in names if n) + " ?",
                    answer="\n".join(k.text for k in kids),
                    text=c.text,
                    answer_lines=[k.line for k in kids],
                )
        elif c.kind == "row" and c.breadcrumb:
            _table_cards(c, _header(c, lines), add)
    return cards


def _header(c: Chunk, lines: Mapping[str, list[str]] | None) -> list[str]:
    """The column labels of a row's table, emphasis removed, empty ones kept (a blank corner cell)."""
    src = (lines or {}).get(c.source)
    if src and 0 < c.parent_line <= len(src):
        raw = src[c.parent_line - 1]
        row = raw[quote_prefix(raw) :].strip()  # a table inside a blockquote or callout
        return [strip_emphasis(row[a:b]) for a, b in table_cells(row)]
    return [h.strip() for h in c.breadcrumb[-1].split("|")]


def _table_cards(c: Chunk, header: list[str], add) -> None:
    cells = table_cells(c.text)
    if len(cells) != len(header) or len(cells) < 2:
        return  # a row that does not line up with its header: no way to name its columns
    row_label = _label(c.text[cells[0][0] : cells[0][1]])
    if not row_label:
        return
    for col, (start, end) in enumerate(cells[1:], 1):
        cell = c.text[start:end]
        if not _WORD.search(cell) or not header[col]:
            continue
        add(
            "table",
            c,
            (row_label, header[col], cell),
            line=c.line,
            prompt=f"{row_label} — {header[col]} ?",
            answer=cell,
            text=c.text,
            answer_lines=[c.line],
            span=(start, end),
        )


def cards_of(corpus_dir: str | Path) -> list[Card]:
    """Every card of the notes folder."""
    chunks, lines, _ = corpus.read_notes(corpus_dir)
    return extract(chunks, lines)


def filter_cards(cards: list[Card], services: Iterable[str] | None = None, exam_only: bool = False) -> list[Card]:
    wanted = set(services or ())
    return [c for c in cards if (not wanted or c.heading in wanted) and (c.exam or not exam_only)]


def headings_of(cards: Iterable[Card]) -> list[str]:
    """Services in note order, each once."""
    return list(dict.fromkeys(c.heading for c in cards))


def cards_for_lines(cards: Iterable[Card], source: str, lines: Iterable[int]) -> list[str]:
    """Ids of the cards a passage of the chat stands for: cards asked at those lines, then lists that hold them."""
    wanted = set(lines)
    cards = list(cards)
    direct = [c.id for c in cards if c.source == source and c.line in wanted]
    within = [c.id for c in cards if c.source == source and c.kind == "list" and wanted & set(c.answer_lines)]
    return list(dict.fromkeys(direct + within))


def count_kinds(cards: Iterable[Card]) -> dict[str, int]:
    n = Counter(c.kind for c in cards)
    return {k: n.get(k, 0) for k in KINDS}
