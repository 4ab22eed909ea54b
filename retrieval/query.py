"""Question understanding: which services a question names, what it asks (lookup, compare, tips).

Nothing here is written for one set of notes: services are the notes' headings, their
short names come from the headings' own words ("S3 (Simple Storage Service)" gives "S3" and
"Simple Storage Service"), and compared things are read off the question's own syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .conventions import DEFINED_TERM, own_path, subject
from .lexical import STOP_WORDS
from .models import Chunk, Intent
from .text import VENDORS, fold, fold_words, strip_emphasis

VENDOR_WORDS = {*(v.lower() for v in VENDORS), "on", "sur", "de"}

COMPARE = [
    r"\bdiff[eé]rences?\b",
    r"\bdiff[eé]rencier\b",
    r"\bdiff\b",  # "c'est quoi la diff"
    r"\bdistingu\w*",
    r"\bdistinction\b",
    r"\bcompar\w*",
    r"\bvs\.?(?=\s|$)",
    r"\bversus\b",
    r"\bdifference between\b",
    r"\bconfondre\b",
]
TIPS = [
    r"\bconseils?\b",
    r"\bastuces?\b",
    r"\ba retenir\b",
    r"\bretenir\b",
    r"\bpour l'?\s?examen\b",
    r"\bexamen\b",
    r"\bexam\b",
    r"\bcertif\w*",
    r"\btips?\b",
    r"\bpieges?\b",
    r"\bquoi reviser\b",
    r"\bsaa\b",
]
# "c'est quoi X ?", "what is X", "c koi X", "kesako X": a question asking what something is (folded text).
DEFINITION = re.compile(
    r"\bc'?est (?:quoi|koi)\b|\bqu'?est[- ]ce qu|\bc (?:koi|quoi)\b|\bkesako\b|\bdefini\w*"
    r"|\bwhat(?: is|'s| are)\b|\ba quoi sert\b|\bca sert a quoi\b"
)
# What a bare "what is X" question holds besides X and stop words (folded words).
DEFINITION_WORDS = frozenset(
    fold("koi quoi kesako sert définition définir what is it are le la les un une service outil").split()
)
# The question asks for a figure (folded text: "durée" is "duree").
_ASKS_FIGURE = re.compile(
    r"\b(combien|prix|tarifs?|tarification|taille|duree|delai|limites?|quotas?|nombre"
    r"|maximum|maximale?|how (?:much|many|long)|price|pricing|size|limits?)\b"
)


def _levenshtein(a: str, b: str, limit: int) -> int:
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


def comparison_cue(text: str) -> str:
    """What makes a text compare ("différence", "vs", "confondre"), "" when nothing does (folded text)."""
    m = next((m for m in (re.search(p, text) for p in COMPARE) if m), None)
    return m.group(0) if m else ""


def tips_cue(text: str) -> bool:
    """The text asks for exam tips ("conseils", "pour l'examen", "exam") (folded text)."""
    return any(re.search(p, text) for p in TIPS)


def asks_definition(text: str) -> bool:
    """The text asks what something is ("c'est quoi", "qu'est-ce que", "what is") (folded text)."""
    return bool(DEFINITION.search(text))


def names_nothing(heading: str) -> bool:
    """A heading of nothing but question words ("C'est quoi", "À quoi ça sert ?"): it names no subject."""
    return all(w in STOP_WORDS or w in DEFINITION_WORDS for w in fold_words(heading))


@dataclass
class Service:
    heading: str
    aliases: list[list[str]]  # each alias as folded words


@dataclass
class QueryReading:
    query: str
    intent: Intent  # LOOKUP, COMPARE or TIPS
    services: list[str] = field(default_factory=list)  # headings named, in order of mention
    terms: list[str] = field(default_factory=list)  # compared things that are not headings (e.g. "SNS")
    figure: bool = False  # asks for a figure: a size, a price, a duration, a limit, "combien"
    bare: bool = False  # "c'est quoi X ?" and nothing else, X a heading: its section's opening answers it
    term: list[str] = field(default_factory=list)  # "c'est quoi X ?", X not a heading: X's folded words


class ServiceCatalog:
    """Services (headings) of a set of notes, and the reading of a question against them."""

    def __init__(self, chunks: list[Chunk], plain: list[str] | None = None):
        """`plain`: the chunks' texts with emphasis stripped, when the caller already has them."""
        headings: dict[str, None] = {}
        names: dict[str, list[str]] = {}  # a page's other names (aliases), as names of its title
        self._above: dict[str, set[str]] = {}  # heading → the headings whose section holds it (its page's title too)
        for c in chunks:
            for h in section_headings(c):
                headings.setdefault(h, None)
                if h in c.heading_path:
                    self._above.setdefault(h, set()).update(c.heading_path[: c.heading_path.index(h)])
            if c.names:  # the page's other names name its subject, else its title
                names.setdefault(subject(c) or c.title or c.heading, c.names)
        # a heading of vendor words only ("AWS", a file "aws.md") names no service, nor one of question
        # words only ("## C'est quoi" on every Notion page: "c'est quoi Glue ?" names Glue alone)
        self.services = [
            Service(h, self._aliases(h, names.get(h, ())))
            for h in headings
            if any(w not in VENDOR_WORDS for w in fold_words(plain_heading(h))) and not names_nothing(h)
        ]
        # A service's own name is no short name of another: "VPC" names the page VPC, not its sections
        # "VPC Endpoints" or "VPC Peering vs Transit Gateway" (whose acronym rule would give "VPC")
        own = {tuple(s.aliases[0]): s.heading for s in self.services if s.aliases}
        for s in self.services:
            s.aliases[1:] = [a for a in s.aliases[1:] if own.get(tuple(a), s.heading) == s.heading]
        self._max_alias_words = max((len(a) for s in self.services for a in s.aliases), default=1)
        if plain is None:
            plain = [strip_emphasis(c.text) for c in chunks]  # once: names and vocabulary both read it
        # Words written in upper case somewhere in the notes: "SES" in a question is the service.
        self.upper_words = {
            fold(w) for c in chunks for w in re.findall(r"\b[A-Z][A-Z0-9]{1,7}\b", c.text + " " + c.heading)
        }
        # Every word the notes write (folded): a compared side must be one of theirs.
        self.vocabulary = {w for t in plain for w in fold_words(t)} | {w for h in headings for w in fold_words(h)}
        # Names: words the notes capitalise inside a sentence ("remplace Bastion", "Lambda + API + Glue").
        self.name_words = {
            fold(m.group(1))
            for t in plain
            for m in re.finditer(r"(?<=[\w,+/(] )([A-Z][a-z]+[A-Za-z]*)", t)
            if fold(m.group(1)) not in STOP_WORDS
        }

    @staticmethod
    def _aliases(heading: str, names: Iterable[str] = ()) -> list[list[str]]:
        heading = plain_heading(heading)
        words = fold_words(heading)
        core = [w for w in words if w not in VENDOR_WORDS] or words
        aliases = [words, core]
        for name in names:  # "alias:: Virtual Private Cloud", "aliases: [AWS Config]"
            w = fold_words(plain_heading(name))
            aliases += [w, [x for x in w if x not in VENDOR_WORDS] or w]
        m = EXPANDED.match(heading)
        if m:  # "S3 (Simple Storage Service)" → "S3", "Simple Storage Service"
            for part in m.groups():
                w = fold_words(part)
                aliases += [w, [x for x in w if x not in VENDOR_WORDS] or w]
        original = re.findall(r"[A-Za-z0-9]+", heading)
        acr = [fold(w) for w in original if len(w) >= 2 and w.isupper() and fold(w) not in VENDOR_WORDS]
        if len(core) >= 2 and acr and core[0] == acr[0]:
            aliases += [[acr[0]], core[1:]]  # "SSM Session Manager" → "SSM", "Session Manager"
        seen, out = set(), []
        for a in aliases:
            if a and tuple(a) not in seen:
                seen.add(tuple(a))
                out.append(a)
        return out

    def _match_services(self, query: str, compare: bool) -> list[tuple[str, tuple[int, int, list[str]] | None]]:
        """(heading, typo) in order of mention; typo = (first word, word count, alias) when misspelt.

        Runs on every question: word windows are indexed once, so an alias costs a dict lookup and
        the fuzzy pass only compares candidates of about its length.
        """
        qwords = fold_words(query)
        raw_upper = {fold(w) for w in re.findall(r"\b[A-Z][A-Z0-9]{1,7}\b", query)}
        span = max(self._max_alias_words, 3)
        first: dict[tuple[str, ...], int] = {}
        by_len: dict[int, list[tuple[str, int, int]]] = {}
        for m in range(1, span + 1):
            for i in range(len(qwords) - m + 1):
                window = qwords[i : i + m]
                first.setdefault(tuple(window), i)
                cand = "".join(window)
                by_len.setdefault(len(cand), []).append((cand, i, m))
        found: list[tuple[int, str, tuple[int, int, list[str]] | None]] = []
        for svc in self.services:
            best: tuple[int, tuple[int, int, list[str]] | None] | None = None
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
                                and not (m == 1 and cand in self.vocabulary and cand not in alias)
                                and len(set(cand) ^ jset) <= 2 * lim
                                and _levenshtein(cand, joined, lim) <= lim
                            ):
                                best = (i, (i, m, alias))
            if best is not None:
                found.append((best[0], svc.heading, best[1]))
        return [(h, typo) for _, h, typo in sorted(found, key=lambda x: x[0])]

    def read(self, query: str) -> QueryReading:
        f = fold(query)
        compare = any(re.search(p, f) for p in COMPARE)
        tips = any(re.search(p, f) for p in TIPS)
        matches = self._match_services(query, compare)
        services = [h for h, _ in matches]
        # "cloudwatch logs": the "## Logs" section of the CloudWatch page, not CloudWatch and Logs
        outer = [s for s in services if any(s in self._above.get(o, ()) for o in services if o != s)]
        if not compare:
            services = [s for s in services if s not in outer]
        terms = self._compared_terms(query, services) if services or compare else []
        if compare or "?" in query:
            # the two sides as the question words them ("gp2 vs gp3", "CRR ou SRR ?", "entre governance et
            # compliance"), when the notes hold them: lower-case words count after an explicit comparison
            sides = self._compared_sides(query, services, names_only=not compare)
            terms = _fewest_words([*terms, *sides])
            if not compare and len(sides) >= 2:
                compare = True
        if not compare and any(is_comparison_heading(s) for s in services) and re.search(r"\b(ou|or)\b", f):
            # "Secrets Manager ou Parameter Store pour …" names a heading that is itself a comparison
            compare = True
        if not compare and services and ("?" in query or len(services) >= 2) and len(services) + len(terms) >= 2:
            # "SES ou Pinpoint ?", "Session Manager ou bastion ?": a choice between two named things;
            # without "?" only between two services ("SES ou pinpoint", not "SES : emails ou SMS")
            compare = self._choice_next_to_service(query, services) or (
                len(services) >= 2 and not tips and bool(re.search(r"\b(et|and)\b", f))  # "conseils sur X et Y": tips
            )
        if compare and not services and len(terms) < 2:
            compare = False
        if not compare:
            terms = []
        intent = Intent.COMPARE if compare else (Intent.TIPS if tips else Intent.LOOKUP)
        bare = False
        # "c'est quoi X ?", or X alone ("athena", "et quicksight ?"): what X is, its section's opening
        if intent == "lookup" and len(services) == 1:
            named = {w for h in [services[0], *outer] for a in self._service(h).aliases for w in a}
            asked = [w for w in fold_words(query) if w not in STOP_WORDS | VENDOR_WORDS | DEFINITION_WORDS]
            # the name as typed may be misspelt ("pinpont c'est quoi"), as the catalog allowed
            bare = all(w in named or any(_levenshtein(w, x, 2) <= (len(x) >= 8) + 1 for x in named) for w in asked)
        term: list[str] = []
        if intent == "lookup" and not bare and DEFINITION.search(f):
            term = [w for w in fold_words(query) if w not in STOP_WORDS | VENDOR_WORDS | DEFINITION_WORDS]
        return QueryReading(query, intent, services, terms, bool(_ASKS_FIGURE.search(f)), bare, term)

    def _service(self, heading: str) -> Service:
        return next(x for x in self.services if x.heading == heading)

    def _compared_sides(self, query: str, services: list[str], names_only: bool) -> list[str]:
        """The things a question compares that are not named services, when the notes hold them.

        Read off the question's own syntax: "entre X et Y", "X vs Y", "X versus Y", "X ou Y". With a bare
        "ou" (names_only), a side must look like a name (an acronym, a word with a digit or a capital:
        "CRR ou SRR ?", not "yaml ou json ?", which asks which format)."""
        named = {w for s in services for a in next(x for x in self.services if x.heading == s).aliases for w in a}
        f = query.replace("\u2019", "'")
        m = _BETWEEN.search(f)
        pairs = [(m.group(1), m.group(2))] if m else []
        first = next(iter(re.findall(r"[\w.+/-]+", f)), "")  # capitalised as the question's first word only
        for m in _VERSUS.finditer(f):
            if names_only and m.group(2).lower() not in ("ou", "or"):
                continue
            pairs.append((m.group(1), m.group(3)))
        out: list[str] = []
        for left, right in pairs:
            for side in (_tail(left), _head(right)):
                words = [w for w in re.findall(r"[\w.+/-]+", side) if fold(w) not in STOP_WORDS]
                if not words or all(fold(w) in named for w in words):
                    continue  # a service already named, or nothing left
                if not all(p in self.vocabulary for w in words for p in fold_words(w)):
                    continue  # the notes never write it: not a side they can show ("SSE-KMS": "sse", "kms")
                if names_only and not (
                    any(_name_like(w, first) for w in words) or _parallel(left, right) or _two_terms(left, right)
                ):
                    continue
                out.append(" ".join(words))
        return out if len(out) >= 2 or not names_only else []

    def _choice_next_to_service(self, query: str, services: list[str]) -> bool:
        """ "X ou Y" where X or Y is a named service ("Batch ou Lambda ?"; not "yaml ou json")."""
        words = fold_words(query)
        aliases = [a for s in services for a in next(x for x in self.services if x.heading == s).aliases]
        for i, w in enumerate(words):
            if w in ("ou", "or") and any(
                words[max(0, i - len(a)) : i] == a or words[i + 1 : i + 1 + len(a)] == a for a in aliases
            ):
                return True
        return False

    def _compared_terms(self, query: str, services: list[str]) -> list[str]:
        """Things compared that are not headings: acronyms or names the notes mention ("SNS", "Lambda")."""
        named = {w for s in services for a in next(x for x in self.services if x.heading == s).aliases for w in a}
        out = []
        words = re.findall(r"\b[A-Za-z][A-Za-z0-9]+\b", query)
        for i, w in enumerate(words):
            fw = fold(w)
            if fw in named or fw in STOP_WORDS or fw in VENDOR_WORDS:
                continue
            if fw in self.upper_words or fw in self.name_words or (w.isupper() and len(w) >= 2):
                # a name in several capitalised words stays whole: "Direct Connect", "Snow Family"
                a, b = i, i + 1
                while a > 0 and words[a - 1][0].isupper() and fold(words[a - 1]) not in named | VENDOR_WORDS:
                    a -= 1
                while b < len(words) and words[b][0].isupper() and fold(words[b]) not in named | VENDOR_WORDS:
                    b += 1
                out.append(" ".join(words[a:b]) if w[0].isupper() else w)
        return list(dict.fromkeys(out))


