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
and the cues are French (and a little English) grammar, read in retrieval/continuation.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from . import conventions
from .abstain import AWS_SERVICES, unknown_products
from .continuation import (
    BACK,
    CUE_TOKENS,
    FILLERS,
    FRAME,
    KNOW,
    LEAD,
    LEADS,
    POSSESSIVE,
    SHORT,
    asks_about_new,
    compares,
    continuation_cue,
    excepted,
    new_topic,
)
from .cues import DEFINITION_WORDS, asks_about, asks_definition, asks_price, comparison_cue, tips_cue
from .lexical import STOP_WORDS, LexicalIndex, tokenize
from .models import Answer, Intent, Passage, Subject
from .query import QueryReading
from .ranking import CorpusView
from .services import VENDOR_WORDS, names_nothing, plain_heading
from .text import fold, fold_words, strip_emphasis


def subject_of(previous: Answer | None, view: CorpusView) -> tuple[list[str], str] | None:
    """(headings, source) the previous answer is about: the services it named (or carried), else the
    heading of its first passage; None when it showed nothing. Headings no longer in the notes are dropped."""
    if previous is None:
        return None
    names, source = list(previous.services), "services"
    if previous.subject is not None and names:
        source = previous.subject.source
    if not names:
        return _first_heading(previous, view)
    if previous.subject is None and previous.passages:
        names = [_narrower(n, previous.passages[0], view) for n in names]
    names = [n for n in dict.fromkeys(names) if n in view.sections and not generic(n)]
    return (names, source) if names else None


def _narrower(name: str, first: Passage, view: CorpusView) -> str:
    """A chapter a question named ("les classes de stockage ?" names "# Stockage sur AWS", the file's
    title over its S3, EBS, EFS sections) is no subject: the section of the answer's first passage is
    (Amazon S3). A page's title that is its subject (a Notion page, a page with aliases) stays the subject."""
    at = view.sections.get(name)
    if at is None or not len(at):
        return name
    c = view.chunks[int(at[0])]
    if c.title != name or conventions.subject(c) == name or c.names:
        return name  # a page its aliases name ("aliases: [IAM Identity Center]") is one thing, no chapter
    if first.heading != name and name in first.heading_path and first.heading in view.sections:
        return name if generic(first.heading) else first.heading
    return name


def _first_heading(previous: Answer, view: CorpusView) -> tuple[list[str], str] | None:
    """The subject of an answer that named nothing: the heading of its first passage; a heading that
    names nothing gives way to the nearest one above it ("## C'est quoi" on a page: the page's title).
    A passage whose headings all name nothing (a dated journal page of Logseq, "2025_03_15", whose line
    embeds a block of a page) gives none: the next passage does, among the first SUBJECT_REACH."""
    shown = [(p.heading, p.heading_path) for p in previous.passages] or [
        (h.heading, h.heading_path) for h in previous.hits
    ]
    for heading, path in shown[:SUBJECT_REACH]:
        for h in [heading, *reversed(path)]:
            if h and h in view.sections and not generic(h) and not _chapter(h, view):
                return [h], "heading"
    return None


SUBJECT_REACH = 2  # an answer's subject is read off its first passages that name something: at most this many


def _chapter(heading: str, view: CorpusView) -> bool:
    """A file's "#" title over its sections ("# ☁️ Partie 2 — Calcul et scalabilité"), that names no
    one thing as a page's title does (a Notion page, a page with aliases): a chapter, too wide a subject."""
    c = view.chunks[int(view.sections[heading][0])]
    return c.title == heading and conventions.subject(c) != heading and not c.names


def generic(heading: str) -> bool:
    """A heading of nothing but question words ("C'est quoi", "À quoi ça sert ?"), of numbers (a
    dated journal page, "2025_03_15") or of exam words ("🎯 2.5 À retenir pour l'examen", a chapter's
    tips over all its services): no subject."""
    words = fold_words(heading)
    if names_nothing(heading) or all(w.isdigit() for w in words):
        return True
    rest = [w for w in words if not w.isdigit() and w not in STOP_WORDS and w not in KNOW and not tips_cue(w)]
    return not rest and tips_cue(" ".join(words))


