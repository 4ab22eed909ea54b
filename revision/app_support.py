"""What the Réviser page needs that is not a widget: where the database lives, opening it safely, the Anki file.

Kept out of ui/ so that it is testable without a browser.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from retrieval import config
from retrieval.config import DB_ENV

from .cards import Card
from .export import export_anki
from .store import Store, StoreCorrupt, StoreUnreadable, quarantine


def db_path(app_dir: Path, index_dir: Path | None = None) -> Path:
    """$REVISION_DB, else data/revision.sqlite3 beside app.py: a user-data folder, never the index folder.

    An index rebuild replaces the index folder's contents; a study history placed there would go
    with it, so such a path is refused.
    """
    path = config.revision_db(app_dir)
    if index_dir is not None:
        index = Path(index_dir).expanduser().resolve()
        if path == index or index in path.parents:
            raise StoreUnreadable(
                f"La base de révision ne peut pas être dans le dossier de l'index ({index}) : "
                f"choisis un autre chemin avec {DB_ENV}."
            )
    return path


def open_store(path: Path, now: datetime) -> tuple[Store, str]:
    """(store, notice): a database SQLite cannot read is kept aside and a new one starts, with one French sentence."""
    try:
        return Store.open(path), ""
    except StoreCorrupt:
        try:
            aside = quarantine(path, now.astimezone())
        except OSError as e:  # a read-only folder: the file stays exactly where and as it is
            raise StoreUnreadable(
                f"Ta base de révision « {path} » est illisible et son dossier ne permet pas de la mettre de côté "
                f"({e.strerror or e.__class__.__name__}) : vérifie ses droits. Rien n'a été effacé."
            ) from e
        store = Store.open(path)
        if aside is None:  # another tab moved it a moment ago and said so there
            return store, ""
        return store, (
            f"Ta base de révision était illisible : elle est gardée telle quelle sous « {aside.name} » "
            "et une nouvelle base vide commence."
        )


def apkg_bytes(cards: list[Card]) -> bytes:
    """The Anki package of these cards, built in a temporary folder (genanki writes files, the page sends bytes)."""
    with tempfile.TemporaryDirectory(prefix="revision-anki-") as tmp:
        out = Path(tmp) / "revision.apkg"
        export_anki(cards, out)
        return out.read_bytes()


def apkg_name(cards: list[Card]) -> str:
    titles = list(dict.fromkeys(c.title for c in cards if c.title))
    stem = titles[0] if len(titles) == 1 else "revision"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem).strip("-") or "revision"
    return f"{safe}.apkg"
