"""Anki export with genanki: one Anki note per card, a cloze note for a cloze card, a question/answer note otherwise.

Fields are the note's text made HTML (characters escaped, `**bold**` drawn bold): no word is added
but the labels. Tags are the service (spaces become "_") and "examen" for exam tips; the field
"Source" holds `fichier:ligne`; each file's cards go to a deck named after its "#" title.
Note ids (guids) come from the card ids, so importing a newer export updates the notes in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import genanki

from retrieval.notes.paths import new_file_mode
from retrieval.reader import strong_spans

from .cards import Card

CSS = """.card { font-family: sans-serif; font-size: 20px; text-align: left; color: #1f2933; background: white; }
.ctx { font-size: 14px; color: #6b7280; margin-bottom: .8em; }
.src { font-size: 12px; color: #6b7280; margin-top: 1em; font-family: monospace; }
.cloze { font-weight: bold; color: #1d4ed8; }"""

# Fixed ids: a second export is the same note type to Anki, not a copy of it.
CLOZE_MODEL = genanki.Model(
    1763980001,
    "Révision AWS — texte à trous",
    fields=[{"name": "Texte"}, {"name": "Contexte"}, {"name": "Source"}],
    templates=[
        {
            "name": "Texte à trous",
            "qfmt": '<div class="ctx">{{Contexte}}</div>{{cloze:Texte}}',
            "afmt": '<div class="ctx">{{Contexte}}</div>{{cloze:Texte}}<div class="src">{{Source}}</div>',
        }
    ],
    css=CSS,
    model_type=genanki.Model.CLOZE,
)
QA_MODEL = genanki.Model(
    1763980002,
    "Révision AWS — question",
    fields=[{"name": "Question"}, {"name": "Réponse"}, {"name": "Contexte"}, {"name": "Source"}],
    templates=[
        {
            "name": "Question",
            "qfmt": '<div class="ctx">{{Contexte}}</div>{{Question}}',
            "afmt": '{{FrontSide}}<hr id="answer">{{Réponse}}<div class="src">{{Source}}</div>',
        }
    ],
    css=CSS,
)


@dataclass
class ExportReport:
    notes: int
    decks: list[str]
    path: Path


def _html(text: str) -> str:
    """Note text as inert HTML: every character escaped (braces too: "{{" would open a cloze), bold kept."""
    out, pos = [], 0
    for a, b in strong_spans(text):  # bold as the reader reads it (not inside `code`)
        out += [_escape(text[pos:a]), "<b>", _escape(text[a + 2 : b - 2]), "</b>"]
        pos = b
    return "".join([*out, _escape(text[pos:])])


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("{", "&#123;").replace("}", "&#125;")


def _cloze_field(card: Card) -> str:
    start, end = card.span
    # ":" and "}" in the answer would end the deletion early: entities read the same on the card.
    answer = html.escape(card.answer, quote=False).replace(":", "&#58;").replace("}", "&#125;").replace("{", "&#123;")
    return _html(card.text[:start]) + "<b>{{c1::" + answer + "}}</b>" + _html(card.text[end:])


def _context(card: Card) -> str:
    return html.escape(" › ".join([card.heading, *card.context]), quote=False)


def tag(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip()) or "notes"


def _deck_id(name: str) -> int:
    return int(hashlib.sha256(("deck\x1f" + name).encode()).hexdigest()[:12], 16)


def note_for(card: Card) -> genanki.Note:
    tags = [tag(card.heading)] + (["examen"] if card.exam else [])
    guid = genanki.guid_for(card.id)
    if card.kind == "cloze":
        return genanki.Note(
            model=CLOZE_MODEL, fields=[_cloze_field(card), _context(card), card.ref], tags=tags, guid=guid
        )
    if card.kind == "list":
        answer = "<ul>" + "".join(f"<li>{_html(line)}</li>" for line in card.answer.split("\n")) + "</ul>"
    else:
        answer = _html(card.answer)
    question = html.escape(card.prompt, quote=False)
    return genanki.Note(model=QA_MODEL, fields=[question, answer, _context(card), card.ref], tags=tags, guid=guid)


def deck_name(card: Card) -> str:
    return card.title or PurePosixPath(card.source).stem


def export_anki(cards: Iterable[Card], path: str | Path) -> ExportReport:
    """Write the cards as an Anki package (.apkg)."""
    decks: dict[str, genanki.Deck] = {}
    n = 0
    for card in cards:
        name = deck_name(card)
        deck = decks.get(name)
        if deck is None:
            deck = decks[name] = genanki.Deck(_deck_id(name), name)
        deck.add_note(note_for(card))
        n += 1
    path = Path(path)
    package = genanki.Package(list(decks.values()) or [genanki.Deck(_deck_id("Révision"), "Révision")])
    # written beside the target then renamed: a failed export leaves the previous file as it was
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".apkg")
    os.close(fd)
    try:
        package.write_to_file(tmp)
        os.chmod(tmp, new_file_mode())  # mkstemp makes it 0600: the umask decides, as for any file
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return ExportReport(n, list(decks), path)
