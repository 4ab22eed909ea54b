"""A card as safe Streamlit Markdown: the note's characters escaped as the chat escapes them, plus the mask.

Every piece of note text goes through `retrieval.formatting.quote_markdown` / `escape_markdown`:
HTML, links, math, emoji shortcodes and colour directives in a note stay plain characters. The
only things added are the mask `[…]`, a highlight around the answer, and list markers.
"""

from __future__ import annotations

from retrieval.presentation.formatting import escape_markdown, quote_markdown

from .cards import Card

MARK = (":blue-background[", "]")
MASK_MD = MARK[0] + "\\[…\\]" + MARK[1]
KIND_LABELS = {"cloze": "Texte à trous", "list": "Liste", "table": "Tableau"}


def _marked(text: str, start: int, end: int, middle: str) -> str:
    """`text` with [start, end) replaced by `middle` (already Markdown), the rest quoted verbatim.

    The emphasis around the span never crosses it (the span is a whole `**…**` run or a table
    cell), so quoting each side on its own renders the same emphasis as quoting the line.
    """
    before, after = text[:start], text[end:]
    return (quote_markdown(before) if before else "") + middle + (quote_markdown(after) if after else "")


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


def prompt_markdown(card: Card) -> str:
    if card.kind == "cloze":
        start, end = card.span
        return _marked(card.text, start, end, MASK_MD)
    return "**" + escape_markdown(card.prompt) + "**"


def reveal_markdown(card: Card) -> str:
    """The answer in the note's own words: the whole line with the span marked, the children, or the cell."""
    if card.kind == "cloze":
        start, end = card.span
        return _marked(card.text, start, end, MARK[0] + quote_markdown(card.text[start:end]) + MARK[1])
    if card.kind == "list":
        return "\n".join("- " + quote_markdown(line) for line in card.answer.split("\n"))
    return MARK[0] + quote_markdown(card.answer) + MARK[1]


def ref_markdown(card: Card) -> str:
    return escape_markdown(card.ref)
