"""Notes folder → index generation, fully or incrementally.

Incremental means: files whose hash did not change keep their chunks without being
re-parsed, and only chunks whose indexed text is new are embedded (vectors are reused by
text hash). Lexical and FAISS structures are rebuilt whole from those parts, and that, not
embedding, is what a small refresh costs: editing one file of a 10,000-chunk corpus (2 cores,
9 chunks embedded) took ~1.25 s, of which FAISS HNSW ~0.65 s (up to 2 s under load), BM25
~0.18 s, index texts ~0.17 s, writing the generation ~0.16 s, embedding 0.02 s. The new
generation is handed back from memory (store.write), not re-read from disk (~0.13 s saved).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .corpus import CorpusReport, discover, fingerprint, is_stale, read_note
from .dense import DenseIndex, index_type_for
from .embedding import Embedder
from .lexical import LexicalIndex
from .models import Chunk
from .parsing import index_text, parse_markdown

# (stage, done, total): stages are "lecture", "embeddings", "index"
BuildProgress = Callable[[str, int, int], None]


@dataclass
class BuildStats:
    files: int = 0
    files_parsed: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    report: CorpusReport = field(default_factory=CorpusReport)


def text_hash(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:20]


def build(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    previous: store.StoredIndex | None = None,
    progress: BuildProgress | None = None,
    *,
    timeout: float = store.LOCK_TIMEOUT,
) -> tuple[store.StoredIndex, BuildStats]:
    """Build a new generation (reusing `previous` where files are unchanged), make it live and return it.

    The whole build holds the index lock, so that two processes never both embed, and a
    wait beyond `timeout` raises store.IndexBusy.
    """
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    _check_corpus(corpus_dir, index_dir)
    with store.locked(index_dir, timeout):
        return _build_locked(corpus_dir, index_dir, embedder, previous, progress)


def refresh(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    current: store.StoredIndex | None,
    progress: BuildProgress | None = None,
    *,
    timeout: float = store.LOCK_TIMEOUT,
) -> tuple[store.StoredIndex, BuildStats | None]:
    """The index brought up to date with the notes: (live index, stats or None when nothing was built).

    Under the lock, the live generation is re-read (another process may have refreshed it
    while we waited) and staleness is checked again, so that a change is embedded once.
    An unreadable live index, or one made with another model, is rebuilt in full.
    """
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    _check_corpus(corpus_dir, index_dir)
    with store.locked(index_dir, timeout):
        latest = current
        if current is None or store.current_generation(index_dir) != current.folder:
            try:
                latest = store.read(index_dir)
            except store.IndexError_:
                latest = None
        if latest is not None and latest.manifest.get("model") != embedder.name:
            latest = None
        if latest is not None and not is_stale(corpus_dir, latest.manifest, latest.verified):
            return latest, None
        return _build_locked(corpus_dir, index_dir, embedder, latest, progress)


def _check_corpus(corpus_dir: Path, index_dir: Path | None = None) -> None:
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"Le dossier de notes « {corpus_dir} » est introuvable.")
    if index_dir is not None:
        store.check_location(corpus_dir, index_dir)


def _build_locked(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    previous: store.StoredIndex | None,
    progress: BuildProgress | None,
) -> tuple[store.StoredIndex, BuildStats]:
    t0 = time.perf_counter()
    stats = BuildStats()
    report = stats.report
    _check_corpus(corpus_dir)
    files = discover(corpus_dir, report)
    stats.files = len(files)
    # Stat before reading: an edit made while we read then shows as a changed stat later,
    # never as an unchanged stat over content we did not index.
    fingerprint_ns = time.time_ns()
    fp = fingerprint(files)

    prev_files: dict[str, str] = {}
    prev_by_source: dict[str, list[int]] = {}
    if previous is not None and previous.manifest.get("model") != embedder.name:
        previous = None  # vectors of another model are never reused
    if previous is not None:
        prev_files = previous.manifest.get("files", {})
        for i, c in enumerate(previous.chunks):
            prev_by_source.setdefault(c.source, []).append(i)

    chunks: list[Chunk] = []
    file_hashes: dict[str, str] = {}
    for n, (rel, path) in enumerate(files, 1):
        note = read_note(rel, path, report)
        if progress:
            progress("lecture", n, len(files))
        if note is None:
            continue
        file_hashes[rel] = note.sha256
        if previous is not None and prev_files.get(rel) == note.sha256 and rel in prev_by_source:
            chunks.extend(previous.chunks[i] for i in prev_by_source[rel])
            continue
        try:
            chunks.extend(parse_markdown(note.text, rel))
            stats.files_parsed += 1
        except Exception as e:  # the parser is total by design; this is a last guard for one file
            report.skipped.append(f"{rel} (erreur de lecture : {e.__class__.__name__})")
            file_hashes.pop(rel, None)

    texts = [index_text(c) for c in chunks]
    hashes = [text_hash(t) for t in texts]
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    cache: dict[str, int] = {}
    prev_vecs = np.zeros((0, embedder.dim), dtype=np.float32)  # only read through `cache`, empty unless filled
    if previous is not None and prev_files:
        try:
            prev_vecs = previous.vectors()
            if prev_vecs.shape == (len(previous.hashes), embedder.dim):
                cache = {h: i for i, h in enumerate(previous.hashes)}
        except (OSError, ValueError):  # cache unreadable: embed everything, still correct
            cache = {}
    # Each distinct new text is embedded once, however many chunks share it.
    todo: dict[str, list[int]] = {}
    for i, h in enumerate(hashes):
        if h in cache:
            vectors[i] = prev_vecs[cache[h]]
        else:
            todo.setdefault(h, []).append(i)
    stats.reused = len(chunks) - sum(len(v) for v in todo.values())
    if todo:
        emb_progress = (lambda d, t: progress("embeddings", d, t)) if progress else None
        groups = list(todo.values())
        new = embedder.encode([texts[g[0]] for g in groups], progress=emb_progress)
        for g, v in zip(groups, new):
            vectors[g] = v
    stats.embedded = len(todo)

    if progress:
        progress("index", 0, 1)
    kind = index_type_for(len(chunks))
    dense = DenseIndex.build(vectors, kind)
    lexical = LexicalIndex.build(texts)
    manifest = {
        "format_version": store.FORMAT_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "index_type": kind,
        "n_chunks": len(chunks),
        "corpus_dir": str(corpus_dir.resolve()),
        "files": file_hashes,
        "fingerprint": fp,
        "fingerprint_ns": fingerprint_ns,
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "report": report.lines(),
    }
    stored = store.write(index_dir, manifest, chunks, hashes, vectors, dense, lexical)
    if progress:
        progress("index", 1, 1)
    stats.chunks = len(chunks)
    stats.seconds = time.perf_counter() - t0
    return stored, stats
