"""A whole vault opened for the first time (Retriever.open(..., background=True)), in a fresh process.

Measured: seconds to the first answer (imports, model, notes read, BM25, one question), to the whole
index written, questions answered while the meaning is embedded, passages embedded per second
against the bare engine on the same texts, what a restart embeds again (nothing, by design) and
the peak memory.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from .common import pct, rss_mb

QUESTION = "quelle différence entre SES et Pinpoint ?"


def worker_vault(corpus: Path, index_dir: Path, bare_sample: int, t_start: float) -> dict:
    """`t_start`: the parent's time.time() before it started this process (imports count, as in the app)."""
    from ...retriever import Retriever

    t_import = time.time()
    r, _ = Retriever.open(corpus, index_dir, background=True)
    t_open = time.time()
    first = r.ask(QUESTION)
    t_first = time.time()
    at_first = r.dense_progress()
    during: list[float] = []
    while not r.wait_dense(2.0):  # a student asking while the meaning fills in (a few: they cost it CPU)
        if len(during) >= 5:
            r.wait_dense()
            break
        t = time.perf_counter()
        r.ask(f"{QUESTION} {len(during)}")
        during.append(time.perf_counter() - t)
    t_full = time.time()
    stats = r.last_build
    assert stats is not None and r.dense_progress()[0] == r.dense_progress()[1]
    peak = rss_mb()["peak"]

    # A restart, then the same notes under another index folder (a folder switch): nothing embedded again.
    again, _ = Retriever.open(corpus, index_dir, background=True)
    again.wait_dense()
    other, _ = Retriever.open(corpus, index_dir.with_name(index_dir.name + "-autre"), background=True)
    other.wait_dense()
    reembedded = sum(x.last_build.embedded for x in (again, other) if x.last_build is not None)

    # The bare engine on the same texts, in the order the notes give them (no sorting, no cache).
    from ...parsing import index_text

    texts = [index_text(c) for c in r.chunks]
    sample = random.Random(0).sample(texts, min(bare_sample, len(texts))) if bare_sample < len(texts) else texts
    t = time.perf_counter()
    r.embedder.encode(sample)
    bare_s = time.perf_counter() - t
    ours = stats.embedded / stats.embed_seconds if stats.embed_seconds else float("nan")
    bare = len(sample) / bare_s
    return {
        "chunks": len(r.chunks),
        "model": r.embedder.fingerprint,
        "import_s": round(t_import - t_start, 3),
        "open_s": round(t_open - t_import, 3),
        "first_answer_s": round(t_first - t_start, 3),
        "first_answer_hits": len(first.hits),
        "embedded_at_first_answer": at_first[0],
        "full_index_s": round(t_full - t_start, 1),
        "ask_while_indexing_ms_p50": round(pct(during, 50) * 1e3, 1) if during else None,
        "asks_while_indexing": len(during),
        "embedded": stats.embedded,
        "embed_s": round(stats.embed_seconds, 1),
        "embedded_per_s": round(ours, 1),
        "bare_per_s": round(bare, 1),
        "bare_texts": len(sample),
        "throughput_ratio": round(ours / bare, 3),
        "reembedded_after_restart": reembedded,
        "peak_rss_mb": peak,
    }
