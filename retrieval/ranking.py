"""From fused scores and a question's reading to the passages shown, in order.

- lookup: a service named in the question lifts its section; "c'est quoi X" lifts the
  section's opening block (where a note defines the service), and puts it first, in the
  note's order, when the question asks nothing else.
- compare: passages that mention every compared thing first ("Comparaison avec ...",
  "Bien différencier"), then each side's best passages in turn, so no side is crowded out.
- tips: the exam bullets ("Pour l'examen ...") of the named service, best first.
- a question asking for a figure ("combien de temps ...") slightly prefers passages giving one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .fusion import Scored
from .lexical import tokenize
from .models import Chunk
from .passages import NoteStructure
from .query import QueryReading, ServiceCatalog, _words, folded_words, mentions, section_headings
from .text import strip_emphasis

SERVICE_BOOST = 0.3
DEFINITION_BOOST = 0.3
# A short bullet that only names its children ("Cas d'usage", "Fonctionnalités clés") says little
# by itself; its children carry the content and should come before it.
LABEL_PENALTY = 0.15
# "c'est quoi une stack": a bullet that defines the asked term ("**Stack** = ...") answers it.
DEFINES_BOOST = 0.2
_DEFINES = re.compile(r"^\*\*([^*]{1,40})\*\*\s*[=:(]")
# "combien de temps une fonction Lambda peut-elle tourner ?": "15 minutes max" rather than
# another bullet naming Lambda. Small: English hit@1 0.45 → 0.55 on eval/extra, nothing lost;
# 0.2 costs a paraphrase.
FIGURE_BOOST = 0.1
# A figure in a note: a number with its unit ("15 minutes", "512 Mo", "70 %", "2h", "12 mois").
FIGURE = re.compile(
    r"\d+(?:[.,]\d+)?\s?(?:%|€|\$|(?:ms|s|sec\w*|min\w*|h|heures?|hours?|jours?|days?|semaines?"
    r"|mois|months?|ans?|années?|years?|[kmgt]o|[kmgt]i?b|octets?|bytes?|requêtes|requests)\b)",
    re.IGNORECASE,
)
LABEL_MAX_WORDS = 5
MAX_BOTH_FIRST = 2


@dataclass
class CorpusView:
    """What ranking needs to know about the chunks, computed once per index generation."""

    chunks: list[Chunk]
    catalog: ServiceCatalog
    sections: dict[str, np.ndarray]  # heading → chunk ids
    opening: dict[str, set[int]]  # heading → ids of the section's first block
    exam: np.ndarray  # bool per chunk
    label: np.ndarray  # bool per chunk: a short parent bullet that only names its children
    words: list[str]  # per chunk: folded words of heading, breadcrumb and text (comparisons)
    block: np.ndarray  # per chunk: number of its top-level block (a bullet and all its children; a table row)
    figure: np.ndarray  # bool per chunk: gives a figure with its unit
    plain: list[str]  # per chunk: its text with emphasis stripped (what the catalog reads)
    structure: NoteStructure  # parent links, for passages
    paths: list[frozenset[str]]  # per chunk: the headings whose section holds it (see query.section_headings)

    def in_sections(self, i: int, headings: set[str] | list[str]) -> bool:
        """Chunk i sits in the section (or a sub-section) of one of these headings."""
        return not self.paths[i].isdisjoint(headings)

    @classmethod
    def of(cls, chunks: list[Chunk], previous: CorpusView | None = None) -> CorpusView:
        """`previous`: the view of the index this one replaces. A refresh changes a few chunks; the
        per-chunk facts of the others are taken from it (they were most of a large index's time)."""

        def key(c: Chunk) -> tuple:
            return (tuple(c.heading_path), c.heading, tuple(c.breadcrumb), c.text)

        old = {key(c): j for j, c in enumerate(previous.chunks)} if previous else {}
        n = len(chunks)
        plain, words = [""] * n, [""] * n
        exam, figure = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for i, c in enumerate(chunks):
            j = old.get(key(c))
            if j is not None and previous is not None:
                plain[i], words[i], exam[i], figure[i] = (
                    previous.plain[j],
                    previous.words[j],
                    previous.exam[j],
                    previous.figure[j],
                )
            else:
                plain[i], words[i] = strip_emphasis(c.text), folded_words(c)
                exam[i], figure[i] = c.exam, bool(FIGURE.search(c.text))
        sections: dict[str, list[int]] = {}
        paths = [frozenset(section_headings(c)) for c in chunks]
        for i, c in enumerate(chunks):
            for h in section_headings(c):  # a section holds its sub-sections
                sections.setdefault(h, []).append(i)
        opening = {}
        for h, ids in sections.items():
            first = chunks[ids[0]]
            opening[h] = {
                i for i in ids if chunks[i].source == first.source and chunks[i].block_start == first.block_start
            }
        label = np.zeros(len(chunks), dtype=bool)
        for i in range(len(chunks) - 1):
            c, nxt = chunks[i], chunks[i + 1]
            is_parent = (
                c.source == nxt.source
                and len(nxt.breadcrumb) == len(c.breadcrumb) + 1
                and nxt.breadcrumb[:-1] == c.breadcrumb
            )
            label[i] = is_parent and len(_words(c.text)) <= LABEL_MAX_WORDS
        keys: dict[tuple[str, int], int] = {}
        # a table row stands alone: the table is a list of separate facts
        block = np.array(
            [keys.setdefault((c.source, c.line if c.kind == "row" else c.block_start), len(keys)) for c in chunks],
            dtype=np.int64,
        )
        return cls(
            chunks,
            ServiceCatalog(chunks, plain),
            {h: np.array(v) for h, v in sections.items()},
            opening,
            exam,
            label,
            words,
            block,
            figure,
            plain,
            NoteStructure(chunks),
            paths,
        )


# The rules of the default ranking beyond plain fusion, by name (evaluate.py --ablate leaves each out).
RULES = ("service", "definition", "defines", "label", "figure", "tips", "compare", "bare")


def arrange(
    reading: QueryReading, scored: Scored, view: CorpusView, disabled: frozenset[str] = frozenset()
) -> list[tuple[int, float]]:
    """(chunk id, score) of every candidate, best first. `disabled`: rules left out (see RULES)."""
    if scored.ids.size == 0:
        return []
    score = {int(i): float(s) for i, s in zip(scored.ids, scored.fused)}
    chunks = view.chunks
    named = set(reading.services)
    on = {r for r in RULES if r not in disabled}
    qtokens = set(tokenize(reading.query)) if reading.definition and "defines" in on else set()
    for i in score:
        if qtokens:
            m = _DEFINES.match(chunks[i].text)
            if m and set(tokenize(m.group(1))) <= qtokens:
                score[i] += DEFINES_BOOST
        if "label" in on and view.label[i]:
            score[i] -= LABEL_PENALTY
        if "figure" in on and reading.figure and view.figure[i]:
            score[i] += FIGURE_BOOST
        if view.in_sections(i, named):
            if "service" in on:
                score[i] += SERVICE_BOOST
            # comparing services starts from what each one is: its opening block
            if (
                "definition" in on
                and (reading.definition or reading.intent == "compare")
                and any(i in view.opening.get(h, ()) for h in named)
            ):
                # the opening block defines the service; its first line most of all
                score[i] += DEFINITION_BOOST + (0.1 if chunks[i].line == chunks[i].block_start else 0.0)
    ranked = sorted(score, key=lambda i: -score[i])

    if reading.intent == "tips" and "tips" in on:
        exam = [i for i in ranked if view.exam[i] and (not named or view.in_sections(i, named))]
        if exam:
            first = set(exam)
            rest = [i for i in ranked if i not in first and (not named or view.in_sections(i, named))]
            # "Pour l'examen AWS SAA" alone says nothing its children's breadcrumb does not: labels last
            ranked = exam + [i for i in rest if not view.label[i]] + [i for i in rest if view.label[i]]
    elif reading.intent == "compare" and "compare" in on:
        ranked = _balance(reading, ranked, chunks, view)
    elif reading.bare and "bare" in on:
        # "c'est quoi Pinpoint ?" asks nothing but what the service is: the section's opening
        # block, read in the note's order, whatever the question's few words happen to match
        opening = view.opening.get(reading.services[0], set())
        ranked = sorted(i for i in opening if i in score) + [i for i in ranked if i not in opening]
    return [(i, score[i]) for i in ranked]


def contrasting(reading: QueryReading, ids, view: CorpusView) -> set[int]:
    """Chunks that contrast the compared things: they name every side, counting their headings and
    parents ("Bien différencier :" > "**SES** = envoi simple d'emails" under Pinpoint; a row of a
    "Critère | AWS Lambda | AWS Batch" table), one side at least in their own words or parents."""
    sides = _sides(reading, view)
    if len(sides) < 2:
        return set()
    out = set()
    for i in ids:
        c = view.chunks[i]
        if not all(_on_side(view, i, s) for s in sides):
            continue
        own = " " + " ".join(_words(" ".join([*c.breadcrumb, c.text]))) + " "
        if any(mentions(own, a) for s in sides for a in s[1]):
            out.add(int(i))
    return out


def _sides(reading: QueryReading, view: CorpusView) -> list[tuple[str | None, list[list[str]]]]:
    sides: list[tuple[str | None, list[list[str]]]] = []
    for s in reading.services:
        svc = next(x for x in view.catalog.services if x.heading == s)
        sides.append((s, [a for a in svc.aliases if len(a) < len(svc.aliases[0]) or len(svc.aliases) == 1]))
    for t in reading.terms:
        sides.append((None, [_words(t)]))
    return sides


def _on_side(view: CorpusView, i: int, side: tuple[str | None, list[list[str]]]) -> bool:
    heading, aliases = side
    return (heading is not None and heading in view.paths[i]) or any(mentions(view.words[i], a) for a in aliases)


def _balance(reading: QueryReading, ranked: list[int], chunks: list[Chunk], view: CorpusView) -> list[int]:
    sides = _sides(reading, view)
    if len(sides) < 2:
        return ranked
    contrast = contrasting(reading, ranked, view)
    both = [i for i in ranked if i in contrast][:MAX_BOTH_FIRST]
    out, taken = list(both), set(both)
    queues = []
    for side in sides:
        q = [i for i in ranked if i not in taken and _on_side(view, i, side)]
        opening = view.opening.get(side[0], set()) if side[0] else set()
        # each service is first shown by what it is (its opening block), then by what matches best
        queues.append([i for i in q if i in opening] + [i for i in q if i not in opening])
    while any(queues):
        for q in queues:
            while q and q[0] in taken:
                q.pop(0)
            if q:
                taken.add(q[0])
                out.append(q.pop(0))
    out += [i for i in ranked if i not in taken]
    return out
