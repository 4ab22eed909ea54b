"""Hybrid ranking: BM25 and dense cosine over the candidates, combined by a small logistic model.

The candidates are the best 100 of each signal. Each candidate gets six features of the two
signals, and the probability that it is the answer is read off a logistic model:

- the BM25 score over the question's best (0..1) and its z-score among the candidates;
- the cosine min-max scaled over the candidates (0..1) and its z-score;
- each scaled score times how much the question lets that signal speak: `known` is the share
  of the question's words (IDF-weighted) that the notes' vocabulary holds. A question made of
  the notes' words is matched on them ("détacher une session tmux": the rare verb decides); a
  paraphrase, which shares only incidental words, is matched on its meaning.

The coefficients are fitted on the tuning sets of four corpora in four styles, for each
offline model (`python -m retrieval.tools.fit_fusion` refits them and prints the cross-validation:
each corpus scored with coefficients fitted on the three others). Fixed weights, z-score sums
and rank fusion were measured too (README, "Classement"): on notes where one signal is weak
they fall below the better one alone, which this model does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

CANDIDATES = 100
FEATURES = ("lexical", "cosine", "lexical z", "cosine z", "known × lexical", "(1 − known) × cosine")
# Fitted by retrieval/tools/fit_fusion.py on eval/{dev,extra,stockage,obsidian,cheatsheet}.jsonl.
COEFFICIENTS: dict[str, tuple[float, ...]] = {
    "multilingual-e5-small": (0.465, 2.552, 0.267, 0.317, 4.483, 4.223, -4.133),
    "use-multilingual-v3": (-1.127, 0.415, 0.418, 0.189, 6.852, 5.953, -3.186),
}
DEFAULT_COEFFICIENTS = COEFFICIENTS["multilingual-e5-small"]  # other models: scale-free features, e5's fit
# The yardstick of issue 21 (`mode="plain"`, evaluation only): each signal min-max scaled over the
# candidates, then 0.3 × lexical + 0.7 × dense. Every rule beyond fusion is measured against it.
PLAIN_W_DENSE = 0.7
LEXICAL_FEATURES = (0, 2, 4)  # which features are the question's words (the rest: its meaning)

Lookup = Callable[[np.ndarray], np.ndarray]


@dataclass
class Scored:
    """Per-chunk components of one query's ranking (arrays aligned with `ids`)."""

    ids: np.ndarray
    fused: np.ndarray  # 0..1: the combiner's probability (lexical or dense alone: that signal, scaled)
    lexical: np.ndarray  # BM25 / max BM25 of the query (0..1)
    dense: np.ndarray  # raw cosine
    words: np.ndarray | None = None  # the part of the combiner's logit the question's words (BM25) gave
    meaning: np.ndarray | None = None  # the part the embeddings gave


def coefficients_for(model: str) -> tuple[tuple[float, ...], bool]:
    """(the combiner's coefficients for this embedding model, whether they were fitted on it). A model without
    its own fit gets e5's: the features are scale-free (max- and min-max-scaled, z-scores), so the fit carries
    over; `python -m retrieval.tools.fit_fusion --model NAME` fits its own."""
    fitted = COEFFICIENTS.get(model)
    return (fitted, True) if fitted is not None else (DEFAULT_COEFFICIENTS, False)


@dataclass(frozen=True)
class Combined:
    """A fusion method's output over the candidates: the score, and for a mix of both signals its two parts."""

    fused: np.ndarray  # 0..1, one per candidate
    words: np.ndarray | None = None  # the part of the logit the question's words gave
    meaning: np.ndarray | None = None  # the part the embeddings gave


class FusionMethod(Protocol):
    """The one interface of the ways to rank candidates from their features (see FEATURES): a new method
    is a class with a `name` and `combine`, listed in METHODS; tests/test_backends.py runs one contract
    over every method."""

    @property
    def name(self) -> str: ...

    def combine(self, x: np.ndarray, lex: np.ndarray) -> Combined:
        """`x`: the candidates' features (FEATURES), one row each; `lex`: their raw BM25 scores."""
        ...


@dataclass(frozen=True)
class SignalAlone:
    """One signal alone, scaled (evaluation: what each signal is worth)."""

    name: str
    column: int  # the feature it reads: 0 lexical, 1 cosine

    def combine(self, x: np.ndarray, lex: np.ndarray) -> Combined:
        return Combined(x[:, self.column].astype(np.float32))


