"""Adding notes: one Markdown file, or a zip of a notes folder (an Obsidian vault), into the notes folder.

A zip is checked whole before anything is written: one entry that would land outside the folder
(`../`, absolute path, drive letter, link) refuses the archive, and so do the caps on entries and
on uncompressed size, measured while decompressing (the sizes written in the zip can lie). An
existing note is never overwritten silently: same bytes → "inchangé"; other bytes → kept, unless
the caller says to replace it, and then the old version goes to the trash first.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..corpus import MAX_DEPTH, looks_binary
from . import trash
from .paths import NotesError, UnsafePath, clean_relpath, inside, is_hidden, is_note, make_parents, write_new

MAX_TOTAL_BYTES = 50 * 1024 * 1024  # uncompressed Markdown per import: years of notes, not a zip bomb
# Bytes do not say how long the index takes: 0.5 MB of short bullets is 30,000 passages, 25 minutes of
# embedding. Passages are counted (as the index will cut them) and the embedding time estimated.
MAX_PASSAGES = 10_000  # per import: ~8 min of embedding on a laptop's two cores; more is not one course's notes
EMBED_PER_SECOND = 20.0  # passages encoded per second by e5 on two shared cores (README: 15 to 30)
BIG_SECONDS = 60.0  # above this estimate the page asks before importing, the command line warns
MAX_NOTES = 2_000  # Markdown files per archive
MAX_ENTRIES = 20_000  # entries of any kind (a vault's images and settings count here)
_READ = 1024 * 1024

ADDED, UNCHANGED, REPLACED, KEPT, SKIPPED = "ajouté", "inchangé", "remplacé", "gardé", "ignoré"


class ImportRefused(NotesError):
    """Refused for safety (or unreadable): nothing was written."""


@dataclass
class ImportItem:
    source: str  # path relative to the notes folder
    status: str  # ADDED | UNCHANGED | REPLACED | KEPT | SKIPPED
    reason: str = ""

    def line(self) -> str:
        return f"{self.status} : {self.source}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class ImportReport:
    items: list[ImportItem] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # files left out for not being Markdown, by extension
    archive: str = ""  # the zip's name, when it was one
    passages: int = 0  # passages of the notes read (as the index will cut them), counted before writing

    @property
    def empty(self) -> str:
        """One French line when an archive held no note at all (else "")."""
        if self.archive and not self.items:
            return f"{SKIPPED} : aucune note Markdown (.md ou .markdown) dans « {self.archive} »"
        return ""

    @property
    def changed(self) -> bool:
        """True when the notes folder changed (the index needs a refresh)."""
        return any(i.status in (ADDED, REPLACED) for i in self.items)

    @property
    def conflicts(self) -> list[str]:
        """Notes kept because the new file differs: the page asks before replacing them."""
        return [i.source for i in self.items if i.status == KEPT]

    def lines(self) -> list[str]:
        out = [i.line() for i in self.items]
        n = sum(self.ignored.values())
        if n:
            kinds = ", ".join(ext for ext, _ in self.ignored.most_common(5))
            what = "fichiers qui ne sont pas" if n > 1 else "fichier qui n'est pas"
            out.append(f"{SKIPPED} : {n} {what} du Markdown ({kinds})")
        if self.empty:
            out.append(self.empty)
        return out


@dataclass
class Preview:
    """What an import would add, measured before anything is written."""

    passages: int

    @property
    def seconds(self) -> float:
        return self.passages / EMBED_PER_SECOND

    @property
    def big(self) -> bool:
        return self.seconds > BIG_SECONDS

    def warning(self) -> str:
        return (
            f"{_n(self.passages)} passages à encoder : environ {_duration(self.seconds)} de calcul "
            "avant que les questions les trouvent."
        )


def _n(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))} min" if seconds >= 60 else f"{max(1, round(seconds))} s"


def preview(name: str, data: bytes) -> Preview:
    """Passages and embedding time of an upload (a .md or a .zip), without writing anything; raises
    ImportRefused exactly as the import would (unsafe entry, byte or passage cap)."""
    return Preview(_count_passages(_files_of(name, data)))


def _files_of(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return _decompress(zf, name, _plan(zf, name, ImportReport(archive=name)))
        except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, NotImplementedError):
            raise ImportRefused(f"« {name} » n'est pas une archive zip lisible, rien n'a été écrit.") from None
    if len(data) > MAX_TOTAL_BYTES:
        raise ImportRefused(_too_big(name))
    return [(name, data)] if is_note(name) and not looks_binary(data) else []


def _count_passages(files: list[tuple[str, bytes]], name: str = "") -> int:
    """Passages of these notes as the index cuts them; ImportRefused above MAX_PASSAGES."""
    from ..parsing import parse_markdown

    total = 0
    for rel, data in files:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = data.decode("utf-16", errors="replace")
        else:
            text = data.decode("utf-8-sig", errors="replace")
        total += len(parse_markdown(text, rel))
        if total > MAX_PASSAGES:
            break
    if total > MAX_PASSAGES:
        what = f"« {name} »" if name else "cet ajout"
        raise ImportRefused(
            f"Refusé, rien n'a été écrit : {what} donne plus de {_n(MAX_PASSAGES)} passages (maximum par ajout), soit "
            f"plus de {_duration(MAX_PASSAGES / EMBED_PER_SECOND)} d'encodage : ajoute tes notes en plusieurs fois."
        )
    return total


# ----- entry points ------------------------------------------------------------------------------
def add_path(
    notes_dir: Path | str,
    path: Path | str,
    replace: bool | Collection[str] = False,
    announce: Callable[[Preview], None] | None = None,
) -> ImportReport:
    """Add a file from disk: a .md/.markdown note, or a .zip of notes (the command line).

    `announce` is given the passages and embedding time once they are counted, before anything is written."""
    path = Path(path).expanduser()
    try:
        st = path.stat()
    except OSError:
        raise ImportRefused(f"Le fichier « {path} » est introuvable ou illisible.") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImportRefused(f"« {path} » est un dossier : donne un fichier .md ou une archive .zip de ce dossier.")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block open() forever, a device never end
        raise ImportRefused(f"« {path} » n'est pas un fichier ordinaire : rien n'a été écrit.")
    if path.name.lower().endswith(".zip"):
        with open(path, "rb") as f:
            return _add_zip(notes_dir, path.name, f, replace, announce)
    early = _name_report(path.name)
    if early is not None:  # not a note: said without reading a byte of it
        return early
    return _add_single(notes_dir, path.name, _read_capped(path), replace, announce)


def add_upload(notes_dir: Path | str, name: str, data: bytes, replace: bool | Collection[str] = False) -> ImportReport:
    """Add a file dropped on the page; `name` comes from the browser and is checked like a zip entry."""
    if name.lower().endswith(".zip"):
        return _add_zip(notes_dir, name, io.BytesIO(data), replace)
    if len(data) > MAX_TOTAL_BYTES:
        raise ImportRefused(_too_big(name))
    return _add_single(notes_dir, name, data, replace)


def _add_single(
    notes_dir: Path | str,
    name: str,
    data: bytes,
    replace: bool | Collection[str],
    announce: Callable[[Preview], None] | None = None,
) -> ImportReport:
    try:
        rel = clean_relpath(name)
    except UnsafePath as e:
        raise ImportRefused(f"Fichier refusé, rien n'a été écrit : {e}.") from None
    if "/" in rel:  # a browser sends a bare name; a path here was forged
        raise ImportRefused(f"Fichier refusé, rien n'a été écrit : « {name} » n'est pas un simple nom de fichier.")
    report = _name_report(rel) or ImportReport()
    if not report.items:
        files = _text_only([(rel, data)], report)
        report.passages = _count_passages(files, name)
        if announce is not None:
            announce(Preview(report.passages))
        _write(notes_dir, files, replace, report)
    return report


def _name_report(rel: str) -> ImportReport | None:
    """The report of a single file its name alone refuses (not Markdown, hidden), else None."""
    report = ImportReport()
    if not is_note(rel):
        report.items.append(ImportItem(rel, SKIPPED, "pas un fichier Markdown : seuls .md et .markdown sont gardés"))
    elif is_hidden(rel):
        report.items.append(ImportItem(rel, SKIPPED, "nom commençant par un point : jamais indexé"))
    return report if report.items else None


# ----- zip archives ------------------------------------------------------------------------------
def _add_zip(
    notes_dir: Path | str,
    name: str,
    fileobj: BinaryIO,
    replace: bool | Collection[str],
    announce: Callable[[Preview], None] | None = None,
) -> ImportReport:
    report = ImportReport(archive=name)
    try:
        with zipfile.ZipFile(fileobj) as zf:
            notes = _plan(zf, name, report)
            files = _decompress(zf, name, notes)
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error) as e:
        damaged = isinstance(e, (zlib.error, EOFError)) or (isinstance(e, zipfile.BadZipFile) and "CRC" in str(e))
        why = " : elle est endommagée (un fichier n'y a plus les données qui ont été compressées)" if damaged else ""
        raise ImportRefused(f"« {name} » n'est pas une archive zip lisible{why}, rien n'a été écrit.") from None
    except NotImplementedError:
        raise ImportRefused(
            f"« {name} » est compressée d'une façon que Python ne sait pas lire : refais le zip avec "
            "la compression standard, rien n'a été écrit."
        ) from None
    files = _text_only(files, report)
    report.passages = _count_passages(files, name)
    if announce is not None:
        announce(Preview(report.passages))
    _write(notes_dir, files, replace, report)
    return report


def _text_only(files: list[tuple[str, bytes]], report: ImportReport) -> list[tuple[str, bytes]]:
    """Binary files named .md are left out now, not added and then skipped by every build."""
    kept = []
    for rel, data in files:
        if looks_binary(data):
            report.items.append(ImportItem(rel, SKIPPED, "fichier binaire, pas du texte : non ajouté"))
        else:
            kept.append((rel, data))
    return kept


def entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its writer meant it.

    Flag bit 11 says UTF-8 (zipfile decoded it). Without it the spec says CP437, which is what
    Windows' French "Dossier compressé" writes (é, è, à, ç share their CP437/CP850 codes), but
    Info-ZIP and macOS write UTF-8 without the flag, and Info-ZIP may add the exact UTF-8 name in
    an extra field (0x7075). Whatever comes out is then checked like any other name.
    """
    if info.flag_bits & 0x800:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")
    unicode_name = _unicode_path_field(info.extra, raw)
    if unicode_name is not None:
        return unicode_name
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.orig_filename


