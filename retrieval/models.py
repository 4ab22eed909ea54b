"""Plain data shared by every part of the package: what a chunk, a hit and an answer are."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Intent(str, Enum):
    """What a question asks for (query.ServiceCatalog.read): the ranking rules and the layout follow it.
    A str: "compare" == Intent.COMPARE, and JSON shows the word (enum.StrEnum is Python 3.11+)."""

    LOOKUP = "lookup"  # what a thing is, how it works: the default
    COMPARE = "compare"  # two or more things side by side ("SES vs Pinpoint")
    TIPS = "tips"  # the exam tips of a thing
    NONE = "none"  # no answer (nothing relevant, or refused)

    def __str__(self) -> str:  # the word, as StrEnum gives it (str() and f-strings alike)
        return str(self.value)


@dataclass
class Chunk:
    """One bullet, table row, paragraph line or code line of a note, with where it comes from."""

    source: str  # path relative to the corpus folder, with "/" separators
    line: int  # 1-based line in `source`
    heading: str  # nearest heading above, of any level (the "#" title only when nothing deeper)
    breadcrumb: list[str]  # parent bullets, introducing paragraphs, callout titles (and table header), emphasis removed
    text: str  # the exact source text, marker and indentation removed
    kind: str = "bullet"  # "bullet" | "row" | "header" (a table's header row) | "paragraph" | "code"
    title: str = ""  # the document's "#" title
    block_start: int = 0  # first line of the top-level block holding this chunk
    block_end: int = 0  # last non-blank line of that block
    heading_path: list[str] = field(default_factory=list)  # every heading above, shallowest first
    parent_line: int = 0  # line of the nearest parent (bullet, label, callout, table header); 0: none
    exam: bool = False  # under an exam-tips heading, parent bullet or callout
    label: bool = False  # names its children rather than says something ("Statistiques détaillées :")
    wrapped: str = ""  # the whole sentence when the note wraps it over several lines (indexed for this line)
    names: list[str] = field(default_factory=list)  # other names of its page (`aliases:`, `alias::`)
    task: bool = False  # a to-do ("TODO relire NAT Gateway vs NAT instance"): names what to study, says nothing

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict deep-copies and was 0.4 s of a 10,000-chunk refresh
        return {
            "source": self.source,
            "line": self.line,
            "heading": self.heading,
            "breadcrumb": list(self.breadcrumb),
            "text": self.text,
            "kind": self.kind,
            "title": self.title,
            "block_start": self.block_start,
            "block_end": self.block_end,
            "heading_path": list(self.heading_path),
            "parent_line": self.parent_line,
            "exam": self.exam,
            "label": self.label,
            "wrapped": self.wrapped,
            "names": list(self.names),
            "task": self.task,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Hit:
    """A search result: a chunk quoted verbatim, with its fused score."""

    source: str
    line: int
    heading: str
    breadcrumb: list[str]
    text: str
    score: float
    kind: str = "bullet"
    block_start: int = 0
    block_end: int = 0
    exam: bool = False  # an exam tip: under a tips heading, parent bullet or callout
    heading_path: list[str] = field(default_factory=list)  # every heading above, shallowest first
    parent_line: int = 0  # line of the nearest parent (bullet, label, callout, table header); 0: none
    label: bool = False  # names its children rather than says something ("Statistiques détaillées :")
    # Why it matched: the parts of the ranking score its words (BM25) and its meaning (embeddings) gave.
    words: float = 0.0
    meaning: float = 0.0

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "line": self.line,
            "heading": self.heading,
            "heading_path": list(self.heading_path),
            "breadcrumb": list(self.breadcrumb),
            "text": self.text,
            "score": round(float(self.score), 6),
        }


@dataclass
class Passage:
    """The unit of an answer: matched bullets with the lines they need to make sense, verbatim.

    A label brings its children ("Statistiques détaillées :" and its list), bullets matched under
    one parent share one passage with the parent on top, a table row brings the header row, a
    label over a code block brings the code. `text` is exactly `lines` of the file, each
    right-stripped, joined by "\n" (indentation kept); `lines` need not be contiguous.
    """

    source: str
    heading: str
    heading_path: list[str]
    breadcrumb: list[str]  # the parents above the passage's first line (its own lines are shown)
    lines: list[int]  # 1-based lines shown, in file order
    text: str
    hits: list[Hit]  # the matched chunks inside it, best first
    score: float
    more: bool = False  # the block goes on beyond what is shown ("Voir le contexte" has the rest)
    contrast: bool = False  # (comparisons) names both sides, or sits under a contrast label
    first_line: int = 0  # first line of the whole block, for "Voir le contexte"
    last_line: int = 0  # its last line

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "heading": self.heading,
            "heading_path": list(self.heading_path),
            "breadcrumb": list(self.breadcrumb),
            "lines": list(self.lines),
            "text": self.text,
            "hits": [h.to_dict() for h in self.hits],
            "score": round(float(self.score), 6),
            "more": self.more,
            "contrast": self.contrast,
        }


@dataclass
class Subject:
    """What a follow-up question inherited from the previous answer, and why (retrieval/conversation.py)."""

    names: list[str]  # headings of the notes carried over ("Amazon SES")
    source: str  # "services": the services the previous question named (or carried); "heading": its first passage's
    reason: str  # "continuation" (the question goes on about it) | "compare" (compares it with what it names)
    cue: str = ""  # what made the question read as a continuation: "et", "il", "2 mots", "différence"...

    def to_dict(self) -> dict:
        return {"names": list(self.names), "source": self.source, "reason": self.reason, "cue": self.cue}


@dataclass
class Answer:
    """What `Retriever.ask` returns: the question's reading and the quotes in display order."""

    query: str
    intent: Intent
    services: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    notice: str = ""  # one French sentence for the user (query cut, nothing found...)
    indexing: str = ""  # one grey line while the notes' meaning is still being indexed (lexical answers)
    passages: list[Passage] = field(default_factory=list)  # display order, at most k
    missing: list[str] = field(default_factory=list)  # (comparisons) compared things the notes never name
    subject: Subject | None = None  # carried over from the previous answer (ask(..., previous=)); None: not carried
