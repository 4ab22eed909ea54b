"""Finding and reading note files: a bad file is skipped or read as well as possible, never fatal."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NOTE_SUFFIXES = (".md", ".markdown")
# Hand-written notes are a few dozen KiB; beyond 2 MiB it is a dump (log, export), and
# embedding it whole would stall the build for minutes: only the start is read.
MAX_FILE_BYTES = 2 * 1024 * 1024
# A file written this close to the fingerprint could be edited again within the same
# file-system timestamp tick without its (size, mtime) changing ("racy" files, as in git):
# its content hash is checked until it is older than that.
RACY_NS = 2_000_000_000
# Folders below the notes folder that are read: hand-made notes are a few levels deep; a zip can
# hold a thousand, which no scan should follow (imports refuse more, see notes.importing).
MAX_DEPTH = 32


@dataclass
class NoteFile:
    rel: str  # posix path relative to the corpus folder
    path: Path
    sha256: str
    text: str


@dataclass
class CorpusReport:
    """What the build did with files it could not read cleanly, in French, one line per file."""

    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"ignoré : {s}" for s in self.skipped] + [f"attention : {w}" for w in self.warnings]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):  # outside, broken, or a loop
        return False


def discover(corpus_dir: Path, report: CorpusReport | None = None) -> list[tuple[str, Path]]:
    """Note files under corpus_dir, sorted by path.

    Links to directories are never followed (no loops, nothing outside the corpus); a link
    to a file is followed only when it resolves inside the corpus. Anything that is not a
    regular file (FIFO, socket, device) is skipped: opening a FIFO would block the build.
    """
    return [(rel, Path(path)) for rel, path, _ in _scan(corpus_dir, report)]


def _scan(corpus_dir: Path, report: CorpusReport | None = None) -> list[tuple[str, str, os.stat_result]]:
    """(rel, path, stat) of each note file: os.scandir and one stat per file, so that the
    staleness check run before every search stays cheap."""
    root = Path(corpus_dir).resolve()
    found: list[tuple[str, str, os.stat_result]] = []

    def skip(rel: str, why: str) -> None:
        if report is not None:
            report.skipped.append(f"{rel} ({why})")

    def entries_of(folder: str, prefix: str) -> list[os.DirEntry]:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as e:
            if prefix:
                skip(prefix.rstrip("/"), f"dossier illisible : {e.strerror or e.__class__.__name__}")
            return []

    # Depth first, in name order, with a stack of its own: a folder a thousand levels deep cannot
    # exhaust Python's recursion, and nothing below MAX_DEPTH levels is read.
    stack: list[tuple[str, int, Iterator[os.DirEntry]]] = [("", 0, iter(entries_of(str(root), "")))]
    while stack:
        prefix, depth, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        if name.startswith("."):
            continue
        rel = prefix + name
        if not _utf8(name):
            # Bytes that are not UTF-8 in a name (b"r\xe9sum\xe9.md", from an old zip or disk) come
            # through as lone surrogates, which no JSON file or web page can hold: named, skipped.
            if entry.is_dir(follow_symlinks=False) or name.lower().endswith(NOTE_SUFFIXES):
                skip(printable_name(rel), "nom de fichier qui n'est pas en UTF-8 : renomme-le pour l'indexer")
            continue
        try:
            is_link = entry.is_symlink()
            if entry.is_dir(follow_symlinks=False):
                if depth >= MAX_DEPTH:
                    skip(rel, f"dossier trop profond (plus de {MAX_DEPTH} niveaux) : non lu")
                else:
                    stack.append((rel + "/", depth + 1, iter(entries_of(entry.path, rel + "/"))))
                continue
        except OSError:
            continue
        if not name.lower().endswith(NOTE_SUFFIXES):
            continue
        if is_link:
            p = Path(entry.path)
            if not _inside(p, root):
                skip(rel, "lien symbolique hors du dossier de notes, cassé ou en boucle : non suivi")
                continue
            if p.is_dir():
                skip(rel, "lien symbolique vers un dossier : non suivi")
                continue
        try:
            st = os.stat(entry.path) if is_link else entry.stat(follow_symlinks=False)
        except OSError as err:
            skip(rel, f"illisible : {err.strerror or err.__class__.__name__}")
            continue
        if not stat.S_ISREG(st.st_mode):
            skip(rel, "pas un fichier ordinaire")
            continue
        found.append((rel, entry.path, st))
    return found


def walk(top: str | Path, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk, top-down, links never followed, but with a stack of its own and no deeper than
    max_depth folders below top (os.walk recurses in Python 3.11: a deep enough folder crashes it).
    The caller may prune `dirs` in place, as with os.walk."""
    stack = [(str(top), 0)]
    while stack:
        folder, depth = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(folder) as it:
                for e in it:
                    try:
                        (dirs if e.is_dir(follow_symlinks=False) else files).append(e.name)
                    except OSError:
                        files.append(e.name)
        except OSError:
            continue
        yield folder, dirs, files
        if depth < max_depth:
            stack.extend((os.path.join(folder, d), depth + 1) for d in reversed(dirs))


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def printable_name(name: str) -> str:
    """A file name as text that can be shown and stored: undecodable bytes become "\ufffd"."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def fingerprint(files: list[tuple[str, Path]]) -> dict[str, list[int]]:
    """Cheap change detector: (size, mtime_ns) per file, before any hashing."""
    out: dict[str, list[int]] = {}
    for rel, p in files:
        try:
            st = p.stat()
            out[rel] = [st.st_size, st.st_mtime_ns]
        except OSError:
            out[rel] = [-1, -1]
    return out


def looks_binary(data: bytes) -> bool:
    """True when a note's bytes are not text as read_note reads it (UTF-16 with its BOM is text)."""
    return data[:2] not in (b"\xff\xfe", b"\xfe\xff") and _looks_binary(data)


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    # Control bytes other than tab, newlines, form feed and escape are rare in text files.
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl > max(8, len(head) // 20)


def read_note(rel: str, path: Path, report: CorpusReport) -> NoteFile | None:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # replaced by a FIFO or folder since discovery
            report.skipped.append(f"{rel} (pas un fichier ordinaire)")
            return None
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        report.skipped.append(f"{rel} (illisible : {e.strerror or e.__class__.__name__})")
        return None
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        report.skipped.append(f"{rel} (fichier vide)")
        return None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its BOM (Windows Notepad "Unicode")
        # Above the cap data holds cap + 1 bytes, an odd count no UTF-16 decoder accepts:
        # cut to the (even) cap first, and drop a surrogate pair the cut split in two.
        cut = data[:MAX_FILE_BYTES]
        try:
            try:
                text = cut.decode("utf-16")
            except UnicodeDecodeError as e:
                if len(data) <= MAX_FILE_BYTES or e.start < len(cut) - 2:
                    raise
                text = cut[: e.start].decode("utf-16")
            report.warnings.append(f"{rel} est en UTF-16 : converti")
            return NoteFile(rel, Path(path), digest, _cap(text, rel, report, len(data)))
        except UnicodeDecodeError:
            pass
    if _looks_binary(data):
        report.skipped.append(f"{rel} (fichier binaire, pas du texte)")
        return None
    if len(data) > MAX_FILE_BYTES:
        cut = data[:MAX_FILE_BYTES]
        end = max(cut.rfind(b"\n"), cut.rfind(b"\r")) + 1
        # At a line end, unless that drops most of what was read (one huge line): then mid-line,
        # so that what the report calls indexed really is.
        data = cut[:end] if end > MAX_FILE_BYTES // 2 else cut
        report.warnings.append(f"{rel} dépasse {_size(MAX_FILE_BYTES)} : seul le début est indexé")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if len(data) >= MAX_FILE_BYTES and e.start >= len(data) - 4:
            text = data[: e.start].decode("utf-8-sig")  # the cut fell inside a character
        else:
            try:
                text = data.decode("cp1252")
                enc = "Windows-1252"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
                enc = "Latin-1"
            line = data[: e.start].count(b"\n") + 1
            report.warnings.append(f"{rel} n'est pas en UTF-8 : lu comme {enc} (premier octet invalide ligne {line})")
    return NoteFile(rel, Path(path), digest, text)


def _cap(text: str, rel: str, report: CorpusReport, nbytes: int) -> str:
    if nbytes <= MAX_FILE_BYTES:
        return text
    report.warnings.append(f"{rel} dépasse {_size(MAX_FILE_BYTES)} : seul le début est indexé")
    cut = text[: MAX_FILE_BYTES // 2]
    end = max(cut.rfind("\n"), cut.rfind("\r")) + 1
    return cut[:end] if end > len(cut) // 2 else cut


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} Mo" if n >= 1024 * 1024 else f"{n // 1024} Ko"


def file_hash(path: str | Path) -> str | None:
    """Same digest as read_note's (first MAX_FILE_BYTES + 1 bytes); None when unreadable."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(MAX_FILE_BYTES + 1)).hexdigest()
    except OSError:
        return None


def is_stale(corpus_dir: Path, manifest: dict, verified: dict | None = None) -> bool:
    """True when a note was added, removed or edited since the index described by `manifest`.

    Cost: one directory scan and one stat per file. A file is hashed only when its
    (size, mtime) differs from the build's, or when it is "racy" (written within RACY_NS
    of the fingerprint). `verified` (kept by the caller across calls) remembers stats
    whose content was checked unchanged, so a touched file is hashed once, not per search.
    """
    files = _scan(corpus_dir)
    fp = {rel: [st.st_size, st.st_mtime_ns] for rel, _, st in files}
    old_fp = manifest.get("fingerprint") or {}
    if fp.keys() != old_fp.keys():
        return True
    known = manifest.get("files") or {}
    taken = manifest.get("fingerprint_ns", 0)
    now = time.time_ns()
    for rel, p, _ in files:
        cur = fp[rel]
        if verified is not None and verified.get(rel) == cur:
            continue
        old = old_fp.get(rel)
        if cur == old and cur[1] < taken - RACY_NS:
            continue
        if rel not in known:  # skipped at build (empty, binary...): its stat alone tells
            if cur != old:
                return True
        elif file_hash(p) != known[rel]:
            return True
        if verified is not None and cur[1] < now - RACY_NS:
            verified[rel] = cur
    return False


def parse_notes(corpus_dir: Path) -> tuple[list, CorpusReport]:
    """Every note of the folder parsed into chunks, without an index or a model: (chunks, report)."""
    chunks, _, report = read_notes(corpus_dir)
    return chunks, report


def read_notes(corpus_dir: str | Path) -> tuple[list, dict[str, list[str]], CorpusReport]:
    """(chunks, lines per file, report): every note read and parsed exactly as a build reads it (discover,
    read_note, parse_markdown), for what needs the notes' structure but no search: study cards, the notes page.
    """
    from .parsing import parse_markdown
    from .reader import split_lines

    report = CorpusReport()
    chunks = []
    lines: dict[str, list[str]] = {}
    for rel, path in discover(Path(corpus_dir), report):
        note = read_note(rel, path, report)
        if note is not None:
            chunks.extend(parse_markdown(note.text, rel))
            lines[rel] = split_lines(note.text)
    return chunks, lines, report
