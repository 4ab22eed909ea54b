"""The study state in SQLite (standard library): cards, review log and settings.

- One connection per operation, WAL journal, and every write in a `BEGIN IMMEDIATE` transaction
  that reads the card's state inside it: two browser tabs grading at once both keep their
  reviews, applied one after the other.
- The schema is a numbered list of migrations, applied on open; `PRAGMA user_version` counts them.
- A card that left the notes is retired (`retired_at`), never deleted: its history stays, and it
  comes back with that history if its line comes back.
- A file SQLite cannot read as a database raises `StoreCorrupt`; `quarantine` moves it aside
  (never deletes it) so that a new, empty database can start.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import scheduler as sch
from .cards import Card
from .migrations import MIGRATIONS, SCHEMA_VERSION

DEFAULT_NEW_PER_DAY = 20
BUSY_TIMEOUT_S = 10.0


class StoreError(Exception):
    """A problem with the study database, said in one French sentence."""


class StoreCorrupt(StoreError):
    pass


class StoreUnreadable(StoreError):
    pass


@dataclass
class CardState:
    """A card's scheduling, as the store holds it."""

    id: str
    fsrs: sch.FsrsCard | None  # None: never reviewed (a new card)
    reps: int = 0
    lapses: int = 0
    retired: bool = False

    @property
    def is_new(self) -> bool:
        return self.fsrs is None

    @property
    def due(self) -> datetime | None:
        return self.fsrs.due if self.fsrs else None


@dataclass
class Review:
    """One line of the review log."""

    card_id: str
    rating: int
    reviewed_at: datetime
    first: bool  # the card's first review: it stopped being new that day


@dataclass
class SyncReport:
    added: int = 0
    retired: int = 0
    revived: int = 0  # retired cards whose line came back, history included
    active: int = 0
    kept: int = 0  # cards whose heading, parents or place changed: same card (and history) under a new id


