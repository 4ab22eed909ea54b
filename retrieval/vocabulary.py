"""The notes' vocabulary, and the matching of a question's words to service names, typos included.

The vocabulary is every word the notes write, the words they write in upper case ("SES") and the
names they capitalise inside a sentence ("remplace Bastion"): a question's word is read against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .lexical import STOP_WORDS
from .models import Chunk
from .services import Service
from .text import fold, fold_words

_UPPER = r"\b[A-Z][A-Z0-9]{1,7}\b"

Typo = tuple[int, int, list[str]]  # (first word, word count, alias) of a misspelt service name


@dataclass
class Vocabulary:
    words: set[str]  # every word the notes write (folded): a compared side must be one of theirs
    upper_words: set[str]  # words written in upper case somewhere in the notes: "SES" in a question is the service
    name_words: set[str]  # words the notes capitalise inside a sentence ("remplace Bastion", "Lambda + API + Glue")

    @classmethod
    def of(cls, chunks: list[Chunk], plain: list[str], headings: Iterable[str]) -> Vocabulary:
        """`plain`: the chunks' texts with emphasis stripped; `headings`: every section heading."""
        upper_words = {fold(w) for c in chunks for w in re.findall(_UPPER, c.text + " " + c.heading)}
        words = {w for t in plain for w in fold_words(t)} | {w for h in headings for w in fold_words(h)}
        name_words = {
            fold(m.group(1))
            for t in plain
            for m in re.finditer(r"(?<=[\w,+/(] )([A-Z][a-z]+[A-Za-z]*)", t)
            if fold(m.group(1)) not in STOP_WORDS
        }
        return cls(words, upper_words, name_words)


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, or limit + 1 when above limit. Only the band |i - j| <= limit is computed
    (cells outside it exceed the limit anyway): O(len x limit) instead of O(len^2)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    big = limit + 1
    prev = {j: j for j in range(0, min(len(b), limit) + 1)}
    for i, ca in enumerate(a, 1):
        cur: dict[int, int] = {}
        best = big
        for j in range(max(0, i - limit), min(len(b), i + limit) + 1):
            v = (
                i
                if j == 0
                else min(prev.get(j, big) + 1, cur.get(j - 1, big) + 1, prev.get(j - 1, big) + (ca != b[j - 1]))
            )
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return big
        prev = cur
    return min(prev.get(len(b), big), big)


def match_services(
    query: str, services: list[Service], vocabulary: set[str], max_alias_words: int, compare: bool
) -> list[tuple[str, Typo | None]]:
    """(heading, typo) in order of mention; typo = (first word, word count, alias) when misspelt.

    Runs on every question: word windows are indexed once, so an alias costs a dict lookup and
    the fuzzy pass only compares candidates of about its length.
    """
    qwords = fold_words(query)
    raw_upper = {fold(w) for w in re.findall(_UPPER, query)}
    span = max(max_alias_words, 3)
    first: dict[tuple[str, ...], int] = {}
    by_len: dict[int, list[tuple[str, int, int]]] = {}
    for m in range(1, span + 1):
        for i in range(len(qwords) - m + 1):
            window = qwords[i : i + m]
            first.setdefault(tuple(window), i)
            cand = "".join(window)
            by_len.setdefault(len(cand), []).append((cand, i, m))
    found: list[tuple[int, str, Typo | None]] = []
    for svc in services:
        best: tuple[int, Typo | None] | None = None
        for alias in svc.aliases:
            at = first.get(tuple(alias))
            if at is None:
                continue
            i = at
            if len(alias) == 1 and alias[0] in STOP_WORDS and alias[0] not in raw_upper and not compare:
                continue  # lower-case "ses" is the French possessive unless comparing
            if best is None or i < best[0]:
                best = (i, None)
        if best is None:  # a typo, or words run together / split ("costexplorer", "cloud formation")
            for alias in svc.aliases:
                joined = "".join(alias)
                if len(joined) < 6:  # "match" is not "batch"
                    continue
                lim = 1 if len(joined) < 9 else 2
                jset = set(joined)
                for length in range(len(joined) - lim, len(joined) + lim + 1):
                    for cand, i, m in by_len.get(length, ()):
                        # one edit changes the set of letters by at most 2: most never reach Levenshtein;
                        # a word the notes write is no misspelling ("active" is not "Activer"), unless
                        # it is a word of the name, said short ("sagemaker" for "SageMaker AI")
                        if (
                            (best is None or i < best[0])
                            and not (m == 1 and cand in vocabulary and cand not in alias)
                            and len(set(cand) ^ jset) <= 2 * lim
                            and levenshtein(cand, joined, lim) <= lim
                        ):
                            best = (i, (i, m, alias))
        if best is not None:
            found.append((best[0], svc.heading, best[1]))
    return [(h, typo) for _, h, typo in sorted(found, key=lambda x: x[0])]