def other_names(query: str, reading: QueryReading, view: CorpusView, lexical: LexicalIndex) -> list[str]:
    """Things the question names that are not headings of the notes: a product the notes never mention,
    an AWS service, an acronym typed in capitals, a name the notes capitalise written with a capital."""
    out = list(unknown_products(query, lexical))
    words = re.findall(r"[^\W_]+", query)
    # "et snowball c'est quand qu'on l'utilise ?": a word right after "et", typed without its capital,
    # that the notes capitalise inside their sentences ("envisager Snowball") is a name too
    folded = [fold(w) for w in words]
    at = next((n for n, f in enumerate(folded) if f not in FILLERS), len(words))
    if at + 1 < len(words) and folded[at] in LEADS:
        f = folded[at + 1]
        if f in view.catalog.name_words and f not in STOP_WORDS and f not in named_words(reading, view):
            out.append(words[at + 1])
    tips = [w for w in words if tips_cue(fold(w))]
    named = named_words(reading, view)
    for n, w in enumerate(words):
        f = fold(w)
        if f in VENDOR_WORDS or f in named or w in tips or not w[0].isalpha():
            continue
        acronym = len(w) >= 2 and w.isupper()
        capitalised = n > 0 and w[0].isupper() and f in view.catalog.name_words
        if acronym or capitalised or f in AWS_SERVICES:
            out.append(w)
    return list(dict.fromkeys(out))


def named_words(reading: QueryReading, view: CorpusView) -> set[str]:
    """The folded words of the names of the services the question names."""
    return {w for s in reading.services for a in _aliases(view, s) for w in a}


def _forms(name: str, view: CorpusView) -> list[list[str]]:
    """The folded words a name is said with: a heading's aliases, else its own words ("snowball")."""
    return _aliases(view, name) if name in view.sections else [fold_words(name)]


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


def _part_of(name: str, inside: np.ndarray, lexical: LexicalIndex, refers_back: bool = False) -> bool:
    """A name the subject's own lines write, that is no AWS service: a part of the subject ("et le TTL ?"
    after Route 53, whose records have a TTL), not another subject ("et SNS ?" after SES stays a switch).
    A question that refers back to the subject before it says the name (`refers_back`: "lequel choisir
    pour lire un bucket S3 ?" after the VPC endpoints, whose lines write S3) makes an AWS service its
    lines write a part too; "et SNS, il sert à quoi ?" names SNS first: "il" is SNS."""
    if fold(name) in AWS_SERVICES and not refers_back:
        return False
    return any(inside[lexical.docs_with(t)].any() for t in tokenize(name))


# A name a line defines: "**Transfer Family** : serveur SFTP …" (bold, then ":" / "=" / a dash).
_NAME_DEFINED = re.compile(r"^\s*\*\*([^*]{2,40})\*\*\s*(?:[:=—–]|-\s)")


def _name_like(term: str) -> bool:
    """Words written as a name: capitalised words ("Transfer Family"), or one word with inner capitals
    ("DataSync", "TTL"), not a common word at a line's start ("Prix", "Durée max")."""
    ws = re.findall(r"[^\W_]+", term)
    if len(ws) >= 2:
        return all(w[0].isupper() or w[0].isdigit() for w in ws)
    return len(ws) == 1 and len(ws[0]) >= 2 and any(c.isupper() for c in ws[0][1:])


def defined_elsewhere(query: str, inside: np.ndarray, view: CorpusView, lexical: LexicalIndex) -> list[str]:
    """Names the question writes in full that a line outside the subject defines, and that the subject's
    lines never write: "et transfer family ?" after Transfer Acceleration (a part of S3) asks about
    the "**Transfer Family** : …" of the data transfer notes; a name sharing a word is another thing."""
    said = " " + " ".join(fold_words(query)) + " "
    near = [lexical.docs_with(t) for t in lexical.known(list(dict.fromkeys(tokenize(query))))]
    out = []
    for i in np.unique(np.concatenate(near)) if near else []:
        if inside[i]:
            continue
        m = _NAME_DEFINED.match(view.chunks[int(i)].text)
        if not m or not _name_like(m.group(1)):
            continue
        name = " " + " ".join(fold_words(m.group(1))) + " "
        if name in said and not any(name in view.words[j] for j in np.flatnonzero(inside)):
            out.append(m.group(1).strip())
    return list(dict.fromkeys(out))


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


def _pronoun_first(query: str, back: str, named: list[str], view: CorpusView) -> bool:
    """The question refers back with a pronoun ("le", "il", "lequel", "ça") before it says the names it
    holds: the pronoun is the subject, the names say where or with what ("je peux le mettre dans git ?",
    "il s'intègre avec SNS ?"). A possessive ("ses limites face à …") is no such pronoun."""
    if back in POSSESSIVE:
        return False
    f = " " + " ".join(fold_words(query)) + " "
    at = f.find(" " + " ".join(fold_words(back)) + " ")
    if at < 0:
        return False
    spots = [f.find(" " + " ".join(a) + " ") for name in named for a in _forms(name, view) if a]
    spots = [i for i in spots if i >= 0]
    return bool(spots) and at < min(spots)