def _ts(d: datetime) -> float:
    return d.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _key(card_id: str) -> int:
    return int(card_id[:12], 16) if card_id[:12].isalnum() else abs(hash(card_id)) % (1 << 48)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # ----- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (or create) the database and bring its schema up to date."""
        store = cls(Path(path))
        try:
            store.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnreadable(
                f"Impossible de créer le dossier de la base de révision « {store.path.parent} » "
                f"({e.strerror or e.__class__.__name__})."
            ) from e
        if store.path.is_file() and store.path.stat().st_size and not _sqlite_header(store.path):
            # Not even SQLite's header: never let SQLite open it (it would tidy a -wal file away).
            raise StoreCorrupt(f"La base de révision « {store.path.name} » n'est pas un fichier SQLite.")
        if store.path.exists() and not os.access(store.path, os.R_OK | os.W_OK):
            raise StoreUnreadable(
                f"La base de révision « {store.path} » n'est pas lisible ou pas modifiable : vérifie ses droits."
            )
        with store._connection() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnreadable(
                    f"La base de révision « {store.path.name} » vient d'une version plus récente de l'application : "
                    "mets l'application à jour."
                )
            if version == 0 and con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StoreCorrupt(f"« {store.path.name} » est une base SQLite, mais pas une base de révision.")
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StoreCorrupt(f"La base de révision « {store.path.name} » est endommagée.")
            con.execute("PRAGMA journal_mode=WAL")  # persistent: readers never wait for a writer
        store.migrate()
        return store

    def migrate(self, upto: int = SCHEMA_VERSION) -> list[str]:
        """Apply the migrations the file lacks, each in its own transaction; return their names."""
        done: list[str] = []
        if self.version() >= upto:
            return done  # the usual case: no write lock taken on every page run
        for number, (name, statements) in enumerate(MIGRATIONS[:upto], 1):
            with self._write() as con:
                if con.execute("PRAGMA user_version").fetchone()[0] >= number:
                    continue  # another process applied it first
                for sql in statements:
                    con.execute(sql)
                con.execute(f"PRAGMA user_version = {number}")
                done.append(name)
        return done

    def version(self) -> int:
        with self._connection() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

    # ----- connections -----------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e
        try:
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its first statement (no lost update)."""
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # ----- cards -----------------------------------------------------------------------------
    def sync(self, cards: Iterable[Card], now: datetime) -> SyncReport:
        """Make the stored cards those of the notes: add new ones, refresh moved ones, retire vanished ones."""
        cards = list(cards)
        t = _ts(now)
        with self._write() as con:
            known = dict(con.execute("SELECT id, retired_at FROM cards").fetchall())
            moved = _rekey(con, cards, known)
            con.executemany(
                """INSERT INTO cards (id, kind, source, line, heading, breadcrumb, prompt, answer, exam, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, source = excluded.source,
                     line = excluded.line, heading = excluded.heading, breadcrumb = excluded.breadcrumb,
                     prompt = excluded.prompt, answer = excluded.answer, exam = excluded.exam, retired_at = NULL""",
                [
                    (c.id, c.kind, c.source, c.line, c.heading, json.dumps(c.breadcrumb, ensure_ascii=False),
                     c.prompt, c.answer, int(c.exam), t)
                    for c in cards
                ],
            )  # fmt: skip
            present = {c.id for c in cards}
            gone = [(t, cid) for cid, retired in known.items() if retired is None and cid not in present]
            con.executemany("UPDATE cards SET retired_at = ? WHERE id = ?", gone)
        return SyncReport(
            added=len(present - known.keys()),
            retired=len(gone),
            revived=sum(1 for cid in present if known.get(cid) is not None),
            active=len(present),
            kept=moved,
        )

    def states(self, include_retired: bool = False) -> dict[str, CardState]:
        sql = "SELECT id, fsrs, reps, lapses, retired_at FROM cards"
        if not include_retired:
            sql += " WHERE retired_at IS NULL"
        with self._connection() as con:
            rows = con.execute(sql).fetchall()
        return {
            cid: CardState(cid, sch.FsrsCard.from_json(f) if f else None, reps, lapses, retired is not None)
            for cid, f, reps, lapses, retired in rows
        }

    def retired_count(self) -> int:
        with self._connection() as con:
            return int(con.execute("SELECT count(*) FROM cards WHERE retired_at IS NOT NULL").fetchone()[0])

    def card_row(self, card_id: str) -> dict | None:
        """What the store keeps of a card (its last known text, even once retired)."""
        with self._connection() as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM cards WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["breadcrumb"] = json.loads(out["breadcrumb"])
        return out

    def review(self, card_id: str, grade: str | int, now: datetime, duration_ms: int | None = None) -> CardState:
        """Grade a card at `now`: FSRS gives its next state, the log keeps the review."""
        with self._write() as con:
            row = con.execute("SELECT fsrs, reps, lapses FROM cards WHERE id = ?", (card_id,)).fetchone()
            if row is None:
                raise StoreError("Cette carte n'existe plus dans la base de révision.")
            f, reps, lapses = row
            before = sch.FsrsCard.from_json(f) if f else None
            after, _ = sch.review(before or sch.new_state(_key(card_id), now), grade, now)
            rating = sch.rating_of(grade)
            if before is not None and before.state == sch.State.Review and rating == sch.Rating.Again:
                lapses += 1
            con.execute(
                """UPDATE cards SET fsrs = ?, due = ?, state = ?, reps = ?, lapses = ?, last_review = ?
                   WHERE id = ?""",
                (after.to_json(), _ts(after.due), int(after.state), reps + 1, lapses, _ts(now), card_id),
            )
            con.execute(
                """INSERT INTO review_log (card_id, rating, reviewed_at, duration_ms, state_before, state_after,
                     due_before, due_after, stability, difficulty) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    card_id, int(rating), _ts(now), duration_ms, int(before.state) if before else None,
                    int(after.state), _ts(before.due) if before else None, _ts(after.due), after.stability,
                    after.difficulty,
                ),
            )  # fmt: skip
        return CardState(card_id, after, reps + 1, lapses)

    def reviews(self, since: datetime | None = None, card_id: str | None = None) -> list[Review]:
        sql = "SELECT card_id, rating, reviewed_at, state_before IS NULL FROM review_log WHERE 1"
        args: list[float | str] = []
        if since is not None:
            sql += " AND reviewed_at >= ?"
            args.append(_ts(since))
        if card_id is not None:
            sql += " AND card_id = ?"
            args.append(card_id)
        with self._connection() as con:
            rows = con.execute(sql + " ORDER BY id", args).fetchall()
        return [Review(cid, r, _dt(at), bool(first)) for cid, r, at, first in rows]

    # ----- settings --------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        with self._connection() as con:
            row = con.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as con:
            con.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def new_per_day(self) -> int:
        try:
            return max(0, int(self.setting("new_per_day") or DEFAULT_NEW_PER_DAY))
        except ValueError:
            return DEFAULT_NEW_PER_DAY


