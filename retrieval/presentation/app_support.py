"""Everything the Streamlit chat needs that is not a widget: paths, shared loading, progress
text, French error sentences, example questions. Kept here so it is testable without a browser.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..embedding import resolve_model_name
from ..models import Answer, Passage
from ..notes.settings import paths
from ..parsing import is_tips_label
from ..passages import NoteLines
from ..retriever import Retriever
from ..services import is_comparison_heading
from .errors import friendly_error  # noqa: F401  (used as sup.friendly_error
from .formatting import NOTHING_FOUND  # noqa: F401  (used as sup.NOTHING_FOUND

# (question, services it is about): shown only when those services are in the notes.

STAGES = {  # builder stage → (French label, start and end of its share of the progress bar)
    "lecture": ("Lecture des notes", 0.0, 0.1),
    "embeddings": ("Calcul des embeddings", 0.1, 0.9),
    "index": ("Construction de l'index", 0.9, 1.0),
}


def progress_text(stage: str, done: int, total: int) -> tuple[float, str]:
    """Builder progress as (fraction of the whole build, one French line with the counts)."""
    label, lo, hi = STAGES.get(stage, (stage, 0.0, 1.0))
    frac = lo + (hi - lo) * (done / total if total else 1.0)
    if stage == "lecture":
        text = f"{label} : {done}/{total} fichier{'s' if total > 1 else ''}"
    elif stage == "embeddings":
        text = f"{label} : {done}/{total} passages"
    else:
        text = f"{label}…" if done < total else "Index prêt."
    return min(max(frac, 0.0), 1.0), text


def short_name(heading: str) -> str:
    """A heading as a student would name it in a question: "🖥️ 2.1 Amazon EC2" → "EC2",
    "**S3 (Simple Storage Service)**" → "S3"."""
    from ..services import EXPANDED, plain_heading
    from ..text import VENDORS, strip_emphasis

    h = plain_heading(strip_emphasis(heading)).strip()
    m = EXPANDED.match(h)
    h = m.group(1) if m else h
    return re.sub(rf"^(?:{'|'.join(VENDORS)})\s+(?=\S)", "", h).strip() or heading


_CONTRAST = re.compile(r"comparaison|compar|différen|differen|\bvs\b|versus|≠|ne pas confondre", re.IGNORECASE)


def examples_for(headings: list[str], chunks: list | None = None) -> list[str]:
    """Example questions read off these notes (no note's names are written in the code): a
    comparison the notes make between two headings of one level, the exam tips of a heading, what a
    heading is. Headings with nothing under them but notes (a service, "EC2") are preferred to the
    ones over other headings or a file's title ("Bases de données"). Without chunks: what the first
    headings are."""
    from ..services import section_headings

    names = {h: short_name(h) for h in headings}
    depth, over = _outline(chunks or [])

    def usable(h: str) -> bool:
        return h in names and not is_tips_label(h) and not is_comparison_heading(h)

    picked: list[str] = []
    used: set[str] = set()
    for c in chunks or []:
        sections = section_headings(c)
        if not _CONTRAST.search(c.text) or not sections or not usable(sections[-1]) or sections[-1] in over:
            continue
        own = sections[-1]
        other = next(
            (
                h
                for h in headings
                if h != own
                and usable(h)
                and h not in over
                and depth.get(h) == depth.get(own)
                and re.search(rf"\b{re.escape(names[h])}\b", c.text)
            ),
            None,
        )
        if other is not None and names[own] != names[other]:
            picked.append(f"quelle différence entre {names[own]} et {names[other]} ?")
            used |= {own, other}
            break
    # services first: headings with only notes under them, the shallowest first; then note order
    ordered = sorted((h for h in headings if usable(h)), key=lambda h: (h in over, depth.get(h, 0)))
    if any(c.exam for c in chunks or []):
        tips = next((h for h in ordered if h not in used), None)
        if tips is not None:
            picked.append(f"conseils pour l'examen sur {names[tips]}")
            used.add(tips)
    rest = [h for h in ordered if h not in used] or [h for h in headings if h not in used]
    picked += [f"c'est quoi {names[h]} ?" for h in rest[: max(1, 3 - len(picked))]]
    return picked


def _outline(chunks: list) -> tuple[dict[str, int], set[str]]:
    """(heading → its depth below the file's title, headings over other headings or a file's title)."""
    from ..services import section_headings

    depth: dict[str, int] = {}
    over: set[str] = set()
    for c in chunks:
        sections = section_headings(c)
        over.update(sections[:-1])
        if c.title:
            over.add(c.title)
        for d, h in enumerate(sections):
            depth.setdefault(h, d)
    return depth, over


def services_for(headings: list[str], chunks: list) -> list[str]:
    """The services of the notes as a student names them: the headings of the level that holds the
    most of them ("EC2", "SQS", not "Partie 2 — Calcul et scalabilité" above them nor "Les familles
    d'instances" below), exam-tips headings and files' titles aside; all the headings otherwise."""
    depth, over = _outline(chunks)
    titles = {c.title for c in chunks if c.title}
    kept = [h for h in headings if h in depth and h not in titles and not is_tips_label(h)]
    levels = Counter(depth[h] for h in kept)
    if not levels:
        return headings
    level = max(levels, key=lambda d: (levels[d], -d))
    return list(dict.fromkeys(short_name(h) for h in kept if depth[h] == level))


@dataclass
class Shared:
    """One per (notes, index, model): the loaded retriever, shared by every session and rerun."""

    corpus_dir: Path
    index_dir: Path
    model: str
    retriever: Retriever | None = None
    notice: str = ""
    loads: int = 0  # how many times a model/index was (re)loaded: a rerun must not add one
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # (the chunks they were read off, services, examples): every rerun of the welcome reuses them
    _welcome: tuple[list, list[str], list[str]] | None = field(default=None, repr=False)

    def welcome(self, r: Retriever, headings: list[str]) -> tuple[list[str], list[str]]:
        """(services, example questions) of the notes, read once per index snapshot (0.6 s at 100,000
        passages: not at every rerun of the page)."""
        cached = self._welcome
        chunks = r.chunks
        if cached is None or cached[0] is not chunks:
            cached = self._welcome = (chunks, services_for(headings, chunks), examples_for(headings, chunks))
        return cached[1], cached[2]

    def ensure(self, progress: Callable[[str, int, int], None] | None = None) -> Retriever:
        """Load the index, or build it when missing; concurrent sessions wait for the first one."""
        r = self.retriever
        if r is not None:  # every rerun lands here: never wait behind a rebuild holding the lock
            return r
        with self._lock:
            if self.retriever is None:
                # Lexical search at once, meaning filled in behind (a new vault of 10,000 passages takes
                # minutes to embed): the page answers from the first second.
                r, self.notice = Retriever.open(
                    self.corpus_dir, self.index_dir, self.model, progress=progress, background=True
                )
                _take_over(self.index_dir, r)
                self.loads += 1
                self.retriever = r
                # The model's weights load on first use (~0.8 s): do it while the page renders,
                # not when the student asks the first question.
                threading.Thread(target=r.embedder.encode_query, args=("préchauffage",), daemon=True).start()
            return self.retriever

    def rebuild(self, progress: Callable[[str, int, int], None] | None = None) -> Retriever:
        with self._lock:
            if self.retriever is not None:
                self.retriever.close()  # its background embedding must not write over the rebuild
            r = Retriever.build(self.corpus_dir, self.index_dir, self.model, progress=progress)
            r.background = True  # its later refreshes (a zip imported) embed behind, as after `ensure`
            _take_over(self.index_dir, r)
            self.loads += 1
            self.retriever, self.notice = r, ""
            return r


_LIVE: dict[Path, Retriever] = {}  # index folder → the retriever that last opened it in this process
_LIVE_LOCK = threading.Lock()


def _take_over(index_dir: Path, r: Retriever) -> None:
    """The retriever of another notes folder on the same index folder stops its background embedding
    (what it embedded stays in the cache): after a folder switch only the folder in use is embedded."""
    with _LIVE_LOCK:
        old = _LIVE.get(index_dir)
        if old is not None and old is not r:
            old.close()
        _LIVE[index_dir] = r


def dense_progress_text(done: int, total: int) -> tuple[float, str]:
    """The sidebar's progress of the meaning index: (fraction, one French line)."""
    nb = "\u00a0"
    count = f"{done:,} / {total:,}".replace(",", nb)
    return (done / total if total else 1.0), f"Indexation du sens : {count} passages"


def loading_label(index_dir: Path) -> str:
    """What the first load is about to do, said before it starts (a build takes a few seconds)."""
    from ..store import current_generation

    if current_generation(Path(index_dir)) is None:
        return "Premier démarrage : construction de l'index de tes notes…"
    return "Chargement de l'index de tes notes…"


def _cache_resource(fn):
    import streamlit as st

    return st.cache_resource(show_spinner=False)(fn)


@_cache_resource
def shared(corpus_dir: str, index_dir: str, model: str) -> Shared:
    """Keyed on the three paths/names, so tests with other folders never get a wrong retriever."""
    return Shared(Path(corpus_dir), Path(index_dir), model)


def shared_for(app_dir: Path, model: str | None = None) -> Shared:
    corpus, index = paths(app_dir)
    return shared(str(corpus), str(index), resolve_model_name(model))


def ask(
    r: Retriever,
    question: str,
    k: int,
    services: list[str] | None,
    exam_only: bool,
    previous: Answer | None = None,
) -> tuple[Answer | None, str]:
    """(answer, error sentence): a blank question gives (None, ""), a failure (None, sentence).
    `previous`: the answer before, in the conversation (a follow-up keeps its subject)."""
    question = (question or "").strip()
    if not question:
        return None, ""
    try:
        return r.ask(question, k=k, services=services or None, exam_only=exam_only, previous=previous), ""
    except Exception as e:  # a bad question or a broken index must not show a traceback
        return None, friendly_error(e)


PassageKey = tuple[str, int, int]


def passage_key(p: Passage) -> PassageKey:
    return p.source, p.first_line or p.lines[0], max(p.last_line, p.lines[-1])


def passage_context(corpus_dir: str | Path, p: Passage, notes: NoteLines | None = None) -> list[str] | None:
    """The note's lines first_line..last_line of a passage, verbatim ("Voir le contexte"); None when
    the note is gone or changed so that the passage's lines are no longer where they were.

    The note is read as the passages read it (passages.NoteLines: the path checked to stay inside the
    notes folder, only a regular file read, split into lines as the indexer does); `notes`: the
    retriever's, which holds the notes its answer just quoted."""
    if not p.lines:
        return None
    lines = (notes or NoteLines(Path(corpus_dir))).get(p.source)
    if lines is None:
        return None
    _, first, last = passage_key(p)
    if first < 1 or last > len(lines):
        return None
    if any(lines[n - 1].rstrip() != t for n, t in zip(p.lines, p.text.split("\n"))):
        return None  # the note changed since the answer: other lines would misquote
    return lines[first - 1 : last]


def passage_contexts(r: Retriever, answer: Answer | None) -> dict[PassageKey, list[str] | None]:
    """Each passage's whole block, read once when the answer is made and kept in the history
    (a rerun redraws the history: it must not read every note again)."""
    if answer is None:
        return {}
    return {passage_key(p): passage_context(r.corpus_dir, p, r.notes) for p in answer.passages}


def index_summary(info: dict) -> list[str]:
    """The index state as short French lines (Markdown-escaped by the caller)."""
    lines = [
        f"Fichiers : {info.get('files', 0)}",
        f"Passages : {info.get('chunks', 0)}",
        f"Modèle : {info.get('model') or '?'} ({info.get('index_type') or '?'})",
        f"Construit le : {info.get('built_at') or '?'}",
    ]
    return lines
