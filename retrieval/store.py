"""The index on disk: a folder of plain files, written atomically, read defensively.

    index/
      CURRENT            name of the live generation (replaced atomically)
      .lock              held for a whole build or refresh (filelock: released if the process dies)
      g-<time>-<pid>/
        manifest.json    format version, model, corpus file hashes, index type, build report,
                         size + sha256 of every other file of the generation (truncation/tampering)
        chunks.jsonl     one chunk per line (+ the hash of its indexed text, key of the embedding cache)
        vectors.npy      float32 embeddings, row i = chunk i (the embedding cache for refreshes)
        dense.faiss      FAISS index over those vectors
        lexical/         bm25s files (JSON + .npy, no pickle)

A build writes a new generation then swaps CURRENT: a build killed midway leaves the
previous generation live, and readers never see a half-written folder. Nothing is
pickled: a tampered index can be wrong, never run code; a wrong one raises IndexCorrupt.

One module of ~450 lines on purpose: the writer and the defensive reader must agree on this
layout file by file, and the reader's checks (sizes, checksums, bounds, links, FIFOs) are
most of it; apart, a change to one would be easy to make without the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dense import DenseIndex, PartialDense
from .lexical import LexicalIndex
from .models import Chunk
from .reader import READER_VERSION

# What the index holds depends on how notes are read and their words indexed: the format version is
# derived from the source of the modules that decide it and from the Markdown parser's version, never
# bumped by hand. An index built by another reader fails `read_manifest` ("autre format") and is rebuilt.
FORMAT_SOURCES = ("reader.py", "conventions.py", "parsing.py", "text.py", "lexical.py", "models.py", "store.py")


def format_version(sources: tuple[str, ...] = FORMAT_SOURCES, reader: str = READER_VERSION) -> str:
    h = hashlib.sha256(reader.encode())
    for name in sources:
        h.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes().replace(b"\r\n", b"\n"))
    return "r-" + h.hexdigest()[:16]


FORMAT_VERSION = format_version()
POINTER = "CURRENT"
# numpy reads a .npy header with ast.literal_eval, which CPython 3.11.7 does not always survive in two
# threads at once: a refresh reading alongside another raised SystemError("AST constructor recursion
# depth mismatch") once in a CI run. Index files (.npy, bm25s) are read one at a time.
_NPY_READ = threading.Lock()


def _load_vectors(path: Path) -> np.ndarray:
    with _NPY_READ:
        return np.load(path, mmap_mode="r", allow_pickle=False)


LOCK_TIMEOUT = 120.0  # an explicit build waits this long for another build, then says so


class IndexError_(Exception):
    """Base of index problems; `str(e)` is one French sentence for the user."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexLocation(IndexError_):
    """The index folder is the notes folder, inside it, or holds it."""


class IndexBusy(IndexError_):
    """Another build (other terminal, the app) holds the lock for longer than we may wait."""


@dataclass
class StoredIndex:
    folder: Path  # the generation folder
    manifest: dict
    chunks: list[Chunk]
    hashes: list[str]
    dense: DenseIndex | PartialDense  # partial: a background build's rows embedded so far (builder.Draft)
    lexical: LexicalIndex
    vecs: np.ndarray | None = None  # memory-mapped at load: stays valid if the folder is collected later
    verified: dict = field(default_factory=dict)  # staleness cache, see corpus.is_stale

    def vectors(self) -> np.ndarray:
        if self.vecs is None:
            self.vecs = _load_vectors(self.folder / "vectors.npy")
        return self.vecs


def lock(index_dir: Path, timeout: float = LOCK_TIMEOUT):
    """An inter-process lock so that two builds (app and CLI) never write at once."""
    from filelock import FileLock

    if index_dir.exists() and not index_dir.is_dir():
        raise NotADirectoryError(f"« {index_dir} » est un fichier, pas un dossier : impossible d'y ranger l'index.")
    index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_dir / ".lock"), timeout=timeout)


