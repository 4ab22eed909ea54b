"""The index on disk: a folder of plain files, written atomically, read defensively.

    index/
      CURRENT            name of the live generation (replaced atomically)
      .lock              held while a build writes
      g-<time>-<pid>/
        manifest.json    format version, model, corpus file hashes, index type, build report
        chunks.jsonl     one chunk per line (+ the hash of its indexed text, key of the embedding cache)
        vectors.npy      float32 embeddings, row i = chunk i (the embedding cache for refreshes)
        dense.faiss      FAISS index over those vectors
        lexical/         bm25s files (JSON + .npy, no pickle)

A build writes a new generation then swaps CURRENT: a build killed midway leaves the
previous generation live, and readers never see a half-written folder.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dense import DenseIndex
from .lexical import LexicalIndex
from .models import Chunk

FORMAT_VERSION = 1
POINTER = "CURRENT"


class IndexError_(Exception):
    """Base of index problems; `str(e)` is one French sentence for the user."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


@dataclass
class StoredIndex:
    folder: Path  # the generation folder
    manifest: dict
    chunks: list[Chunk]
    hashes: list[str]
    dense: DenseIndex
    lexical: LexicalIndex

    def vectors(self) -> np.ndarray:
        return np.load(self.folder / "vectors.npy", mmap_mode="r", allow_pickle=False)


def lock(index_dir: Path, timeout: float = 600):
    """An inter-process lock so that two builds (app and CLI) never write at once."""
    from filelock import FileLock

    index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_dir / ".lock"), timeout=timeout)


def current_generation(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return index_dir / name


def write(index_dir: Path, manifest: dict, chunks: list[Chunk], hashes: list[str],
          vectors: np.ndarray, dense: DenseIndex, lexical: LexicalIndex) -> Path:
    """Write a new generation and make it live. Call with `lock(index_dir)` held."""
    index_dir.mkdir(parents=True, exist_ok=True)
    gen = index_dir / f"g-{time.time_ns()}-{os.getpid()}"
    tmp = index_dir / f".tmp-{gen.name}"
    tmp.mkdir()
    try:
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c, h in zip(chunks, hashes):
                f.write(json.dumps({**c.to_dict(), "hash": h}, ensure_ascii=False) + "\n")
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        dense.save(tmp / "dense.faiss")
        (tmp / "lexical").mkdir()
        lexical.save(tmp / "lexical")
        # The manifest goes last: a generation without one is incomplete by definition.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(tmp)
        os.replace(tmp, gen)
        ptr_tmp = index_dir / f".{POINTER}.{os.getpid()}"
        ptr_tmp.write_text(gen.name, encoding="utf-8")
        os.replace(ptr_tmp, index_dir / POINTER)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(index_dir, keep={gen.name})
    return gen


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            try:
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
            except OSError:
                pass


def _collect_garbage(index_dir: Path, keep: set[str]) -> None:
    """Old generations go; the newest previous one stays a while for readers still loading it."""
    gens = sorted((p for p in index_dir.glob("g-*") if p.is_dir() and p.name not in keep), key=lambda p: p.name)
    for p in gens[:-1]:
        shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(".tmp-g-*"):
        # Left by a killed build; only remove when old enough not to be a build in progress.
        try:
            if time.time() - p.stat().st_mtime > 3600:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def read_manifest(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    if gen is None:
        if index_dir.exists() and any(index_dir.glob("g-*")):
            raise IndexCorrupt("L'index est incomplet (pointeur CURRENT absent ou illisible).")
        raise IndexMissing("Aucun index n'a encore été construit.")
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt("L'index est incomplet (manifeste absent).") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise IndexCorrupt("Le manifeste de l'index est illisible.") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt("L'index a été construit dans un autre format.")
    return manifest


def read(index_dir: Path) -> StoredIndex:
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    assert gen is not None
    try:
        chunks, hashes = [], []
        with open(gen / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                hashes.append(str(d.pop("hash")))
                chunks.append(Chunk.from_dict(d))
        dense = DenseIndex.load(gen / "dense.faiss", manifest.get("index_type", "flat"))
        lexical = LexicalIndex.load(gen / "lexical")
    except Exception as e:  # truncated/tampered files of any kind: one sentence, then a rebuild
        raise IndexCorrupt(f"L'index est endommagé ({e.__class__.__name__}).") from None
    n = manifest.get("n_chunks")
    if not (len(chunks) == n == dense.size == lexical.n_docs):
        raise IndexCorrupt("L'index est incohérent (nombre de passages différent selon les fichiers).")
    if dense.size and dense.index.d != manifest.get("dim"):
        raise IndexCorrupt("L'index est incohérent (dimension des vecteurs).")
    return StoredIndex(gen, manifest, chunks, hashes, dense, lexical)