_BETWEEN = re.compile(r"\b(?:entre|between)\s+(.+?)\s+(?:et|and)\s+(.+?)(?=\s*[?!.,;:]|$)", re.IGNORECASE)
_VERSUS = re.compile(r"([^?!.,;:]+?)\s+(vs\.?|versus|ou|or|≠)\s+([^?!.,;:]+)", re.IGNORECASE)
_NAME_LIKE = re.compile(r"[A-Z].*[A-Z]|\d|^[A-Z][a-z]+[A-Z]|^[A-Z]{2,}")
_COMPARISON_HEADING = re.compile(r"\s(?:vs\.?|versus|ou|or|≠)\s", re.IGNORECASE)
_SIDE_WORDS = 3  # a compared side is at most this many words next to "vs" / "ou"


def _name_like(word: str, first: str) -> bool:
    """An acronym, a word with a digit or inner capitals, or a capitalised word inside the question
    ("Security Group ou NACL ?"), not the question's first word ("Emails ou SMS ?")."""
    return bool(_NAME_LIKE.search(word)) or (word[:1].isupper() and word != first)


def _parallel(left: str, right: str) -> bool:
    """Two sides worded alike, the same first word then another ("git reset ou git revert", "docker stop
    ou docker kill"): two options of one thing, compared even when neither looks like a name."""
    a, b = fold_words(_tail(left)), fold_words(_head(right))
    return len(a) >= 2 and len(b) >= 2 and a[0] == b[0] and a[0] not in STOP_WORDS and a[1:] != b[1:]


