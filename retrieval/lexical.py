"""French lexical search: accent folding, Snowball French stemming, stop words, BM25 (bm25s).

Acronyms and numbers are kept whole: "SES" is not the stop word "ses", "SMS" is not
stemmed to "sm", "22" and "70" stay tokens.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text import fold

_TOKEN = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+(?:[-'’][0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+)*")

# French (and a few English) function words, accent-folded; "ses" is only dropped when typed in lower case.
STOP_WORDS = frozenset(
    fold(w)
    for w in """
a à au aux avec ce ces c cet cette d dans de des du elle elles en et eux il ils je j l la le les leur leurs lui
ma mais me même mes moi mon ne n nos notre nous on ou où par pas pour qu que qui s sa se ses son sur ta te tes
toi ton tu un une vos votre vous y été être est sont ont avoir fait faire peut peuvent plus moins très tout tous
toute toutes quel quelle quels quelles quoi comment pourquoi quand combien est-ce qu'est-ce c'est cest
the of and or to in on for with is are a an what how why which does do can it its be by as at from this that
""".split()
)


# Notes abbreviate ("15 minutes max"); questions spell out ("au maximum").
ABBREVIATIONS = {
    "maximum": "max",
    "maximal": "max",
    "maximale": "max",
    "maximaux": "max",
    "maximales": "max",
    "minimum": "min",
    "minimal": "min",
    "minimale": "min",
    "minimaux": "min",
    "minimales": "min",
}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


@lru_cache(maxsize=200_000)
def _term(part: str) -> str:
    """One word as an index term ("" when it is a stop word); cached: notes repeat their words."""
    is_acronym = len(part) >= 2 and (part.isupper() or (part[0].isupper() and any(c.isupper() for c in part[1:])))
    f = fold(part)
    f = ABBREVIATIONS.get(f, f)
    if f.isdigit() or is_acronym:
        return f
    if len(f) > 1 and f not in STOP_WORDS:
        return _stemmer().stemWord(f)
    return ""


_PARTS = re.compile(r"['-]")


def tokenize(text: str) -> list[str]:
    """Index/query tokens: folded, stemmed, stop words out; acronyms and numbers whole."""
    out: list[str] = []
    for m in _TOKEN.finditer(text.replace("\u2019", "'")):
        word = m.group(0)
        if len(word) > 2 and word[1] == "-" and word[0] in "eE":
            word = word[0] + word[2:]  # "e-mails" is "emails", not "e" + "mails"
        for part in _PARTS.split(word):
            if part:
                t = _term(part)
                if t:
                    out.append(t)
    return out


class LexicalIndex:
    """BM25 over the chunks' index texts; `scores` gives one score per chunk.

    Notes with no word at all (an empty folder, headings only) have no BM25 model (bm25s cannot
    index an empty vocabulary): every score is then 0 and every word unknown.
    """

    def __init__(self, bm25, n_docs: int):
        self._bm25 = bm25
        self.n_docs = n_docs
        self._vocab: dict[str, int] = bm25.vocab_dict if bm25 is not None else {}

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        docs = [tokenize(t) for t in texts]
        if not any(docs):
            return cls(None, len(texts))
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        # An empty document still needs a token for bm25s; "" is its reserved empty token.
        bm25.index([d or [""] for d in docs], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "n_docs.json").write_text(json.dumps({"n_docs": self.n_docs, "empty": self._bm25 is None}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        meta = json.loads((folder / "n_docs.json").read_text())
        n = meta.get("n_docs") if isinstance(meta, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 10**8:
            raise ValueError("bad n_docs")
        if meta.get("empty") is True:
            return cls(None, n)
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(bm25, n)

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self._vocab]

    def missing(self, terms: list[str]) -> list[str]:
        """The compared names the notes never write, whatever their case or accents: "sns" typed in
        lower case is the notes' "SNS" (the tokenizer keeps capitals whole and stems the rest)."""
        return [t for t in terms if not self.mentions(t)]

    def mentions(self, name: str) -> bool:
        """True when the notes write a word of `name`, read as typed, in capitals, in lower case or without accents."""
        return any(self.known(tokenize(form)) for form in dict.fromkeys((name, name.upper(), name.lower(), fold(name))))

    def scores(self, tokens: list[str]) -> np.ndarray:
        toks = self.known(tokens)
        if not toks or self._bm25 is None:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def docs_with(self, token: str) -> np.ndarray:
        """Ids of the chunks holding the token (empty when unknown), read off the BM25 matrix."""
        tid = self._vocab.get(token)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        s = self._bm25.scores
        return np.asarray(s["indices"][s["indptr"][tid] : s["indptr"][tid + 1]], dtype=np.int64)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 when unknown), for query-term weighting."""
        tid = self._vocab.get(token)
        if tid is None:
            return 0.0
        indptr = self._bm25.scores["indptr"]
        df = int(indptr[tid + 1] - indptr[tid])
        return float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def known_fraction(self, tokens: list[str]) -> float:
        """Share of the question the notes' vocabulary knows, each word weighted by its IDF
        (an unseen word weighs what the rarest word would): 1.0 when every word occurs in the notes."""
        if not tokens:
            return 0.0
        idf = {t: self.idf(t) for t in set(tokens)}
        unseen = float(np.log(1 + (self.n_docs + 0.5) / 0.5))
        total = sum(v if v > 0 else unseen for v in idf.values())
        return sum(v for v in idf.values() if v > 0) / total if total else 0.0
