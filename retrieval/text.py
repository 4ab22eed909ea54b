"""Small text helpers: Markdown emphasis removal and accent folding."""
from __future__ import annotations

import re
import unicodedata

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`([^`]*)`")


def strip_emphasis(s: str) -> str:
    """Markdown inline markup removed, words kept (used for breadcrumbs and indexing, never for quotes)."""
    s = _LINK.sub(r"\1", s)
    s = _CODE.sub(r"\1", s)
    for _ in range(3):  # nested emphasis such as ***x***
        s2 = _EM_UNDER.sub(r"\1", _EM_STAR.sub(r"\1", _STRONG.sub(r"\2", s)))
        if s2 == s:
            break
        s = s2
    return re.sub(r"\s+", " ", s).strip()


def fold(s: str) -> str:
    """Lower-case, accents removed, typographic apostrophes made plain."""
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.lower()
