"""Which notes folder to use, remembered across restarts in a small JSON settings file.

Precedence: $RETRIEVAL_CORPUS, then the folder chosen on the page (the settings file), then
`corpus/` beside app.py. The settings file is `data/settings.json` beside app.py (git-ignored),
or the path in $RETRIEVAL_SETTINGS (tests point it to a temporary file).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from ..corpus import NOTE_SUFFIXES, walk

CORPUS_ENV = "RETRIEVAL_CORPUS"
SETTINGS_ENV = "RETRIEVAL_SETTINGS"
MAX_SCAN = 20_000  # entries looked at when checking that a folder holds notes (a home folder is huge)
APP_DIR = Path(__file__).resolve().parents[2]  # where app.py is: every entry point's default folders hang off it


def settings_path(app_dir: Path) -> Path:
    return Path(os.environ.get(SETTINGS_ENV) or Path(app_dir) / "data" / "settings.json").expanduser()


def load(app_dir: Path) -> dict:
    """The settings, or {} when the file is missing, unreadable or not a JSON object (then defaults apply)."""
    try:
        data = json.loads(settings_path(app_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def notes_dir(app_dir: Path = APP_DIR) -> tuple[Path, str]:
    """(notes folder, where that choice comes from: "env", "settings" or "default").

    The one place that says which notes folder is used: the app's pages, `python -m retrieval` and
    `python -m revision` all ask here when no folder is given on their command line.
    """
    env = os.environ.get(CORPUS_ENV)
    if env:
        return Path(env).expanduser().resolve(), "env"
    saved = load(app_dir).get("notes_dir")
    if isinstance(saved, str) and saved:
        return Path(saved).expanduser().resolve(), "settings"
    return (Path(app_dir) / "corpus").resolve(), "default"


def save_notes_dir(app_dir: Path, folder: Path) -> None:
    """Remember the folder: the file is written beside itself then renamed, so it is never half-written."""
    path = settings_path(app_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**load(app_dir), "notes_dir": str(Path(folder).resolve())}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def check_notes_dir(typed: str) -> tuple[Path | None, str]:
    """(folder, "") when `typed` names a readable folder holding Markdown notes, else (None, one French sentence)."""
    typed = (typed or "").strip()
    if not typed:
        return None, "Indique le chemin d'un dossier de notes."
    if "\x00" in typed:
        return None, "Ce chemin contient un caractère invalide."
    folder = Path(typed).expanduser()
    if not folder.is_absolute():
        return None, f"« {typed} » n'est pas un chemin complet : commence par / ou ~ (par exemple ~/Notes)."
    try:
        folder = folder.resolve()
        if not folder.exists():
            return None, f"Le dossier « {folder} » n'existe pas."
        if not folder.is_dir():
            return None, f"« {folder} » est un fichier, pas un dossier."
        if not os.access(folder, os.R_OK | os.X_OK):
            return None, f"Le dossier « {folder} » n'est pas lisible : vérifie ses droits."
        if not _holds_markdown(folder):
            return None, f"Le dossier « {folder} » ne contient aucune note Markdown (.md ou .markdown)."
    except OSError as e:
        return None, f"Le dossier « {folder} » n'est pas lisible ({e.strerror or e.__class__.__name__})."
    return folder, ""


def _holds_markdown(folder: Path) -> bool:
    """A note anywhere below, as the index would find it (dot folders and linked folders are skipped)."""
    seen = 0
    for _, dirs, files in walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(not f.startswith(".") and f.lower().endswith(NOTE_SUFFIXES) for f in files):
            return True
        seen += len(dirs) + len(files)
        if seen > MAX_SCAN:
            return False
    return False
