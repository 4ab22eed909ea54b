"""Study the notes: cards cut from their own words, FSRS scheduling in SQLite, progress, Anki export.

Built on `retrieval`'s parser (never the other way round). Nothing is generated: a card is a
line of the notes with one span masked, or a label and what the notes list under it.
"""

from retrieval.config import DB_ENV

from .cards import Card, cards_for_lines, cards_of, extract, filter_cards, headings_of
from .export import export_anki
from .scheduler import GRADES, interval_label
from .store import Store, StoreCorrupt, StoreError, quarantine
from .study import Filters, Request, build_queue, match_service, quiz_target
from .sync import load_cards, sync_notes

__all__ = [
    "Card",
    "cards_of",
    "extract",
    "filter_cards",
    "headings_of",
    "cards_for_lines",
    "export_anki",
    "GRADES",
    "interval_label",
    "DB_ENV",
    "Store",
    "StoreError",
    "StoreCorrupt",
    "quarantine",
    "Filters",
    "Request",
    "build_queue",
    "quiz_target",
    "match_service",
    "load_cards",
    "sync_notes",
]
