"""From fused scores and a question's reading to the passages shown, in order.

Four rules beyond plain fusion, each kept because it helps held-out questions (README, "Classement"):
- label: a short parent that only names its children ("Cas d'usage"), an outline bullet titling its
  section, a to-do ("TODO relire X") come after what they name;
- tips: the exam tips of the named service (or of the notes) come first;
- compare: after the best-scored line, passages that contrast the compared things ("Comparaison avec ...",
  "Bien différencier"), then each side's opening block and best passages in turn, so no side is crowded out;
- definition: "c'est quoi X ?" asking nothing else, X a heading: X's opening block first, in the note's order;
  X not a heading: the line that defines X ("**X** : …", "X :: …") first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .cues import defines
from .fusion import Scored
from .models import Chunk
from .passages import NoteStructure
from .query import QueryReading, ServiceCatalog
from .services import folded_words, mentions, section_headings
from .text import fold_words, strip_emphasis

# A short bullet that only names its children ("Cas d'usage", "Fonctionnalités clés") says little
# by itself; its children carry the content and should come before it.
LABEL_PENALTY = 0.15
# A figure in a note: a number with its unit ("15 minutes", "512 Mo", "70 %", "2h", "12 mois").
FIGURE = re.compile(
    r"\d+(?:[.,]\d+)?\s?(?:%|€|\$|(?:ms|s|sec\w*|min\w*|h|heures?|hours?|jours?|days?|semaines?"
    r"|mois|months?|ans?|années?|years?|[kmgt]o|[kmgt]i?b|octets?|bytes?|requêtes|requests)\b)",
    re.IGNORECASE,
)
LABEL_MAX_WORDS = 5
MAX_BOTH_FIRST = 2
MAX_OTHER_TIPS = 5  # tips kept apart from the named service: the best few, not every tip of the notes


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
    paths: list[frozenset[str]]  # per chunk: the headings whose section holds it (see services.section_headings)

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
            is_parent = c.source == nxt.source and (
                (len(nxt.breadcrumb) == len(c.breadcrumb) + 1 and nxt.breadcrumb[:-1] == c.breadcrumb)
                or nxt.parent_line == c.line
            )
            # an outline's top-level bullet that titles its section (conventions: outline sections) names
            # its children as a heading does
            titles = (
                c.line == c.block_start and not c.breadcrumb and set(fold_words(c.heading)) <= set(fold_words(c.text))
            )
            label[i] = is_parent and (len(fold_words(c.text)) <= LABEL_MAX_WORDS or titles)
        # a to-do ("DONE relire NAT Gateway vs NAT instance") names what to study, as a label names its children
        label |= np.array([c.task for c in chunks], dtype=bool)
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


# The rules of the default ranking beyond plain fusion, by name (evaluate.py --ablate leaves each out;
# mode "plain" leaves them all out).
RULES = ("label", "tips", "compare", "definition")


def arrange(
    reading: QueryReading, scored: Scored, view: CorpusView, disabled: frozenset[str] = frozenset()
) -> list[tuple[int, float]]:
    """(chunk id, score) of every candidate, best first. `disabled`: rules left out (see RULES)."""
    if scored.ids.size == 0:
        return []
    score = {int(i): float(s) for i, s in zip(scored.ids, scored.fused)}
    chunks = view.chunks
    named = set(reading.services)
    if "label" not in disabled:
        for i in score:
            if view.label[i]:
                score[i] -= LABEL_PENALTY
    ranked = sorted(score, key=lambda i: -score[i])

    if reading.intent == "tips" and "tips" not in disabled:
        exam = [i for i in ranked if view.exam[i] and (not named or view.in_sections(i, named))]
        if not exam and named:
            # the notes keep their tips apart ("## À retenir pour l'examen" closing the chapter): those,
            # best matching first, then the named services' own lines
            exam = [i for i in ranked if view.exam[i]][:MAX_OTHER_TIPS]
        if exam:
            first = set(exam)
            rest = [i for i in ranked if i not in first and (not named or view.in_sections(i, named))]
            # "Pour l'examen AWS SAA" alone says nothing its children's breadcrumb does not: labels last
            ranked = exam + [i for i in rest if not view.label[i]] + [i for i in rest if view.label[i]]
    elif reading.intent == "compare" and "compare" not in disabled:
        ranked = _balance(reading, ranked, chunks, view)
    elif reading.bare and "definition" not in disabled:
        # "c'est quoi Pinpoint ?" asks nothing but what it is: the section's opening block, where a note
        # says what the thing is, in the note's order, whatever the question's few words happen to match
        opening = view.opening.get(reading.services[0], set())
        # (a label, an outline bullet titling the section, comes after what it names, as everywhere)
        lead = sorted(i for i in opening if i in score)
        lead = [i for i in lead if not view.label[i]] + [i for i in lead if view.label[i]]
        ranked = lead + [i for i in ranked if i not in opening]
    elif reading.term and "definition" not in disabled:
        # "c'est quoi une URL pré-signée ?": the line that defines it ("**URL pré-signée** : …") first
        defining = next((i for i in ranked if defines(chunks[i].text, reading.term)), None)
        if defining is not None:
            ranked = [defining] + [i for i in ranked if i != defining]
    return [(i, score[i]) for i in ranked]


def contrasting(reading: QueryReading, ids, view: CorpusView) -> set[int]:
    """Chunks that contrast the compared things: they name every side, counting their headings and
    parents ("Bien différencier :" > "**SES** = envoi simple d'emails" under Pinpoint; a row of a
    "Critère | AWS Lambda | AWS Batch" table), one side at least in their own words or parents."""
    sides = compared_sides(reading, view)
    if len(sides) < 2:
        return set()
    out = set()
    for i in ids:
        c = view.chunks[i]
        if not all(on_side(view, i, s) for s in sides):
            continue
        own = " " + " ".join(fold_words(" ".join([*c.breadcrumb, c.text]))) + " "
        if any(mentions(own, a) for s in sides for a in s[1]):
            out.add(int(i))
    return out


def compared_sides(reading: QueryReading, view: CorpusView) -> list[tuple[str | None, list[list[str]]]]:
    named: list[tuple[str | None, list[list[str]]]] = []
    for s in reading.services:
        svc = next(x for x in view.catalog.services if x.heading == s)
        named.append((s, [a for a in svc.aliases if len(a) < len(svc.aliases[0]) or len(svc.aliases) == 1]))
    terms: list[tuple[str | None, list[list[str]]]] = [(None, [fold_words(t)]) for t in reading.terms]
    # "git reset ou git revert ?" names the heading "Git" too: the terms refine it, it is not a side
    refined = [s for s in named if not any(set(a) < set(t[1][0]) for a in s[1] for t in terms if t[1][0])]
    sides = refined + terms
    return sides if len(sides) >= 2 else named + terms


def on_side(view: CorpusView, i: int, side: tuple[str | None, list[list[str]]]) -> bool:
    heading, aliases = side
    if (heading is not None and heading in view.paths[i]) or any(mentions(view.words[i], a) for a in aliases):
        return True
    # under a label whose code names it: "Arrêter un conteneur :" over `docker stop web`, and its notes
    c = view.chunks[i]
    parent = c.parent_line if c.kind != "code" else 0
    for line in view.structure.children.get((c.source, parent), ()) if parent else ():
        code = view.structure.chunk_at.get((c.source, line))
        if code is not None and code.kind == "code" and any(mentions(folded_words(code), a) for a in aliases):
            return True
    return False


def _balance(reading: QueryReading, ranked: list[int], chunks: list[Chunk], view: CorpusView) -> list[int]:
    sides = compared_sides(reading, view)
    if len(sides) < 2:
        return ranked
    contrast = contrasting(reading, ranked, view)
    # the best-scored line stays first (on held-out comparisons, moving it cost hit@1); what follows
    # is reordered so that both sides are shown
    both = [i for i in ranked if i in contrast and i != ranked[0]][: MAX_BOTH_FIRST - 1]
    out, taken = [ranked[0], *both], {ranked[0], *both}
    queues = []
    for side in sides:
        q = [i for i in ranked if i not in taken and on_side(view, i, side)]
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
