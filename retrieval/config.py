"""Paths and environment variables: the one module that reads them.

Every entry point (the app's pages, `python -m retrieval`, `python -m revision`, the bench) takes its
default folders from here: the notes folder and the index beside app.py unless a variable says
otherwise, the user's data (settings, embedding cache, review history) under data/ beside app.py.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1]  # where app.py is: every entry point's default folders hang off it

CORPUS_ENV = "RETRIEVAL_CORPUS"  # the notes folder (wins over the folder chosen on the page)
INDEX_ENV = "RETRIEVAL_INDEX"  # the index folder
SETTINGS_ENV = "RETRIEVAL_SETTINGS"  # the settings file (tests point it to a temporary file)
MODEL_ENV = "RETRIEVAL_MODEL"  # the embedding model
CACHE_ENV = "RETRIEVAL_CACHE"  # the embedding cache's folder
DEBUG_ENV = "RETRIEVAL_DEBUG"  # set: an unexpected error shows its traceback
DB_ENV = "REVISION_DB"  # the review history (SQLite)


def env(name: str) -> str:
    """The variable's value, "" when unset."""
    return os.environ.get(name) or ""


def debug() -> bool:
    return bool(env(DEBUG_ENV))


def model_name() -> str:
    """The model $RETRIEVAL_MODEL names, "" when unset."""
    return env(MODEL_ENV)


def settings_path(app_dir: Path = APP_DIR) -> Path:
    """$RETRIEVAL_SETTINGS, else data/settings.json beside app.py."""
    return Path(env(SETTINGS_ENV) or Path(app_dir) / "data" / "settings.json").expanduser()


def index_dir(app_dir: Path = APP_DIR) -> Path:
    """The index folder: $RETRIEVAL_INDEX, else index/ beside app.py."""
    return Path(env(INDEX_ENV) or Path(app_dir) / "index").expanduser().resolve()


def cache_dir(app_dir: Path = APP_DIR) -> Path:
    """The embedding cache: $RETRIEVAL_CACHE, else data/embeddings beside the settings file."""
    raw = env(CACHE_ENV)
    return Path(raw).expanduser() if raw else settings_path(app_dir).parent / "embeddings"


def revision_db(app_dir: Path = APP_DIR) -> Path:
    """The review history: $REVISION_DB, else data/revision.sqlite3 beside app.py."""
    return Path(env(DB_ENV) or str(Path(app_dir) / "data" / "revision.sqlite3")).expanduser().resolve()
