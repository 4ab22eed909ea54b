"""The chat's history without widgets: which answer a new question follows, which exchanges are drawn
in full and which are folded, and the HTML of a folded exchange (made once, kept with the message).

Streamlit runs the whole page at every rerun: drawn in full, the 120th question redrew 119 answers
and their buttons (0.24 s at the server for the first question, 2.06 s for the 120th). Only the last
RECENT exchanges are drawn with their widgets; the older ones sit in one folded box, drawn only when
opened, each from HTML made the first time it was folded.
"""

from __future__ import annotations

from ..conversation import label
from ..models import Answer
from .formatting import NOTHING_FOUND, missing_sentence
from .rendering import passage_card, text_block, ui

RECENT = 3  # exchanges (a question and its answer) drawn in full, with their buttons


def previous_answer(history: list[dict]) -> Answer | None:
    """The answer the next question follows: the last one, None when it failed or nothing was asked."""
    for msg in reversed(history):
        if msg["role"] == "assistant":
            return msg.get("answer")
    return None


def split(history: list[dict], recent: int = RECENT) -> tuple[list[int], list[int]]:
    """(folded, shown): indexes of the messages drawn in the folded box and of those drawn in full.
    The cut falls on a question, so a question and its answer stay together."""
    cut = max(0, len(history) - 2 * recent)
    while 0 < cut < len(history) and history[cut]["role"] != "user":
        cut -= 1
    return list(range(cut)), list(range(cut, len(history)))


def subject_html(answer: Answer) -> str:
    """The grey line above a carried answer: « À propos de : Amazon SES (question précédente) »."""
    return ui(label(answer.subject), "rv-cap rv-subject", "div") if answer.subject is not None else ""


def folded_html(msg: dict) -> str:
    """One message of the folded box, as HTML: the question, or the answer's passages (no buttons).
    Made the first time, then kept in the message: drawing the box again costs nothing."""
    cached = msg.get("html")
    if cached is None:
        cached = msg["html"] = _html(msg)
    return cached


def _html(msg: dict) -> str:
    if msg["role"] == "user":
        return ui("Ta question :", "rv-cap", "div") + text_block(msg["text"])
    answer: Answer | None = msg.get("answer")
    if msg.get("error"):
        return text_block(msg["error"], "rv-box")
    if answer is None:
        return ""
    parts = []
    if answer.subject is not None:
        parts.append(subject_html(answer))
    for sentence in (answer.notice, missing_sentence(answer.missing) if answer.missing else ""):
        if sentence:
            parts.append(text_block(sentence, "rv-box"))
    if not answer.passages:
        parts.append(text_block(NOTHING_FOUND, "rv-cap"))
    parts += [passage_card(p, answer.query) for p in answer.passages]
    return "".join(parts)
