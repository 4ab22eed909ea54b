"""The public entry point: build or load an index, keep it fresh, search it."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from . import store
from .builder import BuildProgress, BuildStats, build
from .corpus import discover, file_hash, fingerprint
from .embedding import Embedder, load_embedder, resolve_model_name
from . import fusion
from .lexical import tokenize
from .models import Answer, Chunk, Hit


class Retriever:
    def __init__(self, index_dir: Path, stored: store.StoredIndex, embedder: Embedder, corpus_dir: Path | None = None):
        self.index_dir = Path(index_dir)
        self._stored = stored
        self.embedder = embedder
        self.corpus_dir = Path(corpus_dir) if corpus_dir else Path(stored.manifest.get("corpus_dir", "corpus"))
        self.last_build: BuildStats | None = None
        self.auto_refresh = True
        self._refresh_lock = threading.Lock()

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, corpus_dir, index_dir, model: str | None = None,
              progress: BuildProgress | None = None) -> "Retriever":
        """Build the index of every note under corpus_dir into index_dir (a full build)."""
        embedder = load_embedder(model)
        _, stats = build(Path(corpus_dir), Path(index_dir), embedder, None, progress)
        r = cls(Path(index_dir), store.read(Path(index_dir)), embedder, Path(corpus_dir))
        r.last_build = stats
        return r

    @classmethod
    def load(cls, index_dir) -> "Retriever":
        """Load a built index (raises store.IndexMissing / store.IndexCorrupt, French messages)."""
        stored = store.read(Path(index_dir))
        embedder = load_embedder(stored.manifest["model"])
        return cls(Path(index_dir), stored, embedder)

    @classmethod
    def open(cls, corpus_dir, index_dir, model: str | None = None,
             progress: BuildProgress | None = None) -> tuple["Retriever", str]:
        """Load the index, or build it when missing, broken or made with another model.

        Returns the retriever and a French sentence saying what was done ("" when it just loaded).
        """
        corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
        wanted = resolve_model_name(model)
        notice = ""
        try:
            stored = store.read(index_dir)
            if stored.manifest.get("model") != wanted:
                notice = f"L'index avait été construit avec un autre modèle ({stored.manifest.get('model')}) : reconstruction."
            else:
                r = cls(index_dir, stored, load_embedder(wanted), corpus_dir)
                r.refresh(progress)
                return r, ""
        except store.IndexMissing:
            notice = "Premier démarrage : construction de l'index des notes."
        except store.IndexCorrupt as e:
            notice = f"{e} Reconstruction de l'index."
        r = cls.build(corpus_dir, index_dir, wanted, progress)
        return r, notice

    # ----- freshness ----------------------------------------------------------------------
    def is_stale(self) -> bool:
        """True when a note was added, removed or edited since the index was built."""
        m = self._stored.manifest
        files = discover(self.corpus_dir)
        fp = fingerprint(files)
        old_fp = m.get("fingerprint", {})
        if fp == old_fp:
            return False
        if set(fp) != set(old_fp):
            return True
        # Same names, some stat changed (touched, copied back): compare content hashes.
        known = m.get("files", {})
        return any(file_hash(p) != known.get(rel) for rel, p in files if fp[rel] != old_fp.get(rel))

    def refresh(self, progress: BuildProgress | None = None) -> bool:
        """Incremental update when notes changed; returns True when the index was rebuilt."""
        if not self.corpus_dir.is_dir():
            return False
        with self._refresh_lock:
            if not self.is_stale():
                return False
            _, stats = build(self.corpus_dir, self.index_dir, self.embedder, self._stored, progress)
            self._stored = store.read(self.index_dir)  # swapped in one assignment: readers keep their copy
            self.last_build = stats
            return True

    # ----- information --------------------------------------------------------------------
    @property
    def chunks(self) -> list[Chunk]:
        return self._stored.chunks

    @property
    def manifest(self) -> dict:
        return self._stored.manifest

    def info(self) -> dict:
        m = self._stored.manifest
        return {
            "files": len(m.get("files", {})),
            "chunks": m.get("n_chunks", 0),
            "model": m.get("model"),
            "index_type": m.get("index_type"),
            "built_at": m.get("built_at"),
            "report": list(m.get("report", [])),
            "headings": self.headings(),
        }

    def headings(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self._stored.chunks:
            seen.setdefault(c.heading, None)
        return list(seen)

    # ----- search -------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, *, mode: str = "hybrid") -> list[Hit]:
        """The k most relevant chunks, best first. mode: "hybrid" (default), "lexical" or "dense"."""
        if self.auto_refresh:
            self.refresh()
        stored = self._stored  # one consistent snapshot even if a refresh swaps it meanwhile
        query = (query or "").strip()
        if not query or not stored.chunks or k <= 0:
            return []
        scored = self._score(stored, query, mode)
        order = np.argsort(-scored.fused, kind="stable")[:k]
        return [self._hit(stored.chunks[int(scored.ids[j])], float(scored.fused[j])) for j in order]

    def ask(self, query: str, k: int = 5, *, services: list[str] | None = None,
            exam_only: bool = False) -> Answer:
        """Search, read as a question: intent, services named, hits grouped by service heading.

        `services` restricts the passages to those headings; `exam_only` to exam-tip bullets.
        """
        pool = self.search(query, k=max(k, 50) if (services or exam_only) else k)
        if services:
            pool = [h for h in pool if h.heading in services]
        if exam_only:
            pool = [h for h in pool if h.exam]
        hits = pool[:k]
        groups: dict[str, list[Hit]] = {}
        for h in hits:
            groups.setdefault(h.heading, []).append(h)
        return Answer(query=query, intent="lookup" if hits else "none", services=[], groups=list(groups.items()), hits=hits)

    def _score(self, stored: store.StoredIndex, query: str, mode: str):
        tokens = tokenize(query)
        lex = stored.lexical.scores(tokens) if mode != "dense" else np.zeros(len(stored.chunks), np.float32)
        if mode == "lexical":
            ids = np.zeros(0, dtype=np.int64)
            return fusion.fuse(lex, ids, np.zeros(0, np.float32), lambda i: np.zeros(len(i), np.float32), weight=1.0)
        qvec = self.embedder.encode_query(query)
        ids, cos = stored.dense.search(qvec, fusion.CANDIDATES)

        def lookup(missing: np.ndarray) -> np.ndarray:
            return stored.dense.index.reconstruct_batch(missing) @ qvec

        return fusion.fuse(lex, ids, cos, lookup, weight=0.0 if mode == "dense" else fusion.LEXICAL_WEIGHT)

    @staticmethod
    def _hit(c: Chunk, score: float) -> Hit:
        return Hit(source=c.source, line=c.line, heading=c.heading, breadcrumb=list(c.breadcrumb), text=c.text,
                   score=score, kind=c.kind, block_start=c.block_start, block_end=c.block_end,
                   exam=any("examen" in b.lower() or "exam" in b.lower() for b in c.breadcrumb))