PART = "partie du sujet"  # the cue of a question that names a section within the subject


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
    if new_topic(query):
        return None  # "autre question : …": the student changes the subject
    if services and not all(view.in_sections(int(view.sections[n][0]), services) for n in names):
        return None  # the filter and the subject disagree: the filter wins
    contrast, against = excepted(query)
    kept = [s for s in reading.services if not any(set(a) <= against for a in _aliases(view, s))]
    inside = region(names, view)
    # a section within the subject ("on charge les données comment ?" names Redshift's "## Charger les
    # données") is a part of it: the subject stays, for this question and the next ones
    within_subject = [s for s in kept if s not in names and s in view.sections and inside[view.sections[s]].all()]
    new = [s for s in kept if s not in names and s not in within_subject]
    if kept and not new and not within_subject:
        return None  # it names the subject itself: nothing to carry
    # a name the subject's lines write is a part of it; so is one the newly named service's lines write
    # ("c'est mieux que Glue pour faire de l'ETL ?": ETL is what Glue does, not a third thing compared)
    parts = inside | region(new, view) if new else inside
    back = continuation_cue(LEAD.sub("", fold(query).replace("\u2019", "'")))  # "et je peux le commit …"
    refers_back = bool(back) and back not in LEADS and not back[0].isdigit() and back != "examen"
    others = [
        w
        for w in other_names(query, reading, view, lexical)
        if not _part_of(w, parts, lexical, refers_back and _pronoun_first(query, back, [w], view))
    ]
    others = [
        w for w in [*others, *defined_elsewhere(query, inside, view, lexical)] if not set(fold_words(w)) <= against
    ]
    cue = compares(query)
    complement: set[str] = set()  # the words of names that say where or with what, not what about
    if (new or others) and not cue and refers_back and _pronoun_first(query, back, new + others, view):
        # "je peux le mettre dans git ?": the pronoun, said before the name, is the subject; the name is
        # where it goes. "et guardduty, il analyse quoi ?" names first: the pronoun is GuardDuty
        complement = {t for name in new + others for a in _forms(name, view) for t in tokenize(" ".join(a))}
        new, others = [], []
    if new or others:
        if not cue or len(new) + len(others) > 1:
            return None  # about something else (or compares two new things): a switch
        if reading.intent == Intent.COMPARE and len(reading.services) + len(reading.terms) >= 2:
            return None  # "dans DynamoDB la diff entre LSI et GSI ?" compares its own two sides
        terms = [t for t in others if t not in reading.terms] if not new else []
        compared = replace(
            reading, intent=Intent.COMPARE, services=[*names, *new], terms=[*reading.terms, *terms], bare=False, term=[]
        )
        return compared, Subject(names, source, "compare", cue)
    cue = continuation_cue(query) or contrast or (compares(query) if not reading.terms else "")
    cue = cue or (PART if within_subject else "")
    if not cue or (asks_about_new(query) and not within_subject and not compares(query)):
        return None  # complete on its own ("et un load balancer ça fait quoi ?" asks of a new thing)
    tokens = [t for t in lexical.known(list(dict.fromkeys(tokenize(query)))) if t not in CUE_TOKENS | complement]
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
    if previous is None or len(reading.services) != 1 or reading.intent != "lookup":
        return reading, None
    if reading.bare and asks_definition(fold(query)):
        return reading, None  # "c'est quoi Pinpoint ?" asks its own question ("et Pinpoint ?" is bare too)
    named = {w for a in _aliases(view, reading.services[0]) for w in a}
    rest = [w for w in fold_words(query) if w not in named and w not in STOP_WORDS | VENDOR_WORDS | LEADS | FILLERS]
    if rest:
        return reading, None  # it asks something of its own
    before = view.catalog.read(previous.query)
    if previous.subject is not None and not before.services:  # the previous question carried its subject
        before = replace(before, services=list(previous.services))
    if not before.services and before.term and before.intent == "lookup":
        # "c'est quoi les job bookmarks ?" then "et quicksight ?": it asked what a thing is, not a service
        return replace(reading, bare=True, term=[]), None
    if len(before.services) != 1 or before.services == reading.services or before.intent not in ("lookup", "tips"):
        return reading, None
    # "c'est quoi RDS Proxy ?" then "et DynamoDB ?": what DynamoDB is, its section's opening
    asked = fold(previous.query)
    bare = before.bare or (before.intent == "lookup" and (asks_definition(asked) or asks_about(asked)))
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
      one that names a side the notes hold no heading for ("c'est mieux que le fine-tuning ?"): the
      subject's lines writing it first, then those that contrast;
    - one that asks for exam tips ("et pour l'examen ?"): the subject's exam lines first;
    - one that asks what it costs ("ça coûte combien ?"): the subject's lines on money, those with a
      figure ("5 $ par To") before the others ("Payant : par élément enregistré");
    - one that asks for a figure (`figure`: "combien ça coûte ?", "ses limites ?"): the subject's lines
      that give a figure with its unit ("5 $ par To") first, among its best FIGURE_REACH."""
    if subject.reason != "continuation":
        return ranked
    mask = region(subject.names, view)
    inside = [(i, s) for i, s in ranked if mask[i]]
    f = fold(query).replace("\u2019", "'")
    tier: dict[int, int] = {}  # 0 first, then 1, then the rest (2); each in its rank's order
    cue = compares(query)
    if cue:
        # "c'est mieux que le fine-tuning ?": the subject's lines writing the other side, then those that contrast
        other = [w for w in fold_words(f[f.find(cue) + len(cue) :]) if w not in STOP_WORDS and w not in FRAME]
        tier = {i: 1 for i, _ in inside if _contrasts(view.words[i])}
        tier |= {i: 0 for i, _ in inside if other and all(f" {w} " in view.words[i] for w in other)}
    elif tips_cue(f):
        tier = {i: 0 for i, _ in inside if view.exam[i]}
    elif asks_price(f):  # a price with its figure ("5 $ par To") before a word on money ("gratuites")
        tier = {i: 0 if view.figure[i] else 1 for i, _ in inside if _on_money(i, view)}
    elif figure:
        tier = {i: 0 for i, _ in inside[:FIGURE_REACH] if view.figure[i]}
    inside.sort(key=lambda x: tier.get(x[0], 2))  # stable: the rank's order within a tier
    return inside + [(i, s) for i, s in ranked if not mask[i]]


def scored_text(query: str, subject: Subject | None, previous: Answer | None) -> str:
    """The text a question is ranked on. A follow-up that refers back with a pronoun ("ils tournent tout
    seuls ?") after a follow-up that named a part of the subject ("les crawlers ?") is about that part:
    the previous question's words are ranked with its own; so are the words of a part the question that
    set the subject asked about."""
    if subject is None or subject.reason != "continuation" or previous is None:
        return query
    if previous.subject is None:
        # the question that set the subject asked what a part of it is ("c'est quoi le long polling SQS
        # ?"): the follow-up ("et comment on l'active ?") is about that part, within the subject; a
        # question that asked something else ("comment lancer un conteneur ?") named no part
        asked = fold(previous.query).replace("\u2019", "'")
        told = asks_definition(asked) or asks_about(asked) or len(fold_words(asked)) <= SHORT  # "git reset"
        named_part = told and not compares(query)
        part = _part_words(previous.query, subject) if named_part else []
        return f"{query} {' '.join(part)}" if part else query
    if previous.subject.reason != "continuation" or subject.cue not in BACK:
        return query
    if tips_cue(fold(previous.query)) or compares(previous.query):
        return query  # "et pour l'examen ?" asks a kind of line, it names no part of the subject
    return f"{query} {previous.query}"


def _part_words(query: str, subject: Subject) -> list[str]:
    """The words a question says beyond the subject's name and the words that ask ("c'est quoi le long
    polling SQS ?" after which the subject is SQS: "long polling")."""
    named = {w for n in subject.names for w in fold_words(plain_heading(strip_emphasis(n)))}
    skip = named | STOP_WORDS | VENDOR_WORDS | FRAME | DEFINITION_WORDS | LEADS | FILLERS
    return [w for w in fold_words(query) if w not in skip and len(w) > 1]


def _on_money(i: int, view: CorpusView) -> bool:
    """A line on money: its words or headings ("## Prix", "Payant"), or a currency sign in its text."""
    return asks_price(view.words[i]) or asks_price(view.chunks[i].text)


def _contrasts(words: str) -> bool:
    """A line (its headings, parents and text, folded) that tells things apart: the catalog's comparison cues."""
    return bool(comparison_cue(words))
