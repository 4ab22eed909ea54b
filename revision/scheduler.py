"""Spaced repetition with FSRS (the `fsrs` package): the four French grades, reviews and their next intervals.

A thin layer: FSRS decides every interval. Fuzzing (a random spread of intervals) is off so
that the interval printed on a button is the one the card really gets when it is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fsrs import Card as FsrsCard
from fsrs import Rating, ReviewLog, Scheduler, State

__all__ = ["GRADES", "Grade", "Rating", "State", "FsrsCard", "new_state", "review", "preview", "interval_label"]


@dataclass(frozen=True)
class Grade:
    label: str  # the button's word
    rating: Rating


GRADES: tuple[Grade, ...] = (
    Grade("À revoir", Rating.Again),
    Grade("Difficile", Rating.Hard),
    Grade("Bien", Rating.Good),
    Grade("Facile", Rating.Easy),
)
_BY_LABEL = {g.label: g.rating for g in GRADES}

_SCHEDULER = Scheduler(enable_fuzzing=False)


def rating_of(grade: str | int | Rating) -> Rating:
    """A grade given as its French label ("Bien"), its number (1-4) or a Rating."""
    if isinstance(grade, str):
        try:
            return _BY_LABEL[grade]
        except KeyError:
            raise ValueError(f"note inconnue : « {grade} » (attendu : {', '.join(_BY_LABEL)})") from None
    return Rating(int(grade))


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("une date sans fuseau horaire est ambiguë")
    return now.astimezone(timezone.utc)


def new_state(card_key: int, now: datetime | None = None) -> FsrsCard:
    """FSRS state of a card never reviewed, due now. `card_key` is any stable integer (fsrs wants one)."""
    return FsrsCard(card_id=card_key, due=_utc(now))


def review(state: FsrsCard, grade: str | int | Rating, now: datetime | None = None) -> tuple[FsrsCard, ReviewLog]:
    """The card's next state after this grade at `now` (the state passed in is left untouched)."""
    copy = FsrsCard.from_dict(state.to_dict())
    return _SCHEDULER.review_card(copy, rating_of(grade), review_datetime=_utc(now))


def preview(state: FsrsCard, now: datetime | None = None) -> dict[str, timedelta]:
    """Per grade label: how long until the card comes back if that grade is given now."""
    t = _utc(now)
    return {g.label: review(state, g.rating, t)[0].due - t for g in GRADES}


def interval_label(delta: timedelta) -> str:
    """A short French duration: "1 min", "10 min", "3 h", "2 j", "4 mois", "1,5 an"."""
    seconds = max(delta.total_seconds(), 0)
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(round(minutes), 1)} min"
    hours = minutes / 60
    if hours < 24:
        return f"{round(hours)} h"
    days = hours / 24
    if days < 30.5:
        return f"{round(days)} j"
    if days < 365:
        return f"{round(days / 30.4)} mois"
    years = round(days / 365, 1)
    text = f"{years:g}".replace(".", ",")
    return f"{text} an" + ("s" if years >= 2 else "")
