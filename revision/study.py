"""A study session: which card comes next, and what the chat may ask of the Réviser page.

Pure functions of the cards, their stored states and a clock: the page and the tests call the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from retrieval import Chunk
from retrieval.query import ServiceCatalog
from retrieval.text import fold

from .cards import Card, cards_for_lines, filter_cards
from .store import CardState, Review

# When nothing is due and no new card is left, a card in its learning steps due within this
# delay is shown rather than making the student wait for it (Anki's "learn ahead" limit).
LEARN_AHEAD = timedelta(minutes=20)


@dataclass
class Filters:
    services: list[str] = field(default_factory=list)  # headings; empty: every service
    exam_only: bool = False
    due_only: bool = True  # False: after due and new cards, study ahead the cards not due yet


def local_day(d: datetime) -> date:
    """The student's day (local time): what "new cards per day" and "reviews per day" count in."""
    return d.astimezone().date()


def new_seen_today(reviews: Iterable[Review], now: datetime) -> int:
    """New cards shown for the first time today."""
    today = local_day(now)
    return sum(1 for r in reviews if r.first and local_day(r.reviewed_at) == today)


def is_due(state: CardState | None, now: datetime) -> bool:
    return state is not None and state.fsrs is not None and state.fsrs.due <= now


def build_queue(
    cards: Sequence[Card],
    states: dict[str, CardState],
    now: datetime,
    filters: Filters,
    new_left: int,
    priority: Sequence[str] = (),
) -> list[Card]:
    """Cards in the order to study them: asked-for first, then due (oldest first), then new (note order)."""
    by_id = {c.id: c for c in cards}
    chosen = filter_cards(list(cards), filters.services, filters.exam_only)

    def state(c: Card) -> CardState | None:
        return states.get(c.id)

    def due_at(c: Card) -> datetime:
        s = state(c)
        return s.fsrs.due if s is not None and s.fsrs is not None else now

    first = [by_id[i] for i in priority if i in by_id]  # the chat asked for these: filters do not apply
    due = sorted((c for c in chosen if is_due(state(c), now)), key=due_at)
    new = [c for c in chosen if (s := state(c)) is None or s.is_new][: max(new_left, 0)]
    rest: list[Card] = []
    if not due and not new:
        rest = sorted(
            (c for c in chosen if (s := state(c)) and s.fsrs and s.fsrs.state != 2 and s.fsrs.due <= now + LEARN_AHEAD),
            key=due_at,
        )
    if not filters.due_only:
        rest += sorted((c for c in chosen if (s := state(c)) and s.fsrs and not is_due(s, now)), key=due_at)
    return list({c.id: c for c in first + due + new + rest}.values())


def next_due(cards: Iterable[Card], states: dict[str, CardState], now: datetime, filters: Filters) -> datetime | None:
    """When the next reviewed card of the filter falls due (to say "reviens dans 8 min")."""
    chosen = filter_cards(list(cards), filters.services, filters.exam_only)
    dues = [s.fsrs.due for c in chosen if (s := states.get(c.id)) and s.fsrs and s.fsrs.due > now]
    return min(dues, default=None)


# ----- what the chat may ask ----------------------------------------------------------------------
_QUIZ = [
    re.compile(r"^(?:(?:est-ce que )?tu peux |peux-tu |fais[- ]moi |je veux |on )?"
               r"(?:interroge|interroger|teste|tester|questionne|questionner|evalue|evaluer)[- ]?(?:moi|nous)?"
               r"\s+(?:sur|en)\s+(?P<x>.+)$"),
    re.compile(r"^(?:fais[- ]moi |lance |on fait )?(?:un )?quizz?\s+(?:sur |de |d')?(?P<x>.+)$"),
    re.compile(r"^(?:(?:fais[- ]moi |je veux |on va |allez,? )?(?:revise|reviser|revisons)|revision)\s+"
               r"(?:sur |de |du |des |la |le |les |l')?(?P<x>.+)$"),
]  # fmt: skip
_ARTICLE = re.compile(r"^(?:le |la |les |l'|du |de |des |d'|un |une |mes notes (?:sur|de) )")
_TRAILING = re.compile(r"[\s?!.…,;:]+$|\s+(?:stp|svp|s'il te plait|please)$")


def quiz_target(question: str, headings: list[str]) -> str | None:
    """The service a quiz request names ("interroge-moi sur SSM", "quiz Pinpoint", "révise SES"), or None.

    The name is matched to a heading as the chat reads service names: case, accents, short names
    ("SSM" for "SSM Session Manager"), small typos. None when the question is not a quiz request
    or names no service of the notes.
    """
    text = fold(" ".join((question or "").split())).strip()
    target = None
    for rx in _QUIZ:
        m = rx.match(text)
        if m:
            target = m.group("x")
            break
    if not target:
        return None
    for _ in range(3):
        target = _TRAILING.sub("", _ARTICLE.sub("", target)).strip()
    return match_service(target, headings) if target else None


def match_service(name: str, headings: list[str]) -> str | None:
    """The heading a service name designates, read as the chat reads service names (short names, typos)."""
    if name in headings:
        return name
    catalog = _catalog(tuple(headings))
    # Here the words are a service's name: "ses" is SES, not the French possessive.
    for attempt in (name, name.upper()):
        services = catalog.read(attempt).services
        if services:
            return services[0]
    return None


_catalogs: dict[tuple[str, ...], ServiceCatalog] = {}


def _catalog(headings: tuple[str, ...]) -> ServiceCatalog:
    cat = _catalogs.get(headings)
    if cat is None:
        cat = ServiceCatalog([Chunk(source="", line=0, heading=h, breadcrumb=[], text="") for h in headings])
        _catalogs[headings] = cat
    return cat


@dataclass
class Request:
    """What the chat asks of the Réviser page (see ui/revision.py): filter on a service, or a passage's cards first."""

    service: str | None = None
    source: str | None = None
    lines: list[int] = field(default_factory=list)

    @classmethod
    def from_state(cls, value: object) -> Request | None:
        if not isinstance(value, dict):
            return None
        lines = value.get("lines") or []
        return cls(
            service=value.get("service") or None,
            source=value.get("source") or None,
            lines=[int(n) for n in lines if isinstance(n, int) or (isinstance(n, str) and n.isdigit())],
        )

    def priority(self, cards: Sequence[Card]) -> list[str]:
        if not self.source or not self.lines:
            return []
        return cards_for_lines(cards, self.source, self.lines)
