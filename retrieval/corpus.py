"""Finding and reading note files: a bad file is skipped or read as well as possible, never fatal."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

NOTE_SUFFIXES = (".md", ".markdown")
MAX_FILE_BYTES = 5 * 1024 * 1024  # notes are text: beyond 5 MiB only the start is read


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
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def discover(corpus_dir: Path, report: CorpusReport | None = None) -> list[tuple[str, Path]]:
    """Note files under corpus_dir, sorted; links that loop or leave the corpus are not followed."""
    root = Path(corpus_dir).resolve()
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(NOTE_SUFFIXES):
                continue
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink() and not (_inside(p, root) and p.exists()):
                if report is not None:
                    report.skipped.append(f"{rel} (lien symbolique hors du dossier de notes ou cassé)")
                continue
            found.append((rel, p))
    return found


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


def read_note(rel: str, path: Path, report: CorpusReport) -> NoteFile | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        report.skipped.append(f"{rel} (illisible : {e.strerror or e.__class__.__name__})")
        return None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_FILE_BYTES:
        data = data[:MAX_FILE_BYTES]
        data = data[: data.rfind(b"\n") + 1] or data
        report.warnings.append(f"{rel} dépasse {MAX_FILE_BYTES // (1024 * 1024)} Mo : seul le début est indexé")
    if not data.strip():
        report.skipped.append(f"{rel} (fichier vide)")
        return None
    if b"\x00" in data[:8192]:
        report.skipped.append(f"{rel} (fichier binaire, pas du texte)")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            enc = "Windows-1252"
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            enc = "Latin-1"
        report.warnings.append(f"{rel} n'est pas en UTF-8 : lu comme {enc}")
    return NoteFile(rel, path, digest, text)


def file_hash(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(MAX_FILE_BYTES + 1)).hexdigest()
    except OSError:
        return None
