"""Cards of the notes ↔ cards of the store: re-read the notes only when they changed, then sync.

The change test is the index's: one directory scan and one stat per note file (size, mtime).
The cards of a folder are kept in memory for the process, so a rerun of the page that finds the
notes unchanged costs that scan and nothing else.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from retrieval.corpus import discover, fingerprint, read_notes

from .cards import Card, extract
from .store import Store, SyncReport

_FINGERPRINT_KEY = "notes_fingerprint"


@dataclass
class NotesCards:
    corpus_dir: Path
    fingerprint: str
    cards: list[Card]
    report: list[str] = field(default_factory=list)  # files the parser skipped or read with a warning


_memo: dict[Path, NotesCards] = {}
_lock = threading.Lock()


def notes_fingerprint(corpus_dir: Path) -> str:
    return json.dumps(fingerprint(discover(corpus_dir)), sort_keys=True)


def load_cards(corpus_dir: str | Path) -> NotesCards:
    """The cards of the notes folder, re-extracted only when a note was added, removed or edited."""
    root = Path(corpus_dir).resolve()
    if not root.is_dir():  # never read as "every note deleted": that would retire every card
        raise FileNotFoundError(f"Le dossier de notes « {root} » est introuvable.")
    fp = notes_fingerprint(root)
    with _lock:
        cached = _memo.get(root)
        if cached is not None and cached.fingerprint == fp:
            return cached
        chunks, lines, report = read_notes(root)
        fresh = NotesCards(root, fp, extract(chunks, lines), report.lines())
        _memo[root] = fresh
        return fresh


def sync_notes(
    store: Store, corpus_dir: str | Path, now: datetime, force: bool = False
) -> tuple[NotesCards, SyncReport | None]:
    """Cards of the notes, written to the store when they changed since its last sync (or when `force`).

    Returns the report of the sync, or None when nothing had to be written.
    """
    notes = load_cards(corpus_dir)
    stamp = json.dumps([str(notes.corpus_dir), notes.fingerprint])
    if not force and store.setting(_FINGERPRINT_KEY) == stamp:
        return notes, None
    report = store.sync(notes.cards, now)
    store.set_setting(_FINGERPRINT_KEY, stamp)
    return notes, report
