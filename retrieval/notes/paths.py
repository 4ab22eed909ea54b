"""Note paths checked before anything touches the disk, and the few file moves allowed on them.

Every name that comes from outside (a zip entry, an uploaded file, the command line) goes
through `clean_relpath` then `inside`; every write goes through `write_new` or `move_no_clobber`,
which never overwrite a file: nothing user-made is lost, nothing lands outside the notes folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from ..corpus import NOTE_SUFFIXES

TRASH_DIR = ".corbeille"  # a dot folder: discover() never indexes it
_DRIVE = re.compile(r"^[A-Za-z]:")


class NotesError(ValueError):
    """A refusal or a missing note, as one French sentence for the page and the command line."""


class UnsafePath(NotesError):
    """A name that would write outside the notes folder, through a link, or with control characters."""


def clean_relpath(name: str) -> str:
    """A name from a zip, an upload or the command line → a "/"-separated path relative to the notes folder.

    Backslashes count as separators (Windows archives), so `..\\x.md` is caught like `../x.md`.
    Names are NFC-normalised: macOS writes accents decomposed, and "Réseau" must stay one folder.
    Raises UnsafePath for an absolute path, a drive letter, a `..` part or a control character.
    """
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise UnsafePath(f"« {_printable(name)} » contient des caractères de contrôle")
    name = unicodedata.normalize("NFC", name).replace("\\", "/")
    if name.startswith("/"):
        raise UnsafePath(f"« {name} » est un chemin absolu")
    if _DRIVE.match(name):
        raise UnsafePath(f"« {name} » désigne un lecteur Windows")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"« {name} » sortirait du dossier de notes (..)")
    if not parts:
        raise UnsafePath(f"« {name} » n'est pas un nom de fichier")
    return "/".join(parts)


def _printable(name: str) -> str:
    return "".join(c if ord(c) >= 32 and c != "\x7f" else "?" for c in name)


def is_note(rel: str) -> bool:
    return rel.lower().endswith(NOTE_SUFFIXES)


def is_hidden(rel: str) -> bool:
    """A dot part (".obsidian/", ".corbeille/", "._x.md" from macOS) or "__MACOSX/": never indexed."""
    parts = rel.split("/")
    return any(p.startswith(".") for p in parts) or parts[0] == "__MACOSX"


def inside(root: Path, rel: str) -> Path:
    """root/rel, checked: no existing part below root is a symbolic link, and the result stays under root.

    root itself may be a link (a notes folder kept in a synced drive): it is resolved first. The
    last part is not checked here: whether an existing file may be replaced is the caller's call.
    A part that exists under another Unicode form ("Réseau" written decomposed by macOS) is that
    existing file or folder: names are compared in NFC, so a note is never added twice.
    """
    root = Path(root).resolve()
    path = root
    parts = rel.split("/")
    for part in parts[:-1]:
        path = existing_name(path, part)
        if path.is_symlink():
            raise UnsafePath(f"« {rel} » passe par un lien symbolique ({path.relative_to(root)})")
    path = existing_name(path, parts[-1])
    if os.path.commonpath([root, os.path.realpath(path.parent)]) != str(root):
        raise UnsafePath(f"« {rel} » sortirait du dossier de notes")
    return path


def existing_name(folder: Path, part: str) -> Path:
    """folder/part, or the entry of folder whose name is part in another Unicode form (NFC and NFD)."""
    path = folder / part
    if os.path.lexists(path):
        return path
    want = unicodedata.normalize("NFC", part)
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name != part and unicodedata.normalize("NFC", e.name) == want:
                    return folder / e.name
    except OSError:
        pass
    return path


def make_parents(root: Path, path: Path) -> None:
    """Create the folders above path, one by one, never through a link (checked by `inside` just before)."""
    root = Path(root).resolve()
    missing = []
    for parent in path.parents:
        if parent == root or parent in root.parents:
            break
        missing.append(parent)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        if folder.is_symlink() or not folder.is_dir():
            raise UnsafePath(f"« {folder.relative_to(root)} » n'est pas un dossier ordinaire")


def free_name(path: Path) -> Path:
    """path, or "name (2).md", "name (3).md"… when it is taken: both files are kept."""
    if not os.path.lexists(path):
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
        n += 1


def new_file_mode() -> int:
    """The mode an ordinary new file gets here (0666 less the umask): what the notes already there have.

    Read from /proc on Linux, where changing the umask to read it would race with other threads."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet: a temporary file beside it, fully written, then linked in.

    The temporary name starts with a dot, so a build running meanwhile never reads a half-written
    note; its mode follows the umask, like a note saved by an editor. os.link fails when the name
    was taken meanwhile, where os.replace would overwrite it.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ajout-", suffix=".tmp")
    try:
        with contextlib.suppress(OSError):  # a FAT stick has no modes to set
            os.fchmod(fd, new_file_mode())  # mkstemp makes it 0600: other programs and synced folders could not read it
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _link_or_rename(Path(tmp), path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # our own temporary file (already gone after a rename)


def move_no_clobber(src: Path, dst: Path) -> Path:
    """Move src to dst, or to a free "(2)" name beside it; returns where it went. Never overwrites."""
    while True:
        target = free_name(dst)
        try:
            _link_or_rename(src, target)
        except FileExistsError:  # taken between free_name and the link: next name
            continue
        if os.path.lexists(src) and os.path.lexists(target) and os.path.samestat(os.lstat(src), os.lstat(target)):
            os.unlink(src)  # a second name of the same file: the content lives on at target
        return target


def _link_or_rename(src: Path, dst: Path) -> None:
    """dst becomes src's file without ever replacing an existing dst (FileExistsError when taken).

    A hard link is exclusive; on file systems without them (FAT, exFAT: a USB stick) the name is
    checked and then renamed: a race there needs another program creating that very name.
    """
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EACCES):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "exists", str(dst)) from None
        os.rename(src, dst)
