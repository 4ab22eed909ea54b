"""Cleaning what a student types before it is searched: any string in, a sane query out.

`clean_query` never raises. It removes what no note can match and what could break a
model or a regex (control and format characters, lone surrogates), collapses white
space, and cuts very long input (a pasted page) to MAX_QUERY_CHARS at a word boundary.
The notice is one French sentence to show the student, or "" when nothing was changed
that they need to know about.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_CHARS = 1000
# Longer input is cut before any other work, so that cleaning itself stays fast on 10⁶ chars.
_PRE_CUT = 8 * MAX_QUERY_CHARS

NOTICE_EMPTY = "La question est vide : écris quelques mots sur ce que tu cherches dans tes notes."
NOTICE_NO_WORD = "La question ne contient aucun mot (seulement des symboles) : reformule-la avec des mots."
NOTICE_CUT = f"Ta question était très longue : seuls les {MAX_QUERY_CHARS} premiers caractères ont été pris en compte."

_SPACE = re.compile(r"\s+")


def _clean_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat == "Cc":  # control characters separate words ("S3\x00bucket" is two words)
        return " "
    # Cf: format (zero-width, bidi overrides), Cs: lone surrogates (not encodable as UTF-8),
    # Cn: unassigned: dropped. Private-use (Co) and everything else stays.
    return "" if cat in ("Cf", "Cs", "Cn") else ch


def clean_query(q: str) -> tuple[str, str]:
    """(cleaned query, French notice or ""). The cleaned query is "" when there is nothing to search."""
    if not isinstance(q, str):
        q = "" if q is None else str(q)
    cut = len(q) > _PRE_CUT
    q = q[:_PRE_CUT]
    q = unicodedata.normalize("NFC", "".join(_clean_char(ch) for ch in q))
    q = _SPACE.sub(" ", q).strip()
    if len(q) > MAX_QUERY_CHARS:
        cut = True
        head = q[:MAX_QUERY_CHARS]
        space = head.rfind(" ")
        q = (head[:space] if space > MAX_QUERY_CHARS // 2 else head).strip()
    if not q:
        return "", NOTICE_EMPTY
    if not any(unicodedata.category(ch)[0] in "LN" for ch in q):  # punctuation, symbols, emoji only
        return "", NOTICE_NO_WORD
    return q, NOTICE_CUT if cut else ""
