"""Small text helpers: Markdown emphasis removal and accent folding."""

from __future__ import annotations

import re
import unicodedata

from .reader import CODE_SPAN as _CODE
from .reader import EM_STAR, EM_UNDER, STRONG
from .reader import HIGHLIGHT as _MARK
from .reader import LINK as _LINK
from .reader import WIKI_LINK as _WIKI

_SPACES = re.compile(r"\s+")
# Emphasis patterns backtrack quadratically on long runs of markers ("**a" * 60,000): a longer
# text (a pasted dump) only gets its white space collapsed. Hand-written notes never come close.
MAX_MARKUP_CHARS = 1000
# The vendor's names written before a service's ("Amazon SES", "AWS Config"): not part of the name.
VENDORS = ("Amazon", "AWS")


def _wiki(m: re.Match) -> str:
    return m.group(2) if m.group(2) else m.group(1)


def strip_emphasis(s: str) -> str:
    """Markdown inline markup removed, words kept (used for breadcrumbs and indexing, never for quotes)."""
    if len(s) > MAX_MARKUP_CHARS:
        return " ".join(s.split())
    # Each pass only when its marker is there: run over every chunk of a large index, the
    # regular expressions were most of the time spent preparing it.
    if "[[" in s:
        s = _WIKI.sub(_wiki, s)
    if "==" in s:
        s = _MARK.sub(r"\1", s)
    if "](" in s:
        s = _LINK.sub(r"\1", s)
    if "`" in s:
        s = _CODE.sub(r"\1", s)
    if "*" in s or "_" in s:
        for _ in range(3):  # nested emphasis such as ***x***
            s2 = EM_UNDER.sub(r"\1", EM_STAR.sub(r"\1", STRONG.sub(r"\2", s)))
            if s2 == s:
                break
            s = s2
    return _SPACES.sub(" ", s).strip()


class _FoldTable(dict):
    """Per character: its compatibility decomposition without combining marks, computed on first
    sight. str.translate then folds a whole text in C: twice as fast as a per-character generator,
    which made a 100,000-passage index's first question wait seconds."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in "\u2019\u2018":
            out = "'"
        elif ch == "\u00a0":
            out = " "
        else:
            out = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        self[code] = out
        return out


_FOLD = _FoldTable()


def fold(s: str) -> str:
    """Lower-case, accents removed, typographic apostrophes made plain."""
    return s.translate(_FOLD).lower()


def fold_words(s: str) -> list[str]:
    """The words of `s`, folded (lower case, no accents): "Détacher l'EC2" → ["detacher", "l", "ec2"]."""
    return re.findall(r"[a-z0-9]+", fold(s))
