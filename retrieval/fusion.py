"""Hybrid ranking: BM25 and dense cosine, each normalized, combined by weight.

Why not reciprocal-rank fusion: on the notes, RRF (0.86 hit@1) lost to lexical alone
(0.91) because it gives a weak dense ranking the same say as a confident lexical one.
Score fusion keeps the size of each signal: a query whose words match one bullet
strongly stays lexical; a paraphrase with no shared word falls back on the dense score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tuned on eval/dev.jsonl + eval/extra.jsonl (see README "Évaluation"); the ranking is
# flat around these values (±0.1 changes hit@1 by at most one question).
LEXICAL_WEIGHT = 0.3
CANDIDATES = 100


def adaptive_weight(known_fraction: float) -> float:
    """Lexical weight scaled by how much of the question the notes' vocabulary knows.

    A paraphrase ("être prévenu quand la facture explose") shares few words with its bullet:
    the few it does share are incidental, so BM25 should not outvote the dense score. Squared
    so that a mostly-known question keeps nearly the full weight. Measured: paraphrase hit@5
    0.43 → 0.52 on eval/extra.jsonl, dev lookup+English hit@1 0.90 → 0.93.
    """
    return LEXICAL_WEIGHT * known_fraction**2


@dataclass
class Scored:
    """Per-chunk components of one query's ranking (arrays aligned with `ids`)."""

    ids: np.ndarray
    fused: np.ndarray
    lexical: np.ndarray  # BM25 / max BM25 of the query (0..1)
    dense: np.ndarray  # raw cosine
    words: np.ndarray | None = None  # the part of `fused` the question's words (BM25) gave
    meaning: np.ndarray | None = None  # the part the embeddings gave


def fuse(
    lex_scores: np.ndarray,
    dense_ids: np.ndarray,
    dense_scores: np.ndarray,
    dense_lookup,
    weight: float = LEXICAL_WEIGHT,
    extra_ids: np.ndarray | None = None,
) -> Scored:
    """Combine a full BM25 score array with the dense top-k.

    `dense_lookup(ids) -> cosines` gives the exact cosine of lexical candidates the dense
    search did not return, so that every candidate is scored on both signals. `extra_ids`
    are scored too whatever their rank (e.g. every chunk of a service the question names).
    """
    n = len(lex_scores)
    lex_top = np.zeros(0, dtype=np.int64)
    lex_max = float(lex_scores.max()) if n else 0.0
    if lex_max > 0:
        k = min(CANDIDATES, n)
        lex_top = np.argpartition(-lex_scores, k - 1)[:k]
        lex_top = lex_top[lex_scores[lex_top] > 0]
    parts = [dense_ids.astype(np.int64), lex_top.astype(np.int64)]
    if extra_ids is not None and len(extra_ids):
        parts.append(np.asarray(extra_ids, dtype=np.int64))
    ids = np.unique(np.concatenate(parts))
    if ids.size == 0:
        return Scored(ids, np.zeros(0), np.zeros(0), np.zeros(0))
    # Vectorized: `ids` is sorted (np.unique), so each dense hit's slot is a searchsorted away.
    dense = np.full(len(ids), np.nan, dtype=np.float32)
    dense[np.searchsorted(ids, dense_ids.astype(np.int64))] = dense_scores
    missing = np.isnan(dense)
    if missing.any():
        dense[missing] = dense_lookup(ids[missing])
    lex = lex_scores[ids] / lex_max if lex_max > 0 else np.zeros(len(ids), dtype=np.float32)
    hi, lo = float(dense.max()), float(dense.min())
    dense_n = (dense - lo) / (hi - lo) if hi > lo else np.ones_like(dense)
    words, meaning = weight * lex, (1 - weight) * dense_n
    fused = words + meaning
    return Scored(ids, fused.astype(np.float32), lex.astype(np.float32), dense, words, meaning)
