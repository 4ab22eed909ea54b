"""Removing a note moves it to `<notes>/.corbeille/<same path>`; restoring moves it back. Nothing is deleted.

The trash is a dot folder inside the notes folder: the index never reads it (corpus.discover skips
dot names), a move stays on the same disk, and Obsidian hides it too.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..corpus import MAX_DEPTH, walk
from .paths import TRASH_DIR, NotesError, clean_relpath, inside, is_hidden, is_note, make_parents, move_no_clobber


@dataclass
class TrashItem:
    source: str  # path inside the trash, "/"-separated: the note's path when it was removed
    size: int  # bytes
    modified: datetime  # the note's last change (a move keeps it)
    removed: datetime  # when it was moved here (the inode's change time: a move or link sets it)


@dataclass
class Moved:
    source: str  # where the note was, relative to the notes folder
    target: str  # where it is now, relative to the notes folder
    renamed: bool = False  # the usual place was taken: kept both, this one under a "(2)" name


def _root(notes_dir: Path | str) -> Path:
    root = Path(notes_dir).expanduser().resolve()
    if not root.is_dir():
        raise NotesError(f"Le dossier de notes « {root} » est introuvable.")
    return root


def remove(notes_dir: Path | str, source: str) -> Moved:
    """Move the note `source` (relative to the notes folder) into the trash; returns where it went."""
    root = _root(notes_dir)
    rel = clean_relpath(source)
    if is_hidden(rel) or not is_note(rel):
        raise NotesError(f"« {rel} » n'est pas une note de ton dossier (fichier .md ou .markdown).")
    src = inside(root, rel)
    if not os.path.lexists(src) or src.is_dir():
        raise NotesError(f"« {rel} » n'est pas dans tes notes.")
    rel = src.relative_to(root).as_posix()  # its name as on disk (a decomposed "é" stays as it was written)
    dst = inside(root, f"{TRASH_DIR}/{rel}")
    make_parents(root, dst)
    # Removed twice (two versions of one note): the older one keeps its name, this one gets "(2)".
    where = move_no_clobber(src, dst)
    return Moved(rel, where.relative_to(root).as_posix(), where != dst)


def restore(notes_dir: Path | str, source: str) -> Moved:
    """Put `source` (a path inside the trash) back where it was; a note that reappeared there is kept,
    and the restored one takes a "(2)" name beside it."""
    root = _root(notes_dir)
    rel = clean_relpath(source)
    if rel.split("/")[0] == TRASH_DIR:  # the path as `remove` reported it
        rel = rel.split("/", 1)[1] if "/" in rel else ""
    src = inside(root, f"{TRASH_DIR}/{rel}") if rel else None
    if src is None or not os.path.lexists(src) or src.is_dir():
        raise NotesError(f"« {rel or source} » n'est pas dans la corbeille.")
    rel = src.relative_to(root / TRASH_DIR).as_posix()  # back under the name it had on disk
    dst = inside(root, rel)
    make_parents(root, dst)
    where = move_no_clobber(src, dst)
    return Moved(f"{TRASH_DIR}/{rel}", where.relative_to(root).as_posix(), where != dst)


def items(notes_dir: Path | str) -> list[TrashItem]:
    """What the trash holds, most recently removed first. Links inside it are listed, never followed."""
    root = Path(notes_dir).expanduser().resolve()
    trash = root / TRASH_DIR
    if trash.is_symlink() or not trash.is_dir():
        return []
    out: list[TrashItem] = []
    for folder, dirs, files in walk(trash, MAX_DEPTH):  # never into linked folders, never deeper than a note
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if name.startswith(".") or not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue  # a temporary file of a move in progress, a FIFO…
            rel = path.relative_to(trash).as_posix()
            out.append(
                TrashItem(rel, st.st_size, datetime.fromtimestamp(st.st_mtime), datetime.fromtimestamp(st.st_ctime))
            )
    out.sort(key=lambda t: (-t.removed.timestamp(), t.source))
    return out