def _unicode_path_field(extra: bytes, raw: bytes) -> str | None:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        # valid only while it describes this header name (the CRC of the raw name matches)
        if (
            tag == 0x7075
            and len(body) >= 5
            and body[0] == 1
            and struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw)
        ):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        i += 4 + size
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    # Unix zips keep the file mode in the high 16 bits of external_attr; a link's "content" is its target.
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _plan(zf: zipfile.ZipFile, name: str, report: ImportReport) -> list[tuple[str, zipfile.ZipInfo]]:
    """The Markdown entries to read, after checking every entry's name; raises ImportRefused."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ImportRefused(
            f"Archive refusée, rien n'a été écrit : « {name} » contient {len(infos)} entrées (maximum {MAX_ENTRIES})."
        )
    unsafe: list[str] = []
    notes: list[tuple[str, zipfile.ZipInfo]] = []
    seen: set[str] = set()
    for info in infos:
        entry = entry_name(info)
        if _is_link(info):
            unsafe.append(f"« {entry} » est un lien symbolique")
            continue
        try:
            rel = clean_relpath(entry)
        except UnsafePath as e:
            if _control_only(entry):  # macOS's "Icon\r" (a folder's icon), say: never written, left out
                report.ignored["Icon de macOS" if entry.rsplit("/", 1)[-1] == "Icon\r" else "nom illisible"] += 1
            else:
                unsafe.append(str(e))
            continue
        if info.is_dir() or entry.endswith(("/", "\\")):
            continue
        if rel.count("/") > MAX_DEPTH:
            unsafe.append(f"« {_short(rel)} » est à plus de {MAX_DEPTH} niveaux de dossiers")
            continue
        if not is_note(rel):
            report.ignored[os.path.splitext(rel)[1].lower() or "sans extension"] += 1
        elif is_hidden(rel):
            report.items.append(ImportItem(rel, SKIPPED, "dossier ou fichier caché : jamais indexé"))
        elif info.flag_bits & 0x1:
            report.items.append(ImportItem(rel, SKIPPED, "chiffré dans l'archive"))
        elif rel in seen:
            unsafe.append(f"« {rel} » apparaît deux fois")
        else:
            seen.add(rel)
            notes.append((rel, info))
    folders = {"/".join(rel.split("/")[:i]) for rel, _ in notes for i in range(1, rel.count("/") + 1)}
    unsafe += [f"« {rel} » y est à la fois un fichier et un dossier" for rel, _ in notes if rel in folders]
    if unsafe:
        n, s = len(unsafe) - 1, "s" if len(unsafe) > 2 else ""
        more = f" (et {n} autre{s} entrée{s} refusée{s})" if n else ""
        raise ImportRefused(f"Archive refusée, rien n'a été écrit : {unsafe[0]}{more}.")
    if len(notes) > MAX_NOTES:
        raise ImportRefused(
            f"Archive refusée, rien n'a été écrit : « {name} » contient {len(notes)} notes (maximum {MAX_NOTES})."
        )
    if sum(info.file_size for _, info in notes) > MAX_TOTAL_BYTES:  # an honest bomb, refused before inflating
        raise ImportRefused(_too_big(name))
    return notes


def _decompress(zf: zipfile.ZipFile, name: str, notes: list[tuple[str, zipfile.ZipInfo]]) -> list[tuple[str, bytes]]:
    """Every note in memory before the first write: a cap hit halfway leaves the folder untouched."""
    total = 0
    out = []
    for rel, info in notes:
        buf = bytearray()
        with zf.open(info) as f:
            while block := f.read(_READ):
                total += len(block)
                if total > MAX_TOTAL_BYTES:
                    raise ImportRefused(_too_big(name))
                buf += block
        out.append((rel, bytes(buf)))
    return out


def _control_only(entry: str) -> bool:
    """A name refused only for a control character, and not a note's: nothing of it would be written."""
    printable = "".join(c for c in entry if ord(c) >= 32 and c != "\x7f")
    try:
        rel = clean_relpath(printable)
    except UnsafePath:
        return False
    return not is_note(rel) and not entry.endswith(("/", "\\"))


