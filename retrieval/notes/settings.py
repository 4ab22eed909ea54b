"""Which notes folder to use, remembered across restarts in a small JSON settings file.

Precedence: $RETRIEVAL_CORPUS, then the folder chosen on the page (the settings file), then
`corpus/` beside app.py. The settings file is `data/settings.json` beside app.py (git-ignored),
or the path in $RETRIEVAL_SETTINGS (tests point it to a temporary file).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from pathlib import Path

from ..config import APP_DIR, CORPUS_ENV, env, index_dir, settings_path
from ..corpus import NOTE_SUFFIXES, walk

MAX_SETTINGS_BYTES = 64 * 1024  # a folder path and a few choices: more is not a settings file of ours
MAX_SCAN = 20_000  # entries looked at when checking that a folder holds notes (a home folder is huge)
_cache: dict[Path, tuple[tuple[int, int, int], dict]] = {}
_cache_lock = threading.Lock()


def load(app_dir: Path) -> dict:
    """The settings, or {} when the file is missing, unreadable, too big, too deeply nested or not a
    JSON object (then defaults apply). Read once per change of the file (its size and times), not at
    every rerun of every page."""
    path = settings_path(app_dir)
    try:
        st = path.stat()
    except OSError:
        return {}
    stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
    with _cache_lock:
        hit = _cache.get(path)
        if hit is not None and hit[0] == stamp:
            return dict(hit[1])
    data = _read(path, st.st_size)
    with _cache_lock:
        _cache[path] = (stamp, data)
    return dict(data)


def _read(path: Path, size: int) -> dict:
    if size > MAX_SETTINGS_BYTES or not stat.S_ISREG(path.stat().st_mode):
        return {}
    try:
        data = json.loads(path.read_bytes()[: MAX_SETTINGS_BYTES + 1].decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: "[[[[…" ten thousand deep
        return {}
    return data if isinstance(data, dict) else {}


def notes_dir(app_dir: Path = APP_DIR) -> tuple[Path, str]:
    """(notes folder, where that choice comes from: "env", "settings" or "default").

    The one place that says which notes folder is used: the app's pages, `python -m retrieval` and
    `python -m revision` all ask here when no folder is given on their command line. A saved
    folder that cannot be read as a path ("~inconnu/notes", a link loop) gives the default.
    """
    typed = env(CORPUS_ENV)
    if typed:
        try:
            return Path(typed).expanduser().resolve(), "env"
        except (RuntimeError, OSError):  # ~unknown user, link loop: the path as written, found missing later
            return Path(typed), "env"
    saved = load(app_dir).get("notes_dir")
    if isinstance(saved, str) and saved and "\x00" not in saved:
        try:
            return Path(saved).expanduser().resolve(), "settings"
        except (RuntimeError, OSError):
            pass
    return (Path(app_dir) / "corpus").resolve(), "default"


def paths(app_dir: Path = APP_DIR) -> tuple[Path, Path]:
    """(notes folder, index folder): next to app.py unless $RETRIEVAL_CORPUS / $RETRIEVAL_INDEX say otherwise.

    The notes folder chosen on the page (settings file) counts like $RETRIEVAL_CORPUS, which wins.
    """
    corpus, _ = notes_dir(app_dir)
    return corpus, index_dir(app_dir)


def folder_hint(app_dir: Path = APP_DIR) -> str:
    """What to do about a notes folder that is missing, said after where the folder came from."""
    _, origin = notes_dir(app_dir)
    if origin == "env":
        return f"Vérifie le chemin de la variable {CORPUS_ENV}, qui fixe le dossier de notes."
    if origin == "settings":
        return "Choisis un autre dossier de notes dans le panneau latéral (page « Chat » ou « Mes notes »)."
    return "Crée le dossier corpus/ à côté de app.py avec tes notes .md, ou choisis un dossier dans le panneau latéral."


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


def check_notes_dir(typed: str, index: Path | None = None) -> tuple[Path | None, str]:
    """(folder, "") when `typed` names a readable folder holding Markdown notes, else (None, one French sentence).

    A folder that holds the index folder (`index`, by default the app's), or lies inside it, is
    refused: every page would refuse it next (see store.check_location).
    """
    typed = (typed or "").strip()
    if not typed:
        return None, "Indique le chemin d'un dossier de notes."
    if "\x00" in typed:
        return None, "Ce chemin contient un caractère invalide."
    try:
        folder = Path(typed).expanduser()
    except RuntimeError:  # "~inconnu/notes": no such user on this computer
        user = typed.split("/", 1)[0]
        return None, f"« {user} » ne désigne aucun utilisateur de cet ordinateur : écris le chemin complet."
    if not folder.is_absolute():
        return None, f"« {typed} » n'est pas un chemin complet : commence par / ou ~ (par exemple ~/Notes)."
    try:
        try:
            folder = folder.resolve()
        except RuntimeError:  # a link that leads back to itself
            return None, f"« {folder} » est un lien symbolique en boucle : choisis le dossier lui-même."
        if not folder.exists():
            return None, f"Le dossier « {folder} » n'existe pas."
        if not folder.is_dir():
            return None, f"« {folder} » est un fichier, pas un dossier."
        if not os.access(folder, os.R_OK | os.X_OK):
            return None, f"Le dossier « {folder} » n'est pas lisible : vérifie ses droits."
        index = Path(index).resolve() if index is not None else index_dir()
        if folder == index or folder in index.parents or index in folder.parents:
            return None, (
                f"Le dossier « {folder} » contient le dossier de l'index de l'appli ({index}) ou s'y trouve : "
                "choisis le dossier de tes notes lui-même."
            )
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
