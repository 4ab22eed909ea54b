"""A card as the chat draws a note: its quotes in safe HTML (`retrieval.presentation.inline`), its labels in Markdown.

The note's text (the prompt's line, the answer) goes through the chat's HTML renderer, never Markdown:
Streamlit's Markdown turns " -> " into an arrow, `:material/x:` into an icon and `www.` text into a
link even when escaped, so a quote drawn there is not the note's. Every character is `html.escape`d,
balanced emphasis is drawn as the chat draws it; the only things added are the mask `[…]`, a highlight
around the answer and list markers. The labels (exam badge, kind, heading, `fichier:ligne`) stay
Streamlit Markdown (`escape_markdown`), as before.
"""

from __future__ import annotations

from retrieval.presentation.formatting import escape_markdown
from retrieval.presentation.inline import esc, inline

from .cards import Card

MASK_HTML = '<span class="rv-mask">[…]</span>'
ANSWER = ('<mark class="rv-ans">', "</mark>")
KIND_LABELS = {"cloze": "Texte à trous", "list": "Liste", "table": "Tableau"}
# The card's own look: the mask and the answer on the blue of Streamlit's `:blue-background[]`.
STYLE = """<style>
.rv-card-q{line-height:1.6;white-space:pre-wrap;overflow-wrap:anywhere}
.rv-card-q ul{margin:0;padding-left:1.5em}
.rv-card-q code{font-family:"Source Code Pro",monospace;font-size:.86em;background:rgba(128,128,128,.16);
 border-radius:3px;padding:.05em .25em}
.rv-card-q .rv-mask,.rv-card-q mark.rv-ans{background:rgba(28,131,225,.1);color:rgb(0,84,163);border-radius:.5em;
 padding:.1em .35em}
.rv-card-q .rv-link{text-decoration:underline dotted;text-underline-offset:2px}
</style>"""


def _quote(html: str) -> str:
    return f'<div class="rv-card-q">{html}</div>'


def _marked(text: str, start: int, end: int, middle: str) -> str:
    """`text` with [start, end) replaced by `middle` (already HTML), the rest quoted verbatim.

    The emphasis around the span never crosses it (the span is a whole `**…**` run or a table
    cell), so quoting each side on its own renders the same emphasis as quoting the line.
    """
    return inline(text[:start]) + middle + inline(text[end:])


def context_markdown(card: Card) -> str:
    """The line above the prompt: exam badge, kind, and where the card stands (heading › breadcrumb)."""
    parts = []
    if card.exam:
        parts.append(":orange-badge[:material/school: Examen]")
    parts.append(f":gray-badge[{KIND_LABELS[card.kind]}]")
    where = [card.heading, *card.context] if card.kind != "list" else []  # a list's prompt already names them
    if where:
        parts.append(escape_markdown(" › ".join(where)))
    return " ".join(parts)


def prompt_html(card: Card) -> str:
    """The question: the line with its answer masked (cloze), or the labels in bold (list, table)."""
    if card.kind == "cloze":
        start, end = card.span
        return _quote(_marked(card.text, start, end, MASK_HTML))
    return _quote(f"<strong>{esc(card.prompt)}</strong>")


def reveal_html(card: Card) -> str:
    """The answer in the note's own words: the whole line with the span marked, the children, or the cell."""
    if card.kind == "cloze":
        start, end = card.span
        return _quote(_marked(card.text, start, end, ANSWER[0] + inline(card.text[start:end]) + ANSWER[1]))
    if card.kind == "list":
        return _quote("<ul>" + "".join(f"<li>{inline(line)}</li>" for line in card.answer.split("\n")) + "</ul>")
    return _quote(ANSWER[0] + inline(card.answer) + ANSWER[1])


def ref_markdown(card: Card) -> str:
    return escape_markdown(card.ref)
