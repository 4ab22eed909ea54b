"""What the index holds, per note file and per heading, read from its chunks and its manifest.

Counts come from the built index (what a question can find), not from a fresh parse; files
skipped and encoding notes come from the build report lines the builder wrote into the manifest
("ignoré : <file> (<why>)", "attention : <file> …").
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ..models import Chunk

NO_HEADING = "(sans titre)"
_SKIPPED = "ignoré : "
_WARNING = "attention : "


@dataclass
class FileRow:
    source: str  # path relative to the notes folder
    passages: int
    headings: int  # distinct headings holding at least one passage
    exam_tips: int  # passages under an exam-tips heading, bullet or callout
    modified: datetime | None = None  # last change on disk (None: gone since the build)
    notes: list[str] = field(default_factory=list)  # encoding and size notes from the build, in French


@dataclass
class SkippedFile:
    source: str
    reason: str


@dataclass
class HeadingRow:
    source: str
    heading: str  # the heading's path below the document title, " › "-joined
    key: str  # Chunk.heading (the nearest heading): the key of `cards_per_heading`
    passages: int
    exam_tips: int
    cards: int | None = None  # study cards under that heading; None while study mode is not wired in


@dataclass
class Inventory:
    files: list[FileRow]
    skipped: list[SkippedFile]

    @property
    def passages(self) -> int:
        return sum(f.passages for f in self.files)

    @property
    def exam_tips(self) -> int:
        return sum(f.exam_tips for f in self.files)

    def to_json(self) -> dict:
        """The command line's `notes --json` shape (the contract: these keys, nothing else)."""
        return {
            "files": [
                {"source": f.source, "passages": f.passages, "headings": f.headings, "exam_tips": f.exam_tips}
                for f in self.files
            ],
            "skipped": [asdict(s) for s in self.skipped],
        }


def inventory(notes_dir: Path | str, chunks: list[Chunk], manifest: dict) -> Inventory:
    """Per-file counts for the index described by (chunks, manifest) over the notes folder."""
    indexed: list[str] = sorted(manifest.get("files", {}))
    report: list[str] = list(manifest.get("report", []))
    passages: dict[str, int] = dict.fromkeys(indexed, 0)
    exam: dict[str, int] = dict.fromkeys(indexed, 0)
    headings: dict[str, set[tuple[str, ...]]] = {s: set() for s in indexed}
    for c in chunks:
        passages[c.source] = passages.get(c.source, 0) + 1
        exam[c.source] = exam.get(c.source, 0) + int(c.exam)
        if c.heading_path:
            headings.setdefault(c.source, set()).add(tuple(c.heading_path))
    root = Path(notes_dir)
    skipped = parse_skipped(report, root)
    warnings = parse_warnings(report, list(passages))
    files = [
        FileRow(s, passages[s], len(headings.get(s, ())), exam[s], _mtime(root / s), warnings.get(s, []))
        for s in sorted(passages)
    ]
    return Inventory(files, skipped)


def of_retriever(r) -> Inventory:
    """The inventory of a loaded `Retriever` (its current snapshot)."""
    return inventory(r.corpus_dir, r.chunks, r.manifest)


def heading_rows(chunks: list[Chunk], cards_per_heading: dict[str, int] | None = None) -> list[HeadingRow]:
    """One row per (file, heading), in reading order: passages and exam tips under it.

    `cards_per_heading` maps a heading (Chunk.heading, the nearest heading) to its number of study
    cards; given, each row gets `cards` (0 when the heading has none), else `cards` stays None.
    """
    rows: dict[tuple[str, tuple[str, ...]], HeadingRow] = {}
    for c in chunks:
        path = tuple(c.heading_path)
        row = rows.get((c.source, path))
        if row is None:
            shown = path[1:] if len(path) > 1 and c.title and path[0] == c.title else path
            key = c.heading or NO_HEADING
            cards = None if cards_per_heading is None else cards_per_heading.get(key, 0)
            row = rows[(c.source, path)] = HeadingRow(c.source, " › ".join(shown) or NO_HEADING, key, 0, 0, cards)
        row.passages += 1
        row.exam_tips += int(c.exam)
    return list(rows.values())


def parse_skipped(report: list[str], root: Path | None = None) -> list[SkippedFile]:
    """The "ignoré : <file> (<why>)" lines as (file, why).

    A file name may hold " (" itself: the split that names a file present in the folder wins,
    else the last one (the builder's reasons hold no " (").
    """
    out = []
    for line in report:
        if not line.startswith(_SKIPPED) or not line.endswith(")"):
            continue
        body = line[len(_SKIPPED) : -1]
        cuts = [i for i in range(len(body)) if body.startswith(" (", i)]
        if not cuts:
            continue
        cut = cuts[-1]
        if root is not None:
            cut = next((i for i in cuts if os.path.lexists(root / body[:i])), cut)
        out.append(SkippedFile(body[:cut], body[cut + 2 :]))
    return out


def parse_warnings(report: list[str], sources: list[str]) -> dict[str, list[str]]:
    """The "attention : <file> …" lines, by file (the longest file name the line starts with)."""
    by_length = sorted(sources, key=len, reverse=True)
    out: dict[str, list[str]] = {}
    for line in report:
        if not line.startswith(_WARNING):
            continue
        body = line[len(_WARNING) :]
        source = next((s for s in by_length if body.startswith(s + " ")), None)
        if source is not None:
            out.setdefault(source, []).append(body[len(source) + 1 :])
    return out


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None