@contextmanager
def locked(index_dir: Path, timeout: float = LOCK_TIMEOUT):
    """`lock` held for the block; a wait beyond `timeout` raises IndexBusy (French), not filelock.Timeout."""
    from filelock import Timeout

    lk = lock(Path(index_dir), timeout)
    try:
        lk.acquire()
    except Timeout:
        raise IndexBusy(
            f"Une autre construction de l'index est en cours depuis plus de {timeout:.0f} s : réessaie dans un moment."
        ) from None
    try:
        yield
    finally:
        lk.release()


# A generation folder is named exactly so, and holds MARKER: cleanup deletes nothing else (a notes
# subfolder "g-cloud/" next to a misplaced index was once taken for an old generation).
GENERATION = re.compile(r"g-\d{1,20}-\d{1,10}")
TEMPORARY = re.compile(r"\.tmp-g-\d{1,20}-\d{1,10}")
MARKER = ".retrieval-generation"
MAX_POINTER_BYTES = 256
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a manifest lists every note: ~100 bytes a file
MAX_JSON_DEPTH = 32


def read_small_file(path: Path, cap: int) -> bytes:
    """The bytes of a regular file of at most `cap` bytes; OSError otherwise.

    Opened without blocking and checked after opening: a FIFO put in place of an index file
    would block a plain read forever, and a link to /dev/zero would fill the memory.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path.name} n'est pas un fichier ordinaire")
        if st.st_size > cap:
            raise OSError(f"{path.name} est trop gros")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise OSError(f"{path.name} est trop gros")
        return data
    finally:
        os.close(fd)


def current_generation(index_dir: Path) -> Path | None:
    try:
        name = read_small_file(index_dir / POINTER, MAX_POINTER_BYTES).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    # Only a generation name: a tampered pointer ("../x", "/etc", ".tmp-...", "g-cloud") is never followed.
    if not GENERATION.fullmatch(name):
        return None
    return index_dir / name


def _ours(folder: Path) -> bool:
    """A folder this program made: a real folder (not a link) holding its marker file."""
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode) and stat.S_ISREG(os.lstat(folder / MARKER).st_mode)
    except OSError:
        return False


def check_location(corpus_dir: Path, index_dir: Path) -> None:
    """Refuse an index folder that is the notes folder, inside it, or holds it (IndexLocation, in French).

    The index writes and deletes its own folders: among the notes it could index itself or, worse,
    take a note folder for one of its own.
    """
    corpus, index = Path(corpus_dir).resolve(), Path(index_dir).resolve()
    if corpus == index or corpus in index.parents or index in corpus.parents:
        raise IndexLocation(
            f"Le dossier de l'index « {index} » ne peut pas être le dossier des notes « {corpus} », "
            "ni se trouver dedans, ni le contenir : choisis un dossier à part (--index ou RETRIEVAL_INDEX)."
        )


def clean_leftovers(index_dir: Path) -> None:
    """Remove what a killed build left (temporary generations, pointer files), if no build is running now."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    if not index_dir.is_dir() or not any(TEMPORARY.fullmatch(p.name) for p in index_dir.iterdir()):
        return
    try:
        with FileLock(str(index_dir / ".lock"), timeout=0):
            _remove_leftovers(index_dir)
    except (Timeout, OSError):
        pass  # a build holds the lock (and cleans up after itself), or the folder is not ours to write


