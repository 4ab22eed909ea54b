"""The public entry point: build or load an index, keep it fresh, answer questions from it.

A thin facade over the live index (live.py: build, open, refresh, snapshots) and the answer pipeline
(pipeline.py: one question over one snapshot).
"""

from __future__ import annotations

import time

from .live import LiveIndex
from .models import Answer, Hit
from .pipeline import Pipeline
from .querytext import clean_query


class Retriever(LiveIndex):
    """`Retriever.build/open/load` (the live index) and the questions: `ask`, `search`, `info`, `headings`."""

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

        mode: "full" (question understanding + abstention, the default), "fusion" (the hybrid ranking
        alone), "plain" (min-max fusion at w_dense 0.7, no rule: the yardstick), "lexical" or "dense"
        (one signal alone); all but "full" for evaluation.
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
        query, notice = clean_query(query)
        notice = " ".join(n for n in (notice, self.refresh_notice) if n)
        pipeline = Pipeline(stored, self._view(stored), self.embedder, self._notes, self.disabled_rules)
        return pipeline.answer(
            query,
            k,
            services=services,
            exam_only=exam_only,
            mode=mode,
            previous=previous,
            notice=notice,
            indexing=self.indexing_notice(),
        )
