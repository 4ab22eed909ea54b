"""The answer pipeline, pure over one snapshot: read the question, score the candidates (words and meaning),
abstain or rank, group the passages. Nothing here keeps state between questions; `Retriever.ask` calls
`answer` with the snapshot in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import conversation, fusion, passages, store
from .abstain import should_abstain
from .embedding import JUDGE_MODEL, Embedder, ModelLoadError, load_embedder
from .lexical import tokenize
from .models import Answer, Chunk, Hit, Intent
from .parsing import index_text
from .query import QueryReading
from .ranking import RULES, CorpusView, arrange, contrasting

JUDGED = 20  # passages the judge model compares with the question


@dataclass
class Pipeline:
    """What a question is answered from: one snapshot and the facts read off it, the embedder, the notes'
    lines (passages quote them), and the ranking rules left out (evaluation: ablations)."""

    stored: store.StoredIndex
    view: CorpusView
    embedder: Embedder
    notes: passages.NoteLines
    disabled_rules: frozenset[str] = field(default_factory=frozenset)

    def answer(
        self,
        query: str,
        k: int,
        *,
        services: list[str] | None = None,
        exam_only: bool = False,
        mode: str = "full",
        previous: Answer | None = None,
        notice: str = "",
        indexing: str = "",
    ) -> Answer:
        """`query` already cleaned (querytext.clean_query); see Retriever.ask for the arguments."""
        stored, view = self.stored, self.view
        if not query or not stored.chunks or k <= 0:
            return Answer(query=query, intent=Intent.NONE, notice=notice, indexing=indexing)
        reading = view.catalog.read(query) if mode == "full" else QueryReading(query, Intent.LOOKUP)
        subject = None
        if previous is not None and mode == "full":
            reading, subject = conversation.follow(query, reading, previous, view, stored.lexical, services)
        # a carried question is ranked on its own words, the subject's passages all candidates
        extra = conversation.candidates(reading, view) if subject is not None else None
        scored = self.score(conversation.scored_text(query, subject, previous), mode, extra)
        if mode == "full" and should_abstain(
            reading, stored.lexical, lambda: self.closeness(query, scored), view, self.disabled_rules
        ):
            return Answer(
                query=query,
                intent=Intent.NONE,
                services=reading.services,
                notice=notice,
                subject=subject,
                indexing=indexing,
            )
        ranked = arrange(reading, scored, view, frozenset(RULES) if mode == "plain" else self.disabled_rules)
        if subject is not None:
            ranked = conversation.within(subject, query, ranked, view, reading.figure)
        if services:
            ranked = [(i, s) for i, s in ranked if view.in_sections(i, services)]
        if exam_only:
            ranked = [(i, s) for i, s in ranked if view.exam[i]]
        why = _signals(scored)

        def hit(i: int, s: float) -> Hit:
            return hit_of(stored.chunks[i], s, bool(view.exam[i]), *why.get(i, (0.0, 0.0)))

        hits = [hit(i, s) for i, s in ranked[:k]]
        answer = _answer(reading, hits)
        answer.notice = notice
        answer.subject = subject
        answer.indexing = indexing
        if hits:
            answer.passages = passages.build((hit(i, s) for i, s in ranked), view.structure, self.notes, k)
        if reading.intent == "compare":
            self.contrast_first(reading, answer, ranked)
        return answer

    def contrast_first(self, reading: QueryReading, answer: Answer, ranked) -> None:
        """Comparisons: the passages that contrast the compared things come first; a compared thing
        the notes never name is said, instead of refusing the question."""
        lexical, view = self.stored.lexical, self.view
        answer.missing = lexical.missing(reading.terms)
        if "contrast" in self.disabled_rules or not answer.passages:
            return
        ids = contrasting(reading, [i for i, _ in ranked[: 4 * len(answer.passages) + 10]], view)
        keys = {(view.chunks[i].source, view.chunks[i].line) for i in ids}
        for p in answer.passages:
            p.contrast = any((h.source, h.line) in keys for h in p.hits)
        answer.passages.sort(key=lambda p: not p.contrast)  # stable: each group keeps its order

    def score(self, query: str, mode: str, extra: np.ndarray | None = None) -> fusion.Scored:
        """`extra`: chunk ids scored whatever their rank (a carried subject's passages)."""
        stored = self.stored
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
            # the "combiner" ablation (evaluate --ablate): plain fusion under the rules, to weigh the combiner
            mode=mode if mode in ("dense", "plain") else ("plain" if "combiner" in self.disabled_rules else "fusion"),
            model=self.embedder.name,
        )

    def closeness(self, query: str, scored: fusion.Scored) -> float:
        """How close the question is to the notes, for the judge model (see abstain.MIN_COSINE): its best
        cosine with the passages ranked first. The judge embeds them on the fly (~1 ms each): the check
        runs only for questions that name no service and whose words the notes mostly do not know."""
        if not len(scored.ids):
            return 0.0
        judge = self.judge()
        if judge is None:
            return 1.0  # no judge: never refuse on closeness alone
        if judge is self.embedder:
            return float(scored.dense.max())
        top = scored.ids[np.argsort(-scored.fused)[:JUDGED]]
        texts = [index_text(self.stored.chunks[int(i)]) for i in top]
        return float((judge.encode(texts) @ judge.encode_query(query)).max())

    def judge(self) -> Embedder | None:
        if self.embedder.name == JUDGE_MODEL:
            return self.embedder
        try:
            return load_embedder(JUDGE_MODEL)
        except ModelLoadError:
            return None


def _answer(reading: QueryReading, hits: list[Hit]) -> Answer:
    if not hits:
        return Answer(query=reading.query, intent=Intent.NONE, services=reading.services)
    return Answer(query=reading.query, intent=reading.intent, services=reading.services, hits=hits)


def hit_of(c: Chunk, score: float, exam: bool, words: float = 0.0, meaning: float = 0.0) -> Hit:
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


def _signals(scored: fusion.Scored) -> dict[int, tuple[float, float]]:
    """chunk id → (part of its score from the question's words, part from its meaning)."""
    if scored.words is None or scored.meaning is None:
        return {}
    return {int(i): (float(w), float(m)) for i, w, m in zip(scored.ids, scored.words, scored.meaning)}
