"""Follow-up questions: a question that goes on about the previous answer keeps its subject.

"c'est quoi Amazon SES ?" then "et pour l'examen ?": the second question names nothing, yet it is
about SES. `carry` decides, from the question's shape and from what it names in the notes' catalog,
whether it inherits the previous answer's subject:

- it names a heading of the notes: it switches to it, unless it compares it with the subject
  ("et la différence avec Pinpoint ?", "et par rapport à SNS ?"): then both are compared;
- it names something else (an acronym typed in capitals, a name the notes capitalise, a product
  the notes never mention, an AWS service): it is about that, not a continuation, unless it compares;
- it reads as a continuation: it opens with "et"/"mais"/"sinon"…, refers back ("il", "ses", "ça",
  "l'activer"), or is two or three words ("les avantages ?", "ses limites");
- a continuation whose words the notes write together in one passage, none of them in the subject's
  sections, is a new question after all ("et comment arrêter les instances le soir ?" after SES): a
  wrong carry-over is worse than none.

Nothing here names the services of one set of notes: the catalog is read off the notes' headings,
and the cues are French (and a little English) grammar.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from .abstain import AWS_SERVICES, unknown_products
from .lexical import STOP_WORDS, LexicalIndex, tokenize
from .models import Answer, Intent, Subject
from .query import VENDOR_WORDS, QueryReading, asks_definition, comparison_cue, names_nothing, plain_heading, tips_cue
from .ranking import CorpusView
from .text import fold, fold_words, strip_emphasis

# The first word of a question that goes on from the previous one ("et pour l'examen ?").
_LEADS = frozenset("et and mais but sinon puis ensuite alors donc aussi also what about".split())
# Words said before it, that do not count ("ok et les limites ?", "d'accord, et …").
_FILLERS = frozenset("ok okay daccord d accord merci super cool bon bien parfait top".split())
# Words that refer back to something already said ("il se connecte à quoi ?", "ses limites", "ça coûte combien ?").
_BACK = frozenset(
    "il elle ils elles lui leur leurs son sa ses celui celle ceux celles ca cela ceci cet cette ces "
    "it its they them their this that".split()
)
# "il y a", "il faut", "il existe": "il" that refers to nothing.
_IMPERSONAL = re.compile(r"\bil (?:y a|faut|existe|est possible|vaut mieux|s'agit)\b")
# "comment l'activer ?": "l'" before a verb in the infinitive refers back.
_OBJECT = re.compile(r"\bl'\s?\w+(?:er|ir)\b")
# "c'est chiffré ?", "combien de temps c'est gardé ?": "c'" says something of what was said before;
# "c'est quoi X ?", "c'est qui", "c'est comment" ask about X instead.
_THIS_IS = re.compile(r"\bc'\s?(?:est|etait)\b(?!\s+(?:quoi|koi|qui|qu|comment|pour|a dire|le|la|les|un|une|l'))")
# A comparison with what was said before, beyond the catalog's own cues ("et par rapport à SNS ?").
_RELATIVE = re.compile(
    r"\bpar rapport (?:a|au|aux)\b|\bcontrairement\b|\bplutot qu|\bau lieu d|\bface a\b|\bcompared\b"
)
_CUE_TOKENS = frozenset(t for w in _BACK | _LEADS for t in tokenize(w))  # "ça" is no subject of its own
SHORT = 3  # a question of this many words or fewer continues the previous one, when it names nothing


def subject_of(previous: Answer | None, view: CorpusView) -> tuple[list[str], str] | None:
    """(headings, source) the previous answer is about: the services it named (or carried), else the
    heading of its first passage; None when it showed nothing. Headings no longer in the notes are dropped."""
    if previous is None:
        return None
    names, source = list(previous.services), "services"
    if previous.subject is not None and names:
        source = previous.subject.source
    if not names:
        first = previous.passages[0].heading if previous.passages else previous.hits[0].heading if previous.hits else ""
        names, source = ([first] if first else []), "heading"
    names = [n for n in dict.fromkeys(names) if n in view.sections and not generic(n)]
    return (names, source) if names else None


def generic(heading: str) -> bool:
    """A heading of nothing but question words ("C'est quoi", "À quoi ça sert ?"): no subject."""
    return names_nothing(heading)


def continuation_cue(query: str) -> str:
    """What makes the question read as the continuation of the previous one ("" when nothing does)."""
    f = fold(query).replace("\u2019", "'")
    words = fold_words(f)
    while words and words[0] in _FILLERS:
        words = words[1:]
    if not words:
        return ""
    if words[0] in _LEADS:
        return words[0]
    back = [w for w in fold_words(_IMPERSONAL.sub(" ", f)) if w in _BACK]
    if back:
        return back[0]
    m = _OBJECT.search(f) or _THIS_IS.search(f)
    if m:
        return m.group(0)
    typed = [w for w in f.split() if fold_words(w)]
    while typed and fold_words(typed[0])[0] in _FILLERS:
        typed = typed[1:]
    if len(typed) <= SHORT:
        return f"{len(typed)} mot{'s' if len(typed) > 1 else ''}"
    return ""


def compares(query: str) -> str:
    """The comparison cue of a question ("différence", "par rapport à"), "" when it compares nothing."""
    f = fold(query).replace("\u2019", "'")
    m = _RELATIVE.search(f)
    return comparison_cue(f) or (m.group(0) if m else "")


def other_names(query: str, reading: QueryReading, view: CorpusView, lexical: LexicalIndex) -> list[str]:
    """Things the question names that are not headings of the notes: a product the notes never mention,
    an AWS service, an acronym typed in capitals, a name the notes capitalise written with a capital."""
    out = list(unknown_products(query, lexical))
    words = re.findall(r"[^\W_]+", query)
    tips = [w for w in words if tips_cue(fold(w))]
    named = {w for s in reading.services for a in _aliases(view, s) for w in a}
    for n, w in enumerate(words):
        f = fold(w)
        if f in VENDOR_WORDS or f in named or w in tips or not w[0].isalpha():
            continue
        acronym = len(w) >= 2 and w.isupper()
        capitalised = n > 0 and w[0].isupper() and f in view.catalog.name_words
        if acronym or capitalised or f in AWS_SERVICES:
            out.append(w)
    return list(dict.fromkeys(out))


def _aliases(view: CorpusView, heading: str) -> list[list[str]]:
    return next((s.aliases for s in view.catalog.services if s.heading == heading), [fold_words(heading)])


def region(names: list[str], view: CorpusView) -> np.ndarray:
    """A mask over the chunks: those a subject covers. A heading's section and sub-sections; a page's
    title covers the whole page ("# SSO" over "## Fonctionnement" and "## Pas à confondre": the note is
    about SSO, while the title's own section holds only its opening lines)."""
    mask = np.zeros(len(view.chunks), dtype=bool)
    for n in names:
        if n in view.sections:
            mask[view.sections[n]] = True
    wanted = set(names)
    mask |= np.fromiter((c.title in wanted for c in view.chunks), dtype=bool, count=len(view.chunks))
    return mask


def _part_of(name: str, inside: np.ndarray, lexical: LexicalIndex) -> bool:
    """A name the subject's own lines write, that is no AWS service: a part of the subject ("et le TTL ?"
    after Route 53, whose records have a TTL), not another subject ("et SNS ?" after SES stays a switch)."""
    if fold(name) in AWS_SERVICES:
        return False
    return any(inside[lexical.docs_with(t)].any() for t in tokenize(name))


ELSEWHERE = 2  # a passage outside the subject holding this many more of the question's words: a new question


def _said_elsewhere(tokens: list[str], inside: np.ndarray, lexical: LexicalIndex) -> bool:
    """Some passage outside the subject holds ELSEWHERE more of these tokens than any passage inside it:
    "et comment on convertit des csv en parquet sans serveur ?" after Redshift, whose notes write
    "Parquet" once, is said in the ETL notes ("convertir … CSV … Parquet", "serverless")."""
    counts = np.zeros(len(inside), dtype=np.int64)
    for t in tokens:
        counts[np.unique(lexical.docs_with(t))] += 1
    best_in = int(counts[inside].max()) if inside.any() else 0
    best_out = int(counts[~inside].max()) if (~inside).any() else 0
    return best_out >= best_in + ELSEWHERE


def carry(
    query: str,
    reading: QueryReading,
    previous: Answer | None,
    view: CorpusView,
    lexical: LexicalIndex,
    services: list[str] | None = None,
) -> tuple[QueryReading, Subject] | None:
    """The question's reading with the previous subject carried over, and what was carried; None when the
    question stands on its own. `services`: the interface's filter, which wins over a carried subject."""
    prev = subject_of(previous, view)
    if prev is None:
        return None
    names, source = prev
    if services and not all(view.in_sections(int(view.sections[n][0]), services) for n in names):
        return None  # the filter and the subject disagree: the filter wins
    new = [s for s in reading.services if s not in names]
    if reading.services and not new:
        return None  # it names the subject itself: nothing to carry
    inside = region(names, view)
    others = [w for w in other_names(query, reading, view, lexical) if not _part_of(w, inside, lexical)]
    cue = compares(query)
    if new or others:
        if not cue or len(new) + len(others) > 1:
            return None  # about something else (or compares two new things): a switch
        terms = [t for t in others if t not in reading.terms] if not new else []
        compared = replace(
            reading, intent=Intent.COMPARE, services=[*names, *new], terms=[*reading.terms, *terms], bare=False, term=[]
        )
        return compared, Subject(names, source, "compare", cue)
    cue = continuation_cue(query) or (compares(query) if not reading.terms else "")
    if not cue:
        return None  # complete on its own
    tokens = [t for t in lexical.known(list(dict.fromkeys(tokenize(query)))) if t not in _CUE_TOKENS]
    if not tokens and tokenize(query) and cue[0].isdigit() and reading.intent != "tips":
        return None  # a few words the notes never use ("asdf qwer"): not a follow-up, nothing to show
    if len(tokens) >= ELSEWHERE and _said_elsewhere(tokens, inside, lexical):
        return None  # its words are said together elsewhere in the notes, not in the subject: a new question
    carried = replace(reading, services=names, bare=False, term=[])
    return carried, Subject(names, source, "continuation", cue)


def follow(
    query: str,
    reading: QueryReading,
    previous: Answer | None,
    view: CorpusView,
    lexical: LexicalIndex,
    services: list[str] | None = None,
) -> tuple[QueryReading, Subject | None]:
    """The question's reading in the conversation, and the subject it carried over (None: not carried).

    Besides `carry`: a switch worded as the previous question's echo ("c'est quoi SES ?" then "et
    Pinpoint ?", "conseils pour l'examen sur SSM" then "et pour Batch ?") asks the same about the newly
    named service: the previous question's reading is kept with the new service."""
    carried = carry(query, reading, previous, view, lexical, services)
    if carried is not None:
        return carried
    if previous is None or len(reading.services) != 1 or reading.intent != "lookup" or reading.bare:
        return reading, None
    named = {w for a in _aliases(view, reading.services[0]) for w in a}
    rest = [w for w in fold_words(query) if w not in named and w not in STOP_WORDS | VENDOR_WORDS | _LEADS | _FILLERS]
    if rest:
        return reading, None  # it asks something of its own
    before = view.catalog.read(previous.query)
    if previous.subject is not None and not before.services:  # the previous question carried its subject
        before = replace(before, services=list(previous.services))
    if len(before.services) != 1 or before.services == reading.services or before.intent not in ("lookup", "tips"):
        return reading, None
    # "c'est quoi RDS Proxy ?" then "et DynamoDB ?": what DynamoDB is, its section's opening
    bare = before.bare or (before.intent == "lookup" and asks_definition(fold(previous.query)))
    return replace(before, query=reading.query, services=reading.services, bare=bare, term=[]), None


MAX_CANDIDATES = 2000  # a subject's passages scored whatever their rank: at most this many


def candidates(reading: QueryReading, view: CorpusView) -> np.ndarray:
    """The passages of the carried reading's services, to be scored whatever their rank: a follow-up of two
    words ("et pour l'examen ?") is ranked on its own words, and the subject's lines must be among the
    candidates (the first ones of a big section when it is too big)."""
    return np.flatnonzero(region(reading.services, view)).astype(np.int64)[:MAX_CANDIDATES]


def label(subject: Subject) -> str:
    """The line shown above a carried answer: « À propos de : Amazon SES (question précédente) »."""
    names = " et ".join(plain_heading(strip_emphasis(n)).strip() for n in subject.names)
    return f"À propos de : {names} (question précédente)"


FIGURE_REACH = 10  # a follow-up asking for a figure: the subject's lines giving one among its first this many


def within(
    subject: Subject, query: str, ranked: list[tuple[int, float]], view: CorpusView, figure: bool = False
) -> list[tuple[int, float]]:
    """A carried continuation shows the subject's passages first (the rest after, when it has too few).
    Its few words weigh little, so what it asks is read off its shape:
    - one that compares without naming a side ("avec quoi il ne faut pas le confondre ?") asks what the
      subject is told apart from: the subject's lines that contrast ("Ne pas confondre avec SNS") first;
    - one that asks for exam tips ("et pour l'examen ?"): the subject's exam lines first;
    - one that asks for a figure (`figure`: "combien ça coûte ?", "ses limites ?"): the subject's lines
      that give a figure with its unit ("5 $ par To") first, among its best FIGURE_REACH."""
    if subject.reason != "continuation":
        return ranked
    mask = region(subject.names, view)
    inside = [(i, s) for i, s in ranked if mask[i]]
    f = fold(query).replace("\u2019", "'")
    if compares(query):
        first = {i for i, _ in inside if _contrasts(view.words[i])}
    elif tips_cue(f):
        first = {i for i, _ in inside if view.exam[i]}
    elif figure:
        first = {i for i, _ in inside[:FIGURE_REACH] if view.figure[i]}
    else:
        first = set()
    inside = [(i, s) for i, s in inside if i in first] + [(i, s) for i, s in inside if i not in first]
    return inside + [(i, s) for i, s in ranked if not mask[i]]


def scored_text(query: str, subject: Subject | None, previous: Answer | None) -> str:
    """The text a question is ranked on. A follow-up that refers back with a pronoun ("ils tournent tout
    seuls ?") after a follow-up that named a part of the subject ("les crawlers ?") is about that part:
    the previous question's words are ranked with its own."""
    if subject is None or subject.reason != "continuation" or previous is None or previous.subject is None:
        return query
    if previous.subject.reason != "continuation" or subject.cue not in _BACK:
        return query
    if tips_cue(fold(previous.query)) or compares(previous.query):
        return query  # "et pour l'examen ?" asks a kind of line, it names no part of the subject
    return f"{query} {previous.query}"


def _contrasts(words: str) -> bool:
    """A line (its headings, parents and text, folded) that tells things apart: the catalog's comparison cues."""
    return bool(comparison_cue(words))