def _short(rel: str) -> str:
    return rel if len(rel) <= 80 else rel[:40] + "…" + rel[-30:]


def _too_big(name: str) -> str:
    return (
        f"Refusé, rien n'a été écrit : « {name} » dépasse {MAX_TOTAL_BYTES // (1024 * 1024)} Mo de notes "
        "une fois décompressé."
    )


def _read_capped(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_TOTAL_BYTES + 1)
    if len(data) > MAX_TOTAL_BYTES:
        raise ImportRefused(_too_big(path.name))
    return data


# ----- writing -----------------------------------------------------------------------------------
def _write(
    notes_dir: Path | str, files: list[tuple[str, bytes]], replace: bool | Collection[str], report: ImportReport
) -> None:
    root = Path(notes_dir).expanduser().resolve()
    if not root.is_dir():
        raise ImportRefused(f"Le dossier de notes « {root} » est introuvable.")
    try:  # every destination checked before the first write
        targets = [(rel, inside(root, rel), data) for rel, data in files]
    except UnsafePath as e:
        raise ImportRefused(f"Refusé, rien n'a été écrit : {e}.") from None
    for rel, dest, data in targets:
        try:
            report.items.append(_write_one(root, rel, dest, data, replace))
        except UnsafePath as e:
            report.items.append(ImportItem(rel, SKIPPED, str(e)))
        except OSError as e:
            report.items.append(ImportItem(rel, SKIPPED, f"écriture impossible : {e.strerror or e.__class__.__name__}"))


def _write_one(root: Path, rel: str, dest: Path, data: bytes, replace: bool | Collection[str]) -> ImportItem:
    if os.path.lexists(dest):
        if dest.is_symlink() or not dest.is_file():
            return ImportItem(rel, SKIPPED, "un dossier ou un lien de ce nom existe déjà dans tes notes")
        if _same_content(dest, data):
            return ImportItem(rel, UNCHANGED)
        if not (replace is True or (not isinstance(replace, bool) and rel in replace)):
            return ImportItem(rel, KEPT, "différent de la note existante, non remplacé")
        moved = trash.remove(root, rel)  # the old version stays restorable
        try:
            write_new(dest, data)
        except OSError:  # disk full, say: the student's version goes back where it was
            with contextlib.suppress(OSError, NotesError):
                trash.restore(root, moved.target)
            raise
        return ImportItem(rel, REPLACED, f"ancienne version dans la corbeille : {moved.target}")
    make_parents(root, dest)
    write_new(dest, data)
    return ImportItem(rel, ADDED)


def _same_content(path: Path, data: bytes) -> bool:
    if path.stat().st_size != len(data):
        return False
    return path.read_bytes() == data
