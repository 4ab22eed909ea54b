"""Showing hits to a person: text for the terminal, JSON for programs, highlight spans for the app.

Nothing here writes a word of its own into a quote: quotes are printed as they stand in the notes.
"""
from __future__ import annotations

import re

from .lexical import tokenize
from .models import Hit
from .text import fold

_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+")


def hits_to_json(query: str, hits: list[Hit]) -> dict:
    return {"query": query, "hits": [h.to_dict() for h in hits]}


def format_hit(h: Hit, rank: int | None = None) -> str:
    head = f"{rank}. " if rank is not None else ""
    crumbs = " > ".join(h.breadcrumb)
    lines = [f"{head}[{h.heading}] {h.source}:{h.line}  (score {h.score:.3f})"]
    if crumbs:
        lines.append(f"   {crumbs}")
    lines.append(f"   « {h.text} »")
    return "\n".join(lines)


def format_hits(query: str, hits: list[Hit]) -> str:
    if not hits:
        return "Rien de pertinent dans tes notes pour cette question."
    return "\n\n".join(format_hit(h, i) for i, h in enumerate(hits, 1))


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of `text` whose words match a query term (same stem, accents ignored).

    Spans index the original string, so a renderer can wrap them without changing a character.
    """
    terms = set(tokenize(query))
    if not terms:
        return []
    spans = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        toks = tokenize(word)
        if (toks and toks[0] in terms) or fold(word) in terms:
            spans.append((m.start(), m.end()))
    return spans
