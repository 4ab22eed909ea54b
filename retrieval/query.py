"""The reading of a question: which services it names, what it asks (`Intent`: lookup, compare, tips),
the sides it compares, whether it asks for a figure or what something is.

Nothing here is written for one set of notes: services are the notes' headings (`services`), a
question's words are matched against the notes' own vocabulary (`vocabulary`), its cues are patterns
on its words (`cues`) and compared things are read off its own syntax (`comparison`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .comparison import choice_next_to_service, compared_sides, compared_terms, fewest_words
from .cues import ASKS_FIGURE, CHAT_WORDS, COMPARE, DEFINITION, DEFINITION_WORDS, TIPS
from .lexical import STOP_WORDS
from .models import Chunk, Intent
from .services import VENDOR_WORDS, Service, Services, is_comparison_heading
from .text import fold, fold_words, strip_emphasis
from .vocabulary import Vocabulary, levenshtein, match_services


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
    """Services (headings) of a set of notes, their vocabulary, and the reading of a question against them."""

    def __init__(self, chunks: list[Chunk], plain: list[str] | None = None):
        """`plain`: the chunks' texts with emphasis stripped, when the caller already has them."""
        self._found = Services.of(chunks)
        self.services: list[Service] = self._found.services
        self._max_alias_words = self._found.max_alias_words
        if plain is None:
            plain = [strip_emphasis(c.text) for c in chunks]  # once: names and vocabulary both read it
        self.lexicon = Vocabulary.of(chunks, plain, self._found.headings)
        self.upper_words = self.lexicon.upper_words
        self.vocabulary = self.lexicon.words
        self.name_words = self.lexicon.name_words

    def read(self, query: str) -> QueryReading:
        f = fold(query)
        compare = any(re.search(p, f) for p in COMPARE)
        tips = any(re.search(p, f) for p in TIPS)
        matches = match_services(query, self.services, self.vocabulary, self._max_alias_words, compare)
        services = [h for h, _ in matches]
        # "cloudwatch logs": the "## Logs" section of the CloudWatch page, not CloudWatch and Logs
        above = self._found.above
        outer = [s for s in services if any(s in above.get(o, ()) for o in services if o != s)]
        if not compare:
            services = [s for s in services if s not in outer]
        named = {w for a in self._found.aliases_of(services) for w in a}
        terms = compared_terms(query, named, self.lexicon) if services or compare else []
        if compare or "?" in query:
            # the two sides as the question words them ("gp2 vs gp3", "CRR ou SRR ?", "entre governance et
            # compliance"), when the notes hold them: lower-case words count after an explicit comparison
            sides = compared_sides(query, named, self.vocabulary, names_only=not compare)
            terms = fewest_words([*terms, *sides])
            if not compare and len(sides) >= 2:
                compare = True
        if not compare and any(is_comparison_heading(s) for s in services) and re.search(r"\b(ou|or)\b", f):
            # "Secrets Manager ou Parameter Store pour …" names a heading that is itself a comparison
            compare = True
        if not compare and services and ("?" in query or len(services) >= 2) and len(services) + len(terms) >= 2:
            # "SES ou Pinpoint ?", "Session Manager ou bastion ?": a choice between two named things;
            # without "?" only between two services ("SES ou pinpoint", not "SES : emails ou SMS")
            compare = choice_next_to_service(query, self._found.aliases_of(services)) or (
                len(services) >= 2 and not tips and bool(re.search(r"\b(et|and)\b", f))  # "conseils sur X et Y": tips
            )
        if compare and not services and len(terms) < 2:
            compare = False
        if not compare:
            terms = []
        intent = Intent.COMPARE if compare else (Intent.TIPS if tips else Intent.LOOKUP)
        bare = False
        # "c'est quoi X ?", or X alone ("athena", "et quicksight ?", "ok et SSO c'est quoi déjà ?"): what X
        # is, its section's opening
        if intent == "lookup" and len(services) == 1:
            named = {w for a in self._found.aliases_of([services[0], *outer]) for w in a}
            asked = [w for w in fold_words(query) if w not in STOP_WORDS | VENDOR_WORDS | DEFINITION_WORDS | CHAT_WORDS]
            # the name as typed may be misspelt ("pinpont c'est quoi"), as the catalog allowed
            bare = all(w in named or any(levenshtein(w, x, 2) <= (len(x) >= 8) + 1 for x in named) for w in asked)
        term: list[str] = []
        if intent == "lookup" and not bare and DEFINITION.search(f):
            term = [w for w in fold_words(query) if w not in STOP_WORDS | VENDOR_WORDS | DEFINITION_WORDS]
        return QueryReading(query, intent, services, terms, bool(ASKS_FIGURE.search(f)), bare, term)
