"""The services of a set of notes: their headings, their names and aliases.

Services are the notes' headings; their short names come from the headings' own words ("S3 (Simple
Storage Service)" gives "S3" and "Simple Storage Service") and from a page's other names (aliases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .conventions import own_path, subject
from .cues import DEFINITION_WORDS
from .lexical import STOP_WORDS
from .models import Chunk
from .text import VENDORS, fold, fold_words

VENDOR_WORDS = {*(v.lower() for v in VENDORS), "on", "sur", "de"}

_LEADING_SYMBOLS = re.compile(r"^[^\w(\[]+")  # emoji, arrows, bullets written before a heading's words
_NUMBERING = re.compile(r"^\s*\d+(?:\.\d+)*[.)]?\s+")
_COMPARISON_HEADING = re.compile(r"\s(?:vs\.?|versus|ou|or|≠)\s", re.IGNORECASE)
EXPANDED = re.compile(r"^\s*([^()]+?)\s*\(([^()]{2,80})\)\s*$")


@dataclass
class Service:
    heading: str
    aliases: list[list[str]]  # each alias as folded words


@dataclass
class Services:
    """The services (headings) of a set of notes, with what holds what."""

    headings: list[str]  # every section heading, in order of first appearance (services or not)
    services: list[Service]
    above: dict[str, set[str]]  # heading → the headings whose section holds it (its page's title too)

    @classmethod
    def of(cls, chunks: list[Chunk]) -> Services:
        headings: dict[str, None] = {}
        names: dict[str, list[str]] = {}  # a page's other names (aliases), as names of its title
        above: dict[str, set[str]] = {}
        for c in chunks:
            for h in section_headings(c):
                headings.setdefault(h, None)
                if h in c.heading_path:
                    above.setdefault(h, set()).update(c.heading_path[: c.heading_path.index(h)])
            if c.names:  # the page's other names name its subject, else its title
                names.setdefault(subject(c) or c.title or c.heading, c.names)
        # a heading of vendor words only ("AWS", a file "aws.md") names no service, nor one of question
        # words only ("## C'est quoi" on every Notion page: "c'est quoi Glue ?" names Glue alone)
        services = [
            Service(h, aliases(h, names.get(h, ())))
            for h in headings
            if any(w not in VENDOR_WORDS for w in fold_words(plain_heading(h))) and not names_nothing(h)
        ]
        # A service's own name is no short name of another: "VPC" names the page VPC, not its sections
        # "VPC Endpoints" or "VPC Peering vs Transit Gateway" (whose acronym rule would give "VPC")
        own = {tuple(s.aliases[0]): s.heading for s in services if s.aliases}
        for s in services:
            s.aliases[1:] = [a for a in s.aliases[1:] if own.get(tuple(a), s.heading) == s.heading]
        return cls(list(headings), services, above)

    def get(self, heading: str) -> Service:
        return next(x for x in self.services if x.heading == heading)

    def aliases_of(self, headings: Iterable[str]) -> list[list[str]]:
        """The aliases of these services, in order."""
        return [a for h in headings for a in self.get(h).aliases]

    @property
    def max_alias_words(self) -> int:
        return max((len(a) for s in self.services for a in s.aliases), default=1)


def aliases(heading: str, names: Iterable[str] = ()) -> list[list[str]]:
    """The names a heading goes by (folded words): its words, without vendor words, its page's other
    names, the two halves of "S3 (Simple Storage Service)", an acronym and the rest ("SSM Session Manager")."""
    heading = plain_heading(heading)
    words = fold_words(heading)
    core = [w for w in words if w not in VENDOR_WORDS] or words
    found = [words, core]
    for name in names:  # "alias:: Virtual Private Cloud", "aliases: [AWS Config]"
        w = fold_words(plain_heading(name))
        found += [w, [x for x in w if x not in VENDOR_WORDS] or w]
    m = EXPANDED.match(heading)
    if m:  # "S3 (Simple Storage Service)" → "S3", "Simple Storage Service"
        for part in m.groups():
            w = fold_words(part)
            found += [w, [x for x in w if x not in VENDOR_WORDS] or w]
    original = re.findall(r"[A-Za-z0-9]+", heading)
    acr = [fold(w) for w in original if len(w) >= 2 and w.isupper() and fold(w) not in VENDOR_WORDS]
    if len(core) >= 2 and acr and core[0] == acr[0]:
        found += [[acr[0]], core[1:]]  # "SSM Session Manager" → "SSM", "Session Manager"
    seen, out = set(), []
    for a in found:
        if a and tuple(a) not in seen:
            seen.add(tuple(a))
            out.append(a)
    return out


def names_nothing(heading: str) -> bool:
    """A heading of nothing but question words ("C'est quoi", "À quoi ça sert ?"): it names no subject."""
    return all(w in STOP_WORDS or w in DEFINITION_WORDS for w in fold_words(heading))


def plain_heading(heading: str) -> str:
    """A heading without what comes before its words: "2. Services AWS Essentiels" → "Services AWS
    Essentiels", "🖥️ 2.1 Amazon EC2" → "Amazon EC2"."""
    return _NUMBERING.sub("", _LEADING_SYMBOLS.sub("", heading))


def is_comparison_heading(heading: str) -> bool:
    """A heading that is itself a comparison: "Secrets Manager vs Parameter Store", "Standard ou FIFO"."""
    return bool(_COMPARISON_HEADING.search(heading))


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
