"""Where the time of one search goes: Retriever.search timed through wrappers around what it calls.

`r` is typed Any on purpose: the breakdown swaps the FAISS index for a timing proxy, which no
real type describes.
"""

from __future__ import annotations

import time
from typing import Any

from .common import pct


class _IndexProxy:
    """Stands in for the FAISS index to time reconstruct_batch (the exact cosines fusion looks up)."""

    def __init__(self, index: Any, acc: dict[str, float]):
        self._index, self._acc = index, acc

    def reconstruct_batch(self, ids):
        t = time.perf_counter()
        try:
            return self._index.reconstruct_batch(ids)
        finally:
            self._acc["reconstruct_batch"] = self._acc.get("reconstruct_batch", 0.0) + time.perf_counter() - t

    def __getattr__(self, name):
        return getattr(self._index, name)


def component_times(r: Any, queries: list[str]) -> dict[str, float]:
    """Per-component p50 (ms) of Retriever.search, by timing wrappers around what it calls.

    Wrapping (not re-implementing) keeps the breakdown true while pipeline.py changes; a
    name that no longer exists is simply not reported. Nested entries (is_stale inside
    refresh, reconstruct_batch inside fuse) are not added to "other".
    """
    import inspect

    from ... import fusion, pipeline, retriever
    from ...dense import DenseIndex
    from ...embedding import Embedder
    from ...lexical import LexicalIndex

    acc: dict[str, float] = {}

    def wrap(owner, attr: str, label: str) -> None:
        raw = inspect.getattr_static(owner, attr, None)
        if raw is None:
            return
        fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[label] = acc.get(label, 0.0) + time.perf_counter() - t

        setattr(
            owner,
            attr,
            staticmethod(timed)
            if isinstance(raw, staticmethod)
            else classmethod(timed)
            if isinstance(raw, classmethod)
            else timed,
        )

    top = [
        (retriever.Retriever, "refresh", "refresh"),
        (retriever.Retriever, "_view", "view"),
        (pipeline, "tokenize", "tokenize"),
        (LexicalIndex, "scores", "bm25_scores"),
        (Embedder, "encode_query", "embed_query"),
        (DenseIndex, "search", "faiss_search"),
        (fusion, "fuse", "fuse"),
        (pipeline, "should_abstain", "abstain"),
        (pipeline, "arrange", "arrange"),
        (pipeline, "hit_of", "hits"),
        (pipeline, "_answer", "answer"),
    ]
    nested = [(retriever.Retriever, "is_stale", "is_stale")]
    try:
        from ...query import ServiceCatalog

        top.append((ServiceCatalog, "read", "read_query"))
    except ImportError:
        pass
    for owner, attr, label in top + nested:
        wrap(owner, attr, label)
    r.snapshot.dense.index = _IndexProxy(r.snapshot.dense.index, acc)
    per: dict[str, list[float]] = {}
    r.auto_refresh = True
    for q in queries:
        acc.clear()
        t = time.perf_counter()
        r.search(q)
        total = time.perf_counter() - t
        for label in [lb for _, _, lb in top] + ["is_stale", "reconstruct_batch"]:
            per.setdefault(label, []).append(acc.get(label, 0.0))
        per.setdefault("other", []).append(total - sum(acc.get(lb, 0.0) for _, _, lb in top))
        per.setdefault("total", []).append(total)
    return {k: round(pct(v, 50) * 1e3, 3) for k, v in per.items()}