def write(
    index_dir: Path,
    manifest: dict,
    chunks: list[Chunk],
    hashes: list[str],
    vectors: np.ndarray,
    dense: DenseIndex,
    lexical: LexicalIndex,
) -> StoredIndex:
    """Write a new generation and make it live. Call with `lock(index_dir)` held.

    Returns it as `read` would, but from the objects in hand: re-reading what was just
    written (hashing every file, parsing the JSONL, loading FAISS and BM25) would double
    the cost of a refresh for nothing.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    gen = index_dir / f"g-{time.time_ns()}-{os.getpid()}"
    tmp = index_dir / f".tmp-{gen.name}"
    tmp.mkdir()
    try:
        (tmp / MARKER).write_text("generation d'index de retrieval : supprimable\n", encoding="utf-8")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c, h in zip(chunks, hashes):
                f.write(json.dumps({**c.to_dict(), "hash": h}, ensure_ascii=False) + "\n")
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        dense.save(tmp / "dense.faiss")
        (tmp / "lexical").mkdir()
        lexical.save(tmp / "lexical")
        # The manifest goes last: a generation without one is incomplete by definition.
        manifest = {**manifest, "index_files": _checksums(tmp)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(tmp)
        os.replace(tmp, gen)
        ptr_tmp = index_dir / f".{POINTER}.{os.getpid()}"
        with open(ptr_tmp, "w", encoding="utf-8") as f:
            f.write(gen.name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(ptr_tmp, index_dir / POINTER)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(index_dir, keep={gen.name})
    # Memory-mapped like `read` does: the caller's array can be freed, and the mapping stays
    # valid even if this generation is collected later.
    vecs = _load_vectors(gen / "vectors.npy")
    return StoredIndex(gen, manifest, list(chunks), list(hashes), dense, lexical, vecs)


def _checksums(folder: Path) -> dict[str, list]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            out[p.relative_to(folder).as_posix()] = [p.stat().st_size, _sha256(p)]
    return out


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            try:
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
            except OSError:
                pass


def _collect_garbage(index_dir: Path, keep: set[str]) -> None:
    """Old generations go; the newest previous one stays a while for readers still loading it.

    Only folders named like a generation AND holding MARKER are ever deleted."""
    gens = sorted(
        (p for p in index_dir.iterdir() if GENERATION.fullmatch(p.name) and p.name not in keep and _ours(p)),
        key=lambda p: (int(p.name.split("-")[1]), p.name),
    )
    for p in gens[:-1]:
        shutil.rmtree(p, ignore_errors=True)
    _remove_leftovers(index_dir)


def _remove_leftovers(index_dir: Path) -> None:
    # Left by a killed build: the caller holds the lock, so no build is writing them now.
    for p in index_dir.iterdir():
        if TEMPORARY.fullmatch(p.name) and _ours(p):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{POINTER}.") and p.name[len(POINTER) + 2 :].isdigit() and p.is_file():
            with suppress(OSError):
                p.unlink()


def _read_manifest(index_dir: Path, gen: Path | None) -> dict:
    if gen is None:
        if (index_dir / POINTER).exists() or (
            index_dir.is_dir() and any(GENERATION.fullmatch(p.name) for p in index_dir.iterdir())
        ):
            raise IndexCorrupt("L'index est incomplet (pointeur CURRENT absent ou invalide).")
        raise IndexMissing("Aucun index n'a encore été construit.")
    try:
        manifest = json.loads(read_small_file(gen / "manifest.json", MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt("L'index est incomplet (génération ou manifeste absent).") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        raise IndexCorrupt("Le manifeste de l'index est illisible.") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt("L'index a été construit dans un autre format.")
    if not manifest_ok(manifest):
        raise IndexCorrupt("Le manifeste de l'index est incomplet.")
    return manifest


def _chunk_ok(c: Chunk) -> bool:
    return (
        isinstance(c.source, str)
        and _int(c.line, 1, 2**31)
        and isinstance(c.text, str)
        and isinstance(c.heading, str)
        and isinstance(c.title, str)
        and c.kind in ("bullet", "row", "header", "paragraph", "code")
        and all(isinstance(x, list) and all(isinstance(b, str) for b in x) for x in (c.breadcrumb, c.heading_path))
        and all(_int(x, 0, 2**31) for x in (c.parent_line, c.block_start, c.block_end))
        and isinstance(c.exam, bool)
        and isinstance(c.label, bool)
        and isinstance(c.wrapped, str)
    )


def _int(v, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _depth_ok(v, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(v, dict):
        return all(_depth_ok(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return all(_depth_ok(x, depth + 1) for x in v)
    return True


def manifest_ok(m: dict) -> bool:
    """Every field a reader uses, checked by type and bound: a tampered manifest is refused, never trusted."""
    files, fp, report = m.get("files"), m.get("fingerprint"), m.get("report", [])
    return (
        _depth_ok(m)
        and isinstance(m.get("model"), str)
        and isinstance(m.get("embedder", ""), str)
        and _int(m.get("n_chunks"), 0, 10**8)
        and _int(m.get("dim"), 1, 65_536)
        and m.get("index_type", "flat") in ("flat", "hnsw")
        and _int(m.get("fingerprint_ns", 0), 0, 2**63)
        and isinstance(m.get("corpus_dir", ""), str)
        and isinstance(m.get("built_at", ""), str)
        and isinstance(files, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        and isinstance(fp, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and len(v) == 2 and all(_int(x, -1, 2**63) for x in v)
            for k, v in fp.items()
        )
        and isinstance(report, list)
        and all(isinstance(x, str) for x in report)
        and isinstance(m.get("index_files"), dict)
    )


def read(index_dir: Path) -> StoredIndex:
    """The live generation, checked; raises IndexMissing / IndexCorrupt with one French sentence.

    A reader racing a build of another process can find its generation collected under
    its feet: when CURRENT moved meanwhile, it simply reads the new one.
    """
    index_dir = Path(index_dir)
    for _ in range(3):
        gen = current_generation(index_dir)
        try:
            return _read_generation(index_dir, gen)
        except IndexCorrupt:
            if current_generation(index_dir) == gen:
                raise
    return _read_generation(index_dir, current_generation(index_dir))


def _read_generation(index_dir: Path, gen: Path | None) -> StoredIndex:
    manifest = _read_manifest(index_dir, gen)
    assert gen is not None
    # Sizes and checksums first: a truncated or edited file is named before any parser sees it.
    root = gen.resolve()
    for name, expected in manifest["index_files"].items():
        if (
            not (isinstance(name, str) and isinstance(expected, list) and len(expected) == 2)
            or not name
            or "\x00" in name
            or Path(name).is_absolute()
            or ".." in Path(name).parts
        ):
            raise IndexCorrupt("Le manifeste de l'index est incomplet.")
        p = gen / name
        try:
            # A tampered manifest must not make us hash anything outside the generation
            # (a link to /etc/passwd) or a device/FIFO (/dev/zero would be read forever).
            if not p.resolve().is_relative_to(root):
                raise IndexCorrupt("Le manifeste de l'index est incomplet.")
            st = p.stat()
            if not stat.S_ISREG(st.st_mode):
                raise IndexCorrupt(f"L'index est endommagé (fichier {name} n'est pas un fichier ordinaire).")
            if st.st_size != expected[0]:
                raise IndexCorrupt(f"L'index est endommagé (fichier {name} tronqué ou modifié).")
            if _sha256(p) != expected[1]:
                raise IndexCorrupt(f"L'index est endommagé (fichier {name} modifié).")
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, from resolve()
            raise IndexCorrupt(f"L'index est incomplet (fichier {name} absent).") from None
    # The parsers below open fixed names: each must be one of the files just checked, or a
    # file left out of the manifest (say chunks.jsonl -> /dev/zero) would be read unchecked.
    present = {q.relative_to(gen).as_posix() for q in gen.rglob("*") if q.is_symlink() or not q.is_dir()}
    if present - {"manifest.json"} - manifest["index_files"].keys():
        raise IndexCorrupt("Le manifeste de l'index est incomplet.")
    try:
        chunks, hashes = [], []
        with open(gen / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                hashes.append(str(d.pop("hash")))
                c = Chunk.from_dict(d)
                if not _chunk_ok(c):
                    raise ValueError("bad chunk")
                chunks.append(c)
        vecs = _load_vectors(gen / "vectors.npy")
        if vecs.dtype != np.float32 or vecs.shape != (len(chunks), manifest["dim"]):
            raise ValueError("bad vectors")
        dense = DenseIndex.load(gen / "dense.faiss", manifest.get("index_type", "flat"))
        with _NPY_READ:
            lexical = LexicalIndex.load(gen / "lexical")
    except Exception as e:  # truncated/tampered files of any kind: one sentence, then a rebuild
        raise IndexCorrupt(f"L'index est endommagé ({e.__class__.__name__}).") from None
    n = manifest.get("n_chunks")
    if not (len(chunks) == n == dense.size == lexical.n_docs):
        raise IndexCorrupt("L'index est incohérent (nombre de passages différent selon les fichiers).")
    if dense.size and dense.index.d != manifest.get("dim"):
        raise IndexCorrupt("L'index est incohérent (dimension des vecteurs).")
    return StoredIndex(gen, manifest, chunks, hashes, dense, lexical, vecs)
