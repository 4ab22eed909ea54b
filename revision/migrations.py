"""The study database's schema, as numbered migrations applied in order on open (`Store.migrate`).

Never edit a migration that shipped: add the next one. `PRAGMA user_version` holds how many ran.
"""

from __future__ import annotations

# Each migration is a list of statements run in one transaction (executescript would commit on its own).
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "m001_initial",
        [
            """CREATE TABLE cards (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER NOT NULL,
                heading TEXT NOT NULL,
                breadcrumb TEXT NOT NULL,      -- JSON list
                prompt TEXT NOT NULL,
                answer TEXT NOT NULL,
                exam INTEGER NOT NULL DEFAULT 0,
                added_at REAL NOT NULL,        -- epoch seconds, UTC
                retired_at REAL,               -- set when the card left the notes; history kept
                fsrs TEXT,                     -- fsrs.Card as JSON; NULL until the first review
                due REAL,
                state INTEGER,                 -- fsrs.State; NULL while new
                reps INTEGER NOT NULL DEFAULT 0,
                lapses INTEGER NOT NULL DEFAULT 0,
                last_review REAL
            )""",
            """CREATE TABLE review_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                card_id TEXT NOT NULL REFERENCES cards(id),
                rating INTEGER NOT NULL,       -- fsrs.Rating: 1 À revoir, 2 Difficile, 3 Bien, 4 Facile
                reviewed_at REAL NOT NULL,
                duration_ms INTEGER,
                state_before INTEGER,          -- NULL: the card's first review
                state_after INTEGER NOT NULL,
                due_before REAL,
                due_after REAL NOT NULL,
                stability REAL,
                difficulty REAL
            )""",
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
    ),
    (
        "m002_indexes",
        [
            "CREATE INDEX review_log_card ON review_log(card_id)",
            "CREATE INDEX review_log_time ON review_log(reviewed_at)",
            "CREATE INDEX cards_due ON cards(retired_at, due)",
        ],
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
