"""Progress in numbers: counts for the page, and chart data as plain lists of dicts (drawn by the page with Altair)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .cards import Card, filter_cards
from .scheduler import State
from .store import CardState, Review
from .study import Filters, is_due, local_day

STATUSES = ("Nouvelles", "En cours", "Connues")  # chart order and legend


def status(state: CardState | None) -> str:
    """New: never reviewed. Known: FSRS's Review state (graduated). In between: learning or relearning."""
    if state is None or state.fsrs is None:
        return "Nouvelles"
    return "Connues" if state.fsrs.state == State.Review else "En cours"


@dataclass
class Counts:
    due: int  # reviewed cards due now
    new: int  # new cards still allowed today (under the daily cap)
    new_total: int  # new cards in the filter, cap ignored
    learning: int
    known: int
    total: int


def counts(
    cards: Sequence[Card], states: dict[str, CardState], now: datetime, filters: Filters, new_left: int
) -> Counts:
    chosen = filter_cards(list(cards), filters.services, filters.exam_only)
    by = Counter(status(states.get(c.id)) for c in chosen)
    return Counts(
        due=sum(1 for c in chosen if is_due(states.get(c.id), now)),
        new=min(by["Nouvelles"], max(new_left, 0)),
        new_total=by["Nouvelles"],
        learning=by["En cours"],
        known=by["Connues"],
        total=len(chosen),
    )


def per_service(cards: Iterable[Card], states: dict[str, CardState]) -> list[dict]:
    """One row per (service, status) with its card count, services in note order: a stacked bar chart."""
    n: Counter[tuple[str, str]] = Counter()
    order: dict[str, int] = {}
    for c in cards:
        order.setdefault(c.heading, len(order))
        n[(c.heading, status(states.get(c.id)))] += 1
    return [
        {"service": h, "statut": s, "cartes": n[(h, s)], "ordre": STATUSES.index(s)}
        for h in order
        for s in STATUSES
        if n[(h, s)]
    ]


def reviews_per_day(reviews: Iterable[Review], now: datetime, days: int = 14) -> list[dict]:
    """Reviews per local day over the last `days` days, zeros included (the bars keep their places)."""
    today = local_day(now)
    first = today - timedelta(days=days - 1)
    n = Counter(d for r in reviews if first <= (d := local_day(r.reviewed_at)) <= today)
    dates = [first + timedelta(days=i) for i in range(days)]
    return [{"date": d.isoformat(), "jour": d.strftime("%d/%m"), "révisions": n[d]} for d in dates]
