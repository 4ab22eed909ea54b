"""The FAISS vector index: exact inner product for a student's notes, HNSW once exact search stops being free.

Figures behind the constants (2-core machine, USE 512-d, `python -m retrieval.bench`, README
"Performance"): one query embedding costs ~1.2-1.5 ms, and a flat scan ~0.4 ms at 5,000
chunks, ~1.2 ms at 10,000, ~16 ms at 100,000, so beyond a few thousand chunks the flat scan
alone would exceed the budget of 1.5 x the embedding. HNSW stays at ~0.3-0.9 ms. On the real
10,000-chunk embeddings, recall@10 against exact search at efSearch=256: efConstruction 80 →
0.965, 128 → 0.989 (0.7 s to build), 200 → 0.991 (1.1 s): 128 keeps refreshes cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    import faiss

# Below this many chunks a flat scan costs <= ~0.4 ms (exact, instant to build); above it HNSW.
HNSW_THRESHOLD = 5_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 128
HNSW_EF_SEARCH = 256  # >= fusion.CANDIDATES (100): HNSW returns at most efSearch results


def index_type_for(n: int) -> str:
    return "hnsw" if n > HNSW_THRESHOLD else "flat"


class DenseIndex:
    def __init__(self, index: faiss.Index, kind: str):
        self.index = index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None) -> DenseIndex:
        import faiss

        n, dim = vectors.shape if vectors.ndim == 2 else (0, 1)
        kind = kind or index_type_for(n)
        index: faiss.Index
        if kind == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            hnsw.hnsw.efSearch = HNSW_EF_SEARCH
            index = hnsw
        else:
            index = faiss.IndexFlatIP(dim)
        if n:
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, kind)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> DenseIndex:
        import faiss

        index = faiss.read_index(str(path))
        if kind == "hnsw":
            # read_index returns the concrete SWIG class; its stub only says Index.
            cast("faiss.IndexHNSW", index).hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)

    def search(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine scores) of the k nearest chunks, best first; ids of -1 are dropped."""
        import faiss

        q = np.ascontiguousarray(qvec.reshape(1, -1), dtype=np.float32)
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # One query gains nothing from OpenMP threads, and they spin against the embedding's
        # BLAS threads on 2 cores (flat 10k: 4.4 ms with 2 threads vs 1.9 ms with 1 under load).
        # The setting is per calling thread, so a build running in another thread keeps its threads.
        prev = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.index.search(q, k)
        finally:
            faiss.omp_set_num_threads(prev)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def cosines(self, ids: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """The exact cosine of these chunks with the question (candidates the search did not return)."""
        return self.index.reconstruct_batch(ids) @ qvec


class PartialDense:
    """Exact search over the chunks embedded so far, while the rest are embedded in the background.

    `vectors` (one row per chunk) and `have` (which rows hold a vector) are filled in place by the
    embedding thread: a chunk counts from the moment its flag is set, after its row is written.
    A flat scan: 10,000 rows of 384 floats take ~1 ms, and the HNSW graph is built once, at the end.
    """

    kind = "partial"

    def __init__(self, vectors: np.ndarray, have: np.ndarray):
        self.vectors = vectors
        self.have = have

    @property
    def size(self) -> int:
        return int(np.count_nonzero(self.have))

    def search(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        have = self.have.copy()  # one consistent set of rows for this question
        n = int(np.count_nonzero(have))
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.vectors @ qvec.astype(np.float32)
        scores[~have] = -np.inf
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top].astype(np.float32)

    def cosines(self, ids: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """Cosines of these chunks; NaN for the ones not embedded yet (fusion.fuse fills them in)."""
        out = (self.vectors[ids] @ qvec).astype(np.float32)
        out[~self.have[ids]] = np.nan
        return out
