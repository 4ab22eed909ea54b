"""What runs in a fresh process (`python -m retrieval.bench --worker KIND ...`): build, serve, memory, cold start.

Each prints one JSON line that common.run_worker reads, so that peak RSS belongs to that phase
only. The largest size (> --derive-above chunks) is not embedded for real: DerivedEmbedder
embeds a few thousand chunks, the other vectors are those plus noise, renormalized, and the
rest of builder.build runs as usual. Its search, load and memory figures are real; its build
figure is not an embedding throughput, and the report says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...embedding import Embedder, Progress
from ...presentation.terminal import progress_bar
from .common import pct, rss_mb, summary_ms
from .components import component_times
from .generate import edit_one_file


# ----- direct (derived-vector) build for the largest size --------------------------------
class DerivedEmbedder(Embedder):
    """Embedder stand-in for the largest size: the first `base_real` texts are embedded for real,
    every other vector is one of those plus gaussian noise, renormalized.

    It goes through the real builder.build (parse, BM25, FAISS, store.write), so the index is
    exactly what a build writes; only the embedding step is skipped. A subclass, so that it is
    an Embedder to builder.build's types; both methods are its own.
    """

    def __init__(self, real: Embedder, base_real: int, noise: float, seed: int = 0):
        super().__init__(real.name, real.encode, real.dim, real.batch_size, backend=real.backend)  # same vectors
        self.real, self.base_real, self.noise = real, base_real, noise
        self.rng = np.random.default_rng(seed)
        self.seconds = 0.0
        self.real_embedded = 0
        self.pool: list[np.ndarray] = []
        self.batch_size = 4096  # derived vectors: large batches (the real ones are embedded in the real's)

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """The builder embeds by batches: the first `base_real` texts of all calls are embedded for real."""
        t0 = time.perf_counter()
        texts = list(texts)
        b = max(0, min(self.base_real - self.real_embedded, len(texts)))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if b:
            out[:b] = self.real.encode(texts[:b])
            self.pool.append(out[:b].copy())
            self.real_embedded += b
        if b < len(texts):
            base = np.concatenate(self.pool)
            picks = base[self.rng.integers(0, len(base), len(texts) - b)]
            v = picks + self.rng.standard_normal((len(texts) - b, self.dim), dtype=np.float32) * self.noise
            out[b:] = v / np.linalg.norm(v, axis=1, keepdims=True)
        if progress:
            progress(len(texts), len(texts))
        self.seconds += time.perf_counter() - t0
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.real.encode_query(text)


def build_derived(corpus: Path, index_dir: Path, base_real: int, noise: float) -> dict:
    """The largest size: builder.build with DerivedEmbedder (real parse, BM25, FAISS and write)."""
    from ...builder import build
    from ...embedding import load_embedder

    real = load_embedder(None)
    real.encode(["préchauffage du modèle"])
    emb = DerivedEmbedder(real, base_real, noise)
    t0 = time.perf_counter()
    _, stats = build(corpus, index_dir, emb, None, progress_bar(corpus.name))
    total = time.perf_counter() - t0
    return {
        "chunks": stats.chunks,
        "files": stats.files,
        "build_s": round(total, 3),
        "vectors_s": round(emb.seconds, 3),
        "pipeline_s": round(total - emb.seconds, 3),
        "real_embedded": emb.real_embedded,
        "noise_sigma": noise,
        "build_peak_rss_mb": rss_mb()["peak"],
    }


# ----- workers (each in a fresh process) --------------------------------------------------
def worker_build(corpus: Path, index_dir: Path, do_edit: bool) -> dict:
    """Full build with the real model (model load excluded), then optionally edit one file and refresh."""
    from ...embedding import load_embedder
    from ...retriever import Retriever

    t0 = time.perf_counter()
    emb = load_embedder(None)
    emb.encode(["préchauffage du modèle"])  # the model loads lazily: keep that out of the build figure
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = Retriever.build(corpus, index_dir, progress=progress_bar(corpus.name))
    build_s = time.perf_counter() - t0
    s = r.last_build
    assert s is not None  # set by every build
    out = {
        "model_load_s": round(model_s, 3),
        "build_s": round(build_s, 3),
        "chunks": s.chunks,
        "files": s.files,
        "chunks_per_s": round(s.chunks / build_s, 1),
        "index_type": r.manifest.get("index_type"),
        "build_peak_rss_mb": rss_mb()["peak"],
    }
    if do_edit:
        name = edit_one_file(corpus)
        t0 = time.perf_counter()
        rebuilt = r.refresh()
        ref_s = time.perf_counter() - t0
        st = r.last_build
        assert st is not None
        out.update(
            {
                "refresh_s": round(ref_s, 3),
                "refresh_rebuilt": rebuilt,
                "refresh_file": name,
                "refresh_embedded": st.embedded,
                "refresh_reused": st.reused,
                "refresh_ratio": round(ref_s / build_s, 4),
            }
        )
    return out


def worker_serve(index_dir: Path, queries: list[str], per_measure: int) -> dict:
    """Load time, RSS, warm latencies (distinct queries), per-component breakdown, recall@10."""
    from ... import fusion
    from ...embedding import load_embedder
    from ...retriever import Retriever

    emb = load_embedder(None)
    emb.encode(["préchauffage du modèle"])
    mem_model = rss_mb()
    t0 = time.perf_counter()
    r = Retriever.load(index_dir)
    load_s = time.perf_counter() - t0
    mem_loaded = rss_mb()
    stored = r.snapshot
    n = len(stored.chunks)

    # Disjoint query sets, interleaved: every measured call embeds a query never seen before.
    sets = [queries[i::5] for i in range(5)]
    m = min(per_measure, *(len(s) for s in sets))
    for q in ("warm-up " + w for w in ("lambda", "s3", "examen")):
        r.search(q)
    lat: dict[str, list[float]] = {"embed": [], "search": [], "search_no_refresh": [], "ask": []}

    def timed(name: str, fn, q: str) -> None:
        t = time.perf_counter()
        fn(q)
        lat[name].append(time.perf_counter() - t)

    for i in range(m):
        # each measure has its own questions: none is answered from the query cache of another
        timed("embed", emb.encode_query, sets[0][i])  # what a search embeds (e5: its own prefix, one thread)
        r.auto_refresh = True
        timed("search", r.search, sets[1][i])
        r.auto_refresh = False
        timed("search_no_refresh", r.search, sets[2][i])
        r.auto_refresh = True
        timed("ask", r.ask, sets[3][i])
    mem_after = rss_mb()
    comp = component_times(r, sets[4][:m])

    # recall@10 of the live dense index against exact inner product over the stored vectors
    qv = emb.encode(queries[:200])
    vecs = np.asarray(stored.vectors(), dtype=np.float32)
    exact = np.argsort(-(qv @ vecs.T), axis=1)[:, :10]
    got = np.stack([np.pad(stored.dense.search(v, 10)[0], (0, 10))[:10] for v in qv]) if n >= 10 else exact
    recall = (
        float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact.tolist(), got.tolist())])) if n >= 10 else 1.0
    )
    # Tie-tolerant variant: a returned chunk counts when its cosine is within 0.01 of the exact
    # 10th best (near-duplicate chunks make "which 10 of 12 equal ones" arbitrary).
    if n >= 10:
        sims = qv @ vecs.T
        tenth = np.take_along_axis(sims, exact[:, 9:10], axis=1)
        ok = np.take_along_axis(sims, got, axis=1) >= tenth - 0.01
        recall_tol = float(np.mean(ok.sum(axis=1) / 10))
    else:
        recall_tol = 1.0
    extra = {}
    if stored.dense.kind != "flat":  # what exact search would cost at this size
        import faiss

        flat = faiss.IndexFlatIP(vecs.shape[1])
        flat.add(vecs)
        ts = []
        for v in qv[:50]:
            t = time.perf_counter()
            flat.search(v.reshape(1, -1), fusion.CANDIDATES)
            ts.append(time.perf_counter() - t)
        extra["flat_search_ms_p50"] = round(pct(ts, 50) * 1e3, 3)
        del flat
    del vecs
    return {
        "chunks": n,
        "index_type": stored.dense.kind,
        "load_s": round(load_s, 3),
        "rss_model_only_mb": mem_model["rss"],
        "rss_after_load_mb": mem_loaded["rss"],
        "peak_rss_mb": mem_after["peak"],
        "latency_ms": {k: summary_ms(v) for k, v in lat.items()},
        "components_ms_p50": comp,
        "recall_at_10": round(recall, 4),
        "recall_at_10_within_0.01": round(recall_tol, 4),
        **extra,
    }


def worker_memory(index_dir: Path) -> dict:
    """RSS added by each piece of a loaded index (no model loaded), to say what dominates."""
    import gc

    from ... import store
    from ...dense import DenseIndex
    from ...lexical import LexicalIndex
    from ...models import Chunk

    gen = store.current_generation(index_dir)
    if gen is None:
        raise SystemExit(f"no index in {index_dir}")
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    import bm25s  # noqa: F401
    import faiss  # noqa: F401  (imports counted apart from the data)

    gc.collect()
    out: dict[str, Any] = {"rss_imports_mb": rss_mb()["rss"]}
    before = rss_mb()["rss"]
    chunks = []
    with open(gen / "chunks.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            d.pop("hash")
            chunks.append(Chunk.from_dict(d))
    out["chunks_mb"] = round(rss_mb()["rss"] - before, 1)
    before = rss_mb()["rss"]
    dense = DenseIndex.load(gen / "dense.faiss", manifest.get("index_type", "flat"))
    out["dense_mb"] = round(rss_mb()["rss"] - before, 1)
    before = rss_mb()["rss"]
    lex = LexicalIndex.load(gen / "lexical")
    out["lexical_mb"] = round(rss_mb()["rss"] - before, 1)
    out["files_mb"] = {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(gen.iterdir()) if p.is_file()}
    out["files_mb"]["lexical/"] = round(sum(p.stat().st_size for p in (gen / "lexical").iterdir()) / 2**20, 1)
    del chunks, dense, lex
    return out


def worker_coldproxy(index_dir: Path, query: str, t_start: float) -> dict:
    """Import + Retriever.load + first ask, in a fresh process (what the app does before its first answer)."""
    t0 = time.time()
    import streamlit  # noqa: F401  (the app imports it too)

    from ...retriever import Retriever

    t_import = time.time()
    r = Retriever.load(index_dir)
    t_load = time.time()
    r.ask(query)
    t_ask = time.time()
    return {
        "interpreter_start_s": round(t0 - t_start, 3),
        "import_s": round(t_import - t0, 3),
        "load_s": round(t_load - t_import, 3),
        "first_ask_s": round(t_ask - t_load, 3),
        "total_s": round(t_ask - t_start, 3),
    }


def run(kind: str, rest: list[str]) -> dict:
    """The worker named by `--worker KIND`, with its arguments as the parent passed them."""
    if kind == "build":
        return worker_build(Path(rest[0]), Path(rest[1]), rest[2] == "1")
    if kind == "derived":
        return build_derived(Path(rest[0]), Path(rest[1]), int(rest[2]), float(rest[3]))
    if kind == "serve":
        return worker_serve(Path(rest[0]), json.loads(Path(rest[1]).read_text(encoding="utf-8")), int(rest[2]))
    if kind == "memory":
        return worker_memory(Path(rest[0]))
    if kind == "vault":
        from .vault import worker_vault

        return worker_vault(Path(rest[0]), Path(rest[1]), int(rest[2]), float(rest[3]))
    if kind == "coldproxy":
        return worker_coldproxy(Path(rest[0]), rest[1], float(rest[2]))
    raise SystemExit(f"unknown worker {kind}")