def defined_term(text: str) -> list[str]:
    """The folded words of the term a line defines ([] when it defines none, or a long phrase)."""
    m = DEFINED_TERM.match(text)
    words = [w for w in fold_words(m.group(1) or m.group(2)) if w not in STOP_WORDS] if m else []
    return words if len(words) <= 3 else []  # a term, not a sentence ending in ":"


def defines(text: str, term: list[str]) -> bool:
    """The line defines what "c'est quoi X" asks: its term is X, give or take one word of the question."""
    d = set(defined_term(text))
    return bool(d) and d <= set(term) and len(d) >= max(1, len(set(term)) - 1)


def plain_heading(heading: str) -> str:
    """A heading without what comes before its words: "2. Services AWS Essentiels" → "Services AWS
    Essentiels", "🖥️ 2.1 Amazon EC2" → "Amazon EC2"."""
    return _NUMBERING.sub("", _LEADING_SYMBOLS.sub("", heading))


def is_comparison_heading(heading: str) -> bool:
    """A heading that is itself a comparison: "Secrets Manager vs Parameter Store", "Standard ou FIFO"."""
    return bool(_COMPARISON_HEADING.search(heading))


def _two_terms(left: str, right: str) -> bool:
    """Two terms of several words each ("target tracking ou step scaling ?"): compared, where single
    words ("yaml ou json ?") more often ask which one."""
    a = [w for w in fold_words(_tail(left)) if w not in STOP_WORDS]
    b = [w for w in fold_words(_head(right)) if w not in STOP_WORDS]
    return len(a) >= 2 and len(b) >= 2


