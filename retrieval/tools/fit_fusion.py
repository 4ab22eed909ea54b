"""Refit the fusion's logistic model on the tuning sets, and show what it is worth on unseen notes.

    python -m retrieval.tools.fit_fusion [--model multilingual-e5-small] [--set eval/dev.jsonl ...]

For every answered question of the tuning sets (never a holdout), every candidate of the ranking
(the best 100 of BM25 and of the cosine) gets `fusion.features` and a label: is it a gold line?
A class-balanced, L2-regularised logistic regression is fitted by Newton's method. The figures
printed are a cross-validation by corpus: each corpus is ranked with coefficients fitted on the
others, so they say how the model does on notes it never saw. The coefficients to paste into
`fusion.COEFFICIENTS` are fitted on all corpora.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from .. import fusion
from ..lexical import tokenize
from .evaluate import index_for, load_set

TUNING = [
    "eval/dev.jsonl",
    "eval/extra.jsonl",
    "eval/stockage.jsonl",
    "eval/obsidian.jsonl",
    "eval/cheatsheet.jsonl",
]
L2 = 1.0


def examples(retriever, items: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features of each candidate, gold or not) per question, as the ranking scores it."""
    stored = retriever.snapshot
    vectors = np.asarray(stored.vectors())
    out = []
    for it in items:
        tokens = tokenize(it["q"])
        lex = stored.lexical.scores(tokens)
        cos = vectors @ retriever.embedder.encode_query(it["q"])
        dense_top = np.argsort(-cos)[: fusion.CANDIDATES]
        ids = fusion.candidates(lex, dense_top)
        gold = set(it["gold"])
        y = np.array([stored.chunks[i].source == it["source"] and stored.chunks[i].line in gold for i in ids])
        x = fusion.features(
            lex[ids].astype(np.float32), cos[ids].astype(np.float32), stored.lexical.known_fraction(tokens)
        )
        out.append((x, y))
    return out


def fit(data: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    x = np.vstack([np.hstack([a, np.ones((len(a), 1))]) for a, _ in data])
    y = np.concatenate([b for _, b in data]).astype(float)
    pos = max(y.sum(), 1.0)
    weight = np.where(y > 0, (len(y) - pos) / pos, 1.0)  # as many gold as non-gold, in weight
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        grad = x.T @ (weight * (p - y)) + L2 * w
        hess = (x * (weight * p * (1 - p))[:, None]).T @ x + L2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def hits(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray) -> tuple[float, float]:
    h1 = h5 = 0
    for x, y in data:
        order = np.argsort(-(x @ w[:-1]), kind="stable")
        first = int(np.argmax(y[order])) + 1 if y.any() else 10**6
        h1, h5 = h1 + (first == 1), h5 + (first <= 5)
    return h1 / len(data), h5 / len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval.tools.fit_fusion", description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--set", action="append", default=None, help="tuning set (JSONL); repeatable")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--index", default="index")
    args = ap.parse_args(argv)

    from ..retriever import Retriever

    items = [i for i in load_set(args.set or TUNING) if i.get("gold")]
    by_corpus: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        by_corpus[it.get("corpus") or args.corpus].append(it)
    data: dict[str, list] = {}
    model = ""
    for corpus, its in by_corpus.items():
        r, _ = Retriever.open(
            corpus, index_for(Path(corpus), Path(args.corpus), Path(args.index), args.model), args.model
        )
        model = r.embedder.name
        data[corpus] = examples(r, its)
    print(f"modèle {model} ; caractéristiques : {', '.join(fusion.FEATURES)} (+ constante)")
    print(f"{'corpus (appris sur les autres)':<34}{'n':>5}{'hit@1':>8}{'hit@5':>8}")
    for corpus in data:
        w = fit([d for c, rows in data.items() if c != corpus for d in rows])
        h1, h5 = hits(data[corpus], w)
        print(f"{corpus:<34}{len(data[corpus]):>5}{h1:>8.2f}{h5:>8.2f}")
    w = fit([d for rows in data.values() for d in rows])
    print(f'\nCOEFFICIENTS["{model}"] = ({", ".join(f"{v:.3f}" for v in w)})')
    return 0


if __name__ == "__main__":
    sys.exit(main())
