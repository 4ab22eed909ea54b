"""The Réviser cards quote the note as the chat does: HTML, every character as written.

Streamlit's Markdown (what the cards used) shows " -> " as an arrow, `:material/school:` as an icon and
`www.` text as a link even when escaped: the card's quote is drawn as HTML, the labels stay Markdown.
"""

import html
import re

from revision.cards import Card
from revision.view import prompt_html, reveal_html

HOSTILE = "# 1. port **SMTP 587** : 2*3*4, snake_case_name, <b>x</b> & a -> b, :material/school: www.exemple.com *x _y"


def shown(markup: str) -> str:
    """What a reader sees: the tags dropped, the entities read (list items one per line)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("</li><li>", "\n")))


def cloze(text: str) -> Card:
    start = text.index("**")
    end = text.index("**", start + 2) + 2
    return Card("c", "cloze", "n.md", 3, "Amazon SES", [], "", text[start + 2 : end - 2], text=text, span=(start, end))


def test_a_cloze_card_shows_the_note_line_exactly():
    card = cloze(HOSTILE)
    start, end = card.span
    assert shown(prompt_html(card)) == HOSTILE[:start] + "[…]" + HOSTILE[end:]
    # the answer's own `**` are the note's bold, drawn as bold; every other character as written
    assert shown(reveal_html(card)) == HOSTILE.replace("**", "")
    assert "<strong>SMTP 587</strong>" in reveal_html(card) and "&lt;b&gt;" in reveal_html(card)


def test_list_and_table_cards_show_their_lines_exactly():
    lines = ["1. premier -> second", "# pas un titre", "<i>balise</i> et snake_case_name", "* étoile seule"]
    card = Card("l", "list", "n.md", 3, "SES", [], "Étapes ?", "\n".join(lines), answer_lines=[4, 5, 6, 7])
    assert shown(reveal_html(card)) == "\n".join(lines)
    assert reveal_html(card).count("<li>") == 4
    table = Card("t", "table", "n.md", 3, "SES", [], "SES — Port ?", ":material/mail: 25 -> 587")
    assert shown(reveal_html(table)) == ":material/mail: 25 -> 587"
    assert shown(prompt_html(table)) == "SES — Port ?"