def _fewest_words(terms: list[str]) -> list[str]:
    """Compared terms without repeats: a term holding all the words of a shorter one gives way to it."""
    out: list[str] = []
    for t in sorted(dict.fromkeys(terms), key=lambda x: len(x.split())):
        words = set(fold_words(t))
        if not any(set(fold_words(o)) <= words for o in out):
            out.append(t)
    return sorted(out, key=terms.index)


def _tail(text: str) -> str:
    words = [w for w in text.split() if fold(w) not in _LEAD_IN]
    return " ".join(words[-_SIDE_WORDS:])


def _head(text: str) -> str:
    words = re.sub(r"\b[dD]'", "de ", text).split()
    cut = next((i for i, w in enumerate(words) if fold(w) in _LEAD_OUT), len(words))
    return " ".join(words[:cut][:_SIDE_WORDS])


# Words that end a compared side: "EFS ou FSx pour des serveurs Windows ?" compares EFS and FSx.
_LEAD_OUT = frozenset(
    fold(w) for w in "pour dans avec sur quand si qui que de du des for in with on when if of".split()
)
_LEAD_IN = frozenset(fold(w) for w in "différence différences difference comparer compare comparaison".split())


_LEADING_SYMBOLS = re.compile(r"^[^\w(\[]+")  # emoji, arrows, bullets written before a heading's words
_NUMBERING = re.compile(r"^\s*\d+(?:\.\d+)*[.)]?\s+")
EXPANDED = re.compile(r"^\s*([^()]+?)\s*\(([^()]{2,80})\)\s*$")


def section_headings(c: Chunk) -> list[str]:
    """The headings whose section holds the chunk, shallowest first: every heading of its path but the
    file's "#" title (the same for every chunk of the file), or the title when nothing is deeper. A
    title that is the page's subject (conventions.subject: a Notion page's title) is kept."""
    own = own_path(c)  # (a Notion page's folders are shown, not sections)
    if c.title and subject(c) == c.title:
        return list(own) or [c.heading]
    path = [h for h in own if h != c.title] or list(own[-1:])
    return path or [c.heading]


def folded_words(c: Chunk) -> str:
    """The chunk's headings, breadcrumb and text as " word word ... " (folded), for `mentions`."""
    return " " + " ".join(fold_words(" ".join([*section_headings(c), *c.breadcrumb, c.text]))) + " "


def mentions(hay: str, words: list[str]) -> bool:
    """`hay` (from folded_words) contains these folded words in a row."""
    return (" " + " ".join(words) + " ") in hay
