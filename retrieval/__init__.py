"""Retrieval over Markdown study notes: per-bullet chunks, FAISS + French BM25, verbatim hits."""

from .corpus import CorpusReport, parse_notes
from .models import Answer, Chunk, Hit, Intent
from .retriever import Retriever
from .store import IndexCorrupt, IndexMissing

__all__ = [
    "Retriever",
    "Hit",
    "Chunk",
    "Answer",
    "Intent",
    "IndexMissing",
    "IndexCorrupt",
    "CorpusReport",
    "parse_notes",
]