@dataclass(frozen=True)
class Logistic:
    """The default: a logistic model over the six features, its logit split into words and meaning."""

    coefficients: tuple[float, ...]
    name: str = "fusion"

    def combine(self, x: np.ndarray, lex: np.ndarray) -> Combined:
        coef = np.asarray(self.coefficients, dtype=np.float64)
        parts = x * coef[:-1]
        words = parts[:, LEXICAL_FEATURES].sum(axis=1)
        meaning = parts.sum(axis=1) - words
        fused = 1.0 / (1.0 + np.exp(-(words + meaning + coef[-1])))
        return Combined(fused.astype(np.float32), words, meaning)


@dataclass(frozen=True)
class MinMax:
    """The plain baseline (evaluate --mode plain): min-max BM25 and min-max cosine, weighted, no model."""

    w_dense: float = PLAIN_W_DENSE
    name: str = "plain"

    def combine(self, x: np.ndarray, lex: np.ndarray) -> Combined:
        plain = (1.0 - self.w_dense) * _minmax(lex) + self.w_dense * x[:, 1]
        return Combined(plain.astype(np.float32))


METHODS = ("fusion", "lexical", "dense", "plain")


def method(mode: str, model: str = "") -> FusionMethod:
    """The fusion method of a search mode; "fusion" with the coefficients fitted for `model`."""
    if mode == "lexical":
        return SignalAlone("lexical", 0)
    if mode == "dense":
        return SignalAlone("dense", 1)
    if mode == "fusion":
        return Logistic(coefficients_for(model)[0])
    if mode == "plain":
        return MinMax()
    raise ValueError(f"unknown fusion method: {mode}")


def candidates(lex_scores: np.ndarray, dense_ids: np.ndarray) -> np.ndarray:
    """The dense top-k and the lexical top-k with a non-zero score, sorted and unique."""
    n = len(lex_scores)
    lex_top = np.zeros(0, dtype=np.int64)
    if n and float(lex_scores.max()) > 0:
        k = min(CANDIDATES, n)
        lex_top = np.argpartition(-lex_scores, k - 1)[:k]
        lex_top = lex_top[lex_scores[lex_top] > 0]
    parts = [dense_ids.astype(np.int64), lex_top.astype(np.int64)]
    return np.unique(np.concatenate(parts))


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def _z(x: np.ndarray) -> np.ndarray:
    s = float(x.std())
    return (x - float(x.mean())) / s if s > 0 else np.zeros_like(x)


def features(lex: np.ndarray, dense: np.ndarray, known: float) -> np.ndarray:
    """The combiner's inputs, one row per candidate (see FEATURES); `lex` raw BM25, `dense` raw cosine."""
    lex_max = float(lex.max()) if len(lex) else 0.0
    ln = lex / lex_max if lex_max > 0 else np.zeros_like(lex)
    dn = _minmax(dense)
    return np.stack([ln, dn, _z(lex), _z(dense), known * ln, (1.0 - known) * dn], axis=1)


def fuse(
    lex_scores: np.ndarray,
    dense_ids: np.ndarray,
    dense_scores: np.ndarray,
    dense_lookup: Lookup,
    *,
    known: float = 1.0,
    mode: str = "fusion",
    model: str = "",
) -> Scored:
    """Combine a full BM25 score array with the dense top-k.

    `dense_lookup(ids) -> cosines` gives the exact cosine of lexical candidates the dense
    search did not return, so that every candidate is scored on both signals.
    mode: "fusion" (the combiner), "plain" (min-max fusion at PLAIN_W_DENSE), "lexical" or "dense" (one
    signal alone); all but "fusion" for evaluation.
    """
    ids = candidates(lex_scores, dense_ids)
    if ids.size == 0:
        return Scored(ids, np.zeros(0), np.zeros(0), np.zeros(0))
    # Vectorized: `ids` is sorted (np.unique), so each dense hit's slot is a searchsorted away.
    dense = np.full(len(ids), np.nan, dtype=np.float32)
    if mode != "lexical":
        dense[np.searchsorted(ids, dense_ids.astype(np.int64))] = dense_scores
        missing = np.isnan(dense)
        if missing.any():
            dense[missing] = dense_lookup(ids[missing])
        # While the notes are being embedded, some candidates have no vector yet (NaN): they get the
        # mean cosine of the others, a z-score of 0, so that their words alone place them.
        unknown = np.isnan(dense)
        if unknown.any():
            dense[unknown] = float(dense[~unknown].mean()) if not unknown.all() else 0.0
    else:
        dense[:] = 0.0
    lex = lex_scores[ids].astype(np.float32)
    x = features(lex, dense, known)
    c = method(mode, model).combine(x, lex)
    return Scored(ids, c.fused, x[:, 0].astype(np.float32), dense, c.words, c.meaning)
