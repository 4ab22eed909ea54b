"""What the chat says around a passage, without widgets: why it was picked, what "Copier" copies,
how a comparison is laid out. Pure functions of an Answer, tested without Streamlit.

Every word that comes from the notes or the question reaches the page through `rendering.esc`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Answer, Passage
from ..text import fold
from .formatting import highlight_spans
from .rendering import esc, ref

MAX_WHY_WORDS = 12
MAX_COLUMNS = 3  # more compared headings than this stack instead of squeezing into columns
LEAN = 1.5  # one signal "carried" the passage when it gave at least this many times the other


@dataclass
class Why:
    words: list[str]  # the question's words found in the passage, as the note writes them
    carrier: str  # "sens" | "mots" | "les deux" | "" (no score to compare)


def why(p: Passage, query: str) -> Why:
    """The question's words found in the passage, and whether its meaning or its words brought it."""
    seen: dict[str, str] = {}
    for s, e in highlight_spans(p.text, query) if query else []:
        word = p.text[s:e]
        seen.setdefault(fold(word).lower(), word)
        if len(seen) >= MAX_WHY_WORDS:
            break
    words = sum(max(h.words, 0.0) for h in p.hits)
    meaning = sum(max(h.meaning, 0.0) for h in p.hits)
    if words <= 0 and meaning <= 0:
        carrier = ""
    elif meaning >= LEAN * words:
        carrier = "sens"
    elif words >= LEAN * meaning:
        carrier = "mots"
    else:
        carrier = "les deux"
    return Why(list(seen.values()), carrier)


CARRIER_TEXT = {
    "sens": "Ce qui l'a amené : surtout le sens de la question (des phrases qui disent la même chose).",
    "mots": "Ce qui l'a amené : surtout les mots de la question, plus que son sens.",
    "les deux": "Ce qui l'a amené : les deux, les mots de la question et son sens.",
}


def why_html(p: Passage, query: str) -> str:
    """The "Pourquoi ce passage ?" text, as safe HTML (the words come from the note)."""
    w = why(p, query)
    if w.words:
        found = ", ".join(f"« {esc(x)} »" for x in w.words)
        first = f"Mots de ta question trouvés ici : {found}."
    else:
        first = "Aucun mot de ta question n'y figure tel quel."
    second = CARRIER_TEXT.get(w.carrier, "")
    return f'<div class="rv-why"><p>{first}</p>{f"<p>{esc(second)}</p>" if second else ""}</div>'


def copy_text(p: Passage) -> str:
    """What "Copier" puts on the clipboard: the passage's Markdown, verbatim, then `fichier:lignes`."""
    return f"{p.text}\n\n{ref(p)}"


@dataclass
class Layout:
    first: list[tuple[int, Passage]]  # full width, in this order (a comparison's contrast passages)
    columns: list[tuple[str, list[tuple[int, Passage]]]]  # (heading, passages) side by side


def layout(answer: Answer) -> Layout:
    """Display order, each passage with its index in `answer.passages` (widget keys stay put).

    A comparison shows the passages that contrast the compared things first, full width, then
    the others in one column per heading, the compared services first. Anything else is one list."""
    indexed = list(enumerate(answer.passages))
    if answer.intent != "compare":
        return Layout(indexed, [])
    first = [(i, p) for i, p in indexed if p.contrast]
    groups: dict[str, list[tuple[int, Passage]]] = {}
    for s in answer.services:
        groups[s] = []
    for i, p in indexed:
        if not p.contrast:
            groups.setdefault(p.heading, []).append((i, p))
    columns = [(h, ps) for h, ps in groups.items() if ps]
    if len(columns) < 2 or len(columns) > MAX_COLUMNS:
        return Layout(first + [(i, p) for i, p in indexed if not p.contrast], [])
    return Layout(first, columns)
