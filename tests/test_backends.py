"""One contract per kind of back-end, run over every implementation: the embedders (each engine of
`embedding.BACKENDS` and the sentence-transformers path every other name takes) and the fusion methods
(`fusion.METHODS`). A new back-end passes these before anything else is measured."""

import numpy as np
import pytest

from retrieval import embedding, fusion
from retrieval.embedding import E5_NAME, ENSEMBLE_NAME, MINILM_NAME, USE_NAME

# e5 is the default (loaded by the session anyway); the others load a model each (1-5 s).
EMBEDDERS = [
    E5_NAME,
    pytest.param(USE_NAME, marks=pytest.mark.slow),
    pytest.param(ENSEMBLE_NAME, marks=pytest.mark.slow),
    pytest.param(MINILM_NAME, marks=pytest.mark.slow),  # not in BACKENDS: the sentence-transformers path
]

PASSAGES = [
    "Amazon S3 stocke des objets dans des buckets",
    "Amazon SES envoie des emails transactionnels",
    "Le mode cluster de Redis répartit les clés sur plusieurs nœuds",
]


def test_every_backend_is_in_the_contract():
    names = {p if isinstance(p, str) else p.values[0] for p in EMBEDDERS}
    assert set(embedding.BACKENDS) <= names


@pytest.mark.parametrize("name", EMBEDDERS)
def test_embedder_contract(name):
    emb = embedding.load_embedder(name)
    assert emb.name == name and emb.backend and emb.fingerprint.startswith(name) and emb.backend in emb.fingerprint
    v = emb.encode(PASSAGES)
    assert v.shape == (len(PASSAGES), emb.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert emb.encode([]).shape == (0, emb.dim)
    assert np.allclose(emb.encode(PASSAGES[:1])[0], v[0], atol=1e-5), "a passage's vector does not depend on its batch"
    q = emb.encode_query("où sont stockés les objets dans S3 ?")
    assert q.shape == (emb.dim,) and q.dtype == np.float32 and abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    assert np.array_equal(emb.encode_query("où sont stockés les objets dans S3 ?"), q)
    assert int(np.argmax(v @ q)) == 0, "the question is closest to the passage that answers it"
    assert embedding.load_embedder(name) is emb, "loaded once per process"


def _candidates(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    lex = rng.random(200).astype(np.float32) * 10
    lex[rng.choice(200, 120, replace=False)] = 0.0  # most chunks share no word with the question
    ids = rng.choice(200, n, replace=False).astype(np.int64)
    cos = (rng.random(n) * 0.5 + 0.2).astype(np.float32)
    best = int(ids[0])
    lex[best], cos[0] = 50.0, 0.99  # best on both signals

    def lookup(missing: np.ndarray) -> np.ndarray:
        return (rng.random(len(missing)) * 0.5 + 0.2).astype(np.float32)

    return lex, ids, cos, lookup, best


@pytest.mark.parametrize("mode", fusion.METHODS)
@pytest.mark.parametrize("known", [0.0, 0.5, 1.0])
def test_fusion_method_contract(mode, known):
    lex, ids, cos, lookup, best = _candidates()
    s = fusion.fuse(lex, ids, cos, lookup, known=known, mode=mode, model=E5_NAME)
    expected = np.unique(np.concatenate([ids, np.flatnonzero(lex > 0)]))
    assert np.array_equal(s.ids, expected), "the candidates are both signals' top, sorted and unique"
    assert len(s.fused) == len(s.lexical) == len(s.dense) == len(s.ids)
    assert s.fused.dtype == np.float32 and np.all(np.isfinite(s.fused))
    assert s.fused.min() >= 0.0 and s.fused.max() <= 1.0
    assert int(s.ids[np.argmax(s.fused)]) == best, "a candidate best on both signals comes first"
    if s.words is not None:  # a mix of both signals says what each gave
        assert s.meaning is not None and len(s.words) == len(s.meaning) == len(s.ids)
    assert fusion.method(mode, E5_NAME).name == mode


@pytest.mark.parametrize("mode", fusion.METHODS)
def test_fusion_method_of_no_candidate_is_empty(mode):
    s = fusion.fuse(np.zeros(10, np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32), lambda i: i, mode=mode)
    assert len(s.ids) == len(s.fused) == 0


def test_fusion_coefficients_say_whether_they_were_fitted_on_the_model():
    assert fusion.coefficients_for(E5_NAME) == (fusion.COEFFICIENTS[E5_NAME], True)
    assert fusion.coefficients_for("un-modele-inconnu") == (fusion.DEFAULT_COEFFICIENTS, False)
    with pytest.raises(ValueError):
        fusion.method("moyenne")