def own_key(kind: str, prompt: str, answer: str) -> tuple[str, str, str]:
    """What a card asks in its own words, without where it stands (heading, parents, file, line).

    A cloze: its line with the mask, and the masked words; a table cell: "row — column ?" and the
    cell; a list: its label (its children may change, as its id allows). Card ids hash the heading
    and parents too, so a renamed heading gives new ids: this key finds the card again.
    """
    if kind == "list":
        return (kind, prompt.rsplit(" › ", 1)[-1], "")
    return (kind, prompt, answer)


def _rekey(con: sqlite3.Connection, cards: list[Card], known: dict[str, float | None]) -> int:
    """Give the cards that left the notes (now, or retired before) the new id of the card that asks
    the same thing in the same words, moving their review log along: a heading or parent renamed,
    a bullet moved under another parent or to another file keeps its history. A list whose label
    was renamed is found by its children. Ties go to the card that was active, then same file, then
    nearest line. `known` is updated in place; returns how many cards were carried over."""
    present = {c.id for c in cards}
    new = [c for c in cards if c.id not in known]
    if not new:
        return 0
    rows = con.execute("SELECT id, retired_at, kind, source, line, prompt, answer FROM cards").fetchall()
    left = [r for r in rows if r[0] not in present]
    if not left:
        return 0
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    keys = (
        lambda kind, prompt, answer: own_key(kind, prompt, answer),
        lambda kind, prompt, answer: (kind, answer) if kind == "list" else None,  # a list's label renamed
    )
    for key in keys:
        pool: dict[tuple, list[tuple]] = {}
        for r in left:
            k = key(r[2], r[5], r[6])
            if k is not None and r[0] not in taken:
                pool.setdefault(k, []).append(r)
        for c in new:
            if any(c.id == n for _, n in pairs):
                continue
            k = key(c.kind, c.prompt, c.answer)
            candidates = [r for r in pool.get(k, []) if r[0] not in taken] if k is not None else []
            if not candidates:
                continue
            best = min(candidates, key=lambda r: (r[1] is not None, r[3] != c.source, abs(r[4] - c.line)))
            taken.add(best[0])
            pairs.append((best[0], c.id))
    if pairs:
        con.execute("PRAGMA defer_foreign_keys = ON")  # the log and its card change id together
        for old, new_id in pairs:
            con.execute("UPDATE review_log SET card_id = ? WHERE card_id = ?", (new_id, old))
            con.execute("UPDATE cards SET id = ? WHERE id = ?", (new_id, old))
            known[new_id] = known.pop(old)
    return len(pairs)


def _sqlite_header(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return True  # unreadable: sqlite's own error says so


def _translate(e: sqlite3.Error, path: Path) -> StoreError:
    msg = str(e).lower()
    if isinstance(e, sqlite3.DatabaseError) and ("not a database" in msg or "malformed" in msg or "corrupt" in msg):
        return StoreCorrupt(
            f"La base de révision « {path.name} » est illisible (fichier endommagé ou d'un autre format)."
        )
    if "locked" in msg or "busy" in msg:
        return StoreError(
            "La base de révision est occupée par un autre onglet ou programme : réessaie dans un instant."
        )
    if "readonly" in msg or "unable to open" in msg or "disk i/o" in msg:
        return StoreUnreadable(
            f"La base de révision « {path} » ne peut pas être ouverte en écriture : vérifie ses droits."
        )
    return StoreError(f"Erreur de la base de révision ({e.__class__.__name__}) : réessaie.")


def quarantine(path: str | Path, now: datetime | None = None) -> Path | None:
    """Move a database SQLite cannot read aside, as `<name>.corrompu-<date>`, with its -wal/-shm files.

    Never deletes anything. Returns the new path, or None when the file was already gone (another
    tab moved it first).
    """
    path = Path(path)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrompu-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrompu-{stamp}-{n}")
    try:
        path.rename(aside)
    except FileNotFoundError:
        return None
    for suffix in ("-wal", "-shm", "-journal"):  # a journal must never be replayed into the new database
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    return aside
