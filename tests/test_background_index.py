"""A whole vault answers at once: lexical search first, meaning filled in behind (Retriever.open(..., background=True)),
resumed after a restart, and never embedding twice a text already embedded, whatever the notes folder.

The real model embeds; a gate in front of it holds the background thread where a test needs it held, and a
counter says which texts it was given.
"""

import threading

import numpy as np
import pytest

from retrieval import Retriever, builder, config, embedding, store

SERVICES = ["S3", "EBS", "EFS", "Glacier", "Lambda", "SQS", "SNS", "SES", "KMS", "IAM"]


def _vault(folder, names=SERVICES, tag=""):
    """One note per service, four bullets each: 40 passages for the 10 services."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in names:
        (folder / f"{s}{tag}.md").write_text(
            f"# {s}\n## {s}\n- {s} : service AWS numéro {len(s)}{tag}\n- {s} se facture à l'usage{tag}\n"
            f"- {s} se configure dans la console{tag}\n- conseil d'examen sur {s}{tag}\n",
            encoding="utf-8",
        )
    return folder


class Gate:
    """Wraps the embedder's batch function: counts the texts it embeds, and can hold it before a batch."""

    def __init__(self, emb, monkeypatch, open_batches: int | None = None):
        self.texts: list[str] = []
        self.open_batches = open_batches  # batches let through before holding (None: all)
        self.release = threading.Event()
        self.held = threading.Event()
        self._inner = emb._encode_batch
        monkeypatch.setattr(emb, "_encode_batch", self)

    def __call__(self, batch):
        if self.open_batches is not None and self.open_batches <= 0:
            self.held.set()
            self.release.wait(60)
        elif self.open_batches is not None:
            self.open_batches -= 1
        self.texts.extend(batch)
        return self._inner(batch)


@pytest.fixture
def emb(monkeypatch):
    e = embedding.load_embedder()
    e.encode_query("préchauffage")  # warm: the gate then only sees the notes' batches
    monkeypatch.setattr(e, "batch_size", 8)
    return e


@pytest.mark.slow  # embeds 40 passages, then a foreground build of the same notes to compare (~5 s)
def test_background_open_answers_lexically_then_fills_in_meaning(tmp_path, emb, monkeypatch):
    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    gate = Gate(emb, monkeypatch, open_batches=0)
    r, notice = Retriever.open(notes, idx, background=True)
    assert notice == "Premier démarrage : construction de l'index des notes."
    assert r.dense_progress() == (0, 40) and store.current_generation(idx) is None

    answer = r.ask("Glacier se facture")  # answered at once, from the words
    assert answer.hits and answer.hits[0].source == "Glacier.md" and answer.hits[0].line == 4
    assert answer.indexing == "Recherche par mots seulement pendant l'indexation du sens : 0 / 40 passages"

    seen = [r.dense_progress()[0]]
    gate.open_batches = None
    gate.release.set()
    while not r.wait_dense(0.05):
        seen.append(r.dense_progress()[0])
    assert seen == sorted(seen) and r.dense_progress() == (40, 40)
    assert len(gate.texts) == 40 and r.ask("Glacier se facture").indexing == ""
    # The generation is written once whole, and answers as a foreground build of the same notes does.
    assert store.read(idx).manifest["n_chunks"] == 40 and r.manifest.get("partial") is None
    fg, _ = Retriever.open(notes, tmp_path / "idx-fg")
    for q in ("quel service coûte à l'usage ?", "archiver pas cher", "conseil examen KMS"):
        assert [(h.source, h.line) for h in r.search(q)] == [(h.source, h.line) for h in fg.search(q)]


def test_a_partial_index_ranks_with_the_vectors_it_has(tmp_path, emb, monkeypatch):
    """Half embedded: the candidates without a vector are placed by their words (no NaN, no crash)."""
    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    gate = Gate(emb, monkeypatch, open_batches=2)
    r, _ = Retriever.open(notes, idx, background=True)
    assert gate.held.wait(60)
    done, total = r.dense_progress()
    assert (done, total) == (16, 40)
    for q in ("SQS se configure dans la console", "stocker des fichiers partagés", "c'est quoi IAM ?"):
        hits = r.search(q, k=5, mode="fusion")  # the ranking itself (full mode may refuse a question)
        assert len(hits) == 5 and all(np.isfinite(h.score) for h in hits)
    assert r.search("SQS se configure dans la console")[0].source == "SQS.md"
    gate.release.set()
    assert r.wait_dense(60) and r.dense_progress() == (40, 40)


def test_a_restart_resumes_and_never_embeds_a_text_twice(tmp_path, emb, monkeypatch):
    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    gate = Gate(emb, monkeypatch, open_batches=3)
    r, _ = Retriever.open(notes, idx, background=True)
    assert gate.held.wait(60)
    r.close()  # the app is closed while its fourth batch waits
    gate.release.set()
    assert r.wait_dense(60)
    first = list(gate.texts)
    assert len(first) in (24, 32) and store.current_generation(idx) is None  # nothing written half-done

    gate2 = Gate(emb, monkeypatch)
    r2, _ = Retriever.open(notes, idx, background=True)  # the next start
    assert r2.dense_progress()[0] == len(first)  # what was embedded before is there at once
    assert r2.wait_dense(60) and r2.dense_progress() == (40, 40)
    assert sorted(first + gate2.texts) == sorted(set(first + gate2.texts)) and len(first + gate2.texts) == 40
    assert store.read(idx).manifest["n_chunks"] == 40


def test_switching_folders_reembeds_nothing_already_known(tmp_path, emb, monkeypatch):
    a = _vault(tmp_path / "a", SERVICES[:5])
    b = _vault(tmp_path / "b", SERVICES[3:])  # Glacier and Lambda notes in both folders, word for word
    idx = tmp_path / "idx"  # the app keeps one index folder whatever the notes folder
    gate = Gate(emb, monkeypatch)
    r, _ = Retriever.open(a, idx, background=True)
    assert r.wait_dense(60) and len(gate.texts) == 20
    r.close()
    rb, _ = Retriever.open(b, idx, background=True)
    assert rb.dense_progress() == (8, 28)  # Glacier and Lambda's 8 passages came from the cache
    assert rb.wait_dense(60) and len(gate.texts) == 20 + 20
    # Back to the first folder, and the foreground open of a third folder that repeats both: nothing new.
    ra, _ = Retriever.open(a, idx, background=True)
    assert ra.dense_progress() == (20, 20) and ra.wait_dense(60)
    both = _vault(tmp_path / "c", SERVICES[:5]) and _vault(tmp_path / "c", SERVICES[3:])
    rc, _ = Retriever.open(both, tmp_path / "idx-c")
    assert len(gate.texts) == 40 and rc.last_build is not None and rc.last_build.embedded == 0


def test_an_edit_during_indexing_is_searchable_at_once(tmp_path, emb, monkeypatch):
    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    gate = Gate(emb, monkeypatch, open_batches=1)
    r, _ = Retriever.open(notes, idx, background=True)
    assert gate.held.wait(60)
    with open(notes / "SQS.md", "a", encoding="utf-8") as f:
        f.write("- la file FIFO garantit l'ordre des messages\n")
    assert r.refresh()  # the notes page's explicit refresh: the notes are read again, the embedding goes on
    hits = r.search("file FIFO ordre des messages")
    assert hits[0].source == "SQS.md" and hits[0].text == "la file FIFO garantit l'ordre des messages"
    assert r.dense_progress() == (8, 41)
    gate.open_batches = None
    gate.release.set()
    assert r.wait_dense(60) and r.dense_progress() == (41, 41)
    assert len(gate.texts) == 41  # the first draft's batch in hand was kept: only new texts after it
    assert store.read(idx).manifest["n_chunks"] == 41


def test_a_question_waits_for_a_refresh_two_seconds_at_most(tmp_path, emb, monkeypatch):
    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    r, _ = Retriever.open(notes, idx, background=True)
    assert r.wait_dense(60)
    with open(notes / "SQS.md", "a", encoding="utf-8") as f:  # a one-note edit: read before the answer
        f.write("- la file FIFO garantit l'ordre des messages\n")
    r._next_stale_check = 0.0
    assert r.ask("file FIFO ordre des messages").hits[0].line == 7

    _vault(notes, ["Kinesis"], tag="-importé")  # a zip just imported, on a machine too slow to read it in time
    reading = threading.Event()  # the notes are read again only once the first question has its answer
    prepare = builder.prepare

    def slow_prepare(*args, **kwargs):
        reading.wait(60)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(builder, "prepare", slow_prepare)
    monkeypatch.setattr(r, "AUTO_REFRESH_WAIT", 0.0)
    r._next_stale_check = 0.0
    first = r.ask("Kinesis se facture à l'usage")  # from the snapshot in hand, the notes read behind
    reading.set()
    assert all(h.source != "Kinesis-importé.md" for h in first.hits)
    for _ in range(200):
        if r.dense_progress()[1] == 45:
            break
        threading.Event().wait(0.05)
    assert r.search("Kinesis se facture à l'usage")[0].source == "Kinesis-importé.md"
    assert r.wait_dense(60) and r.dense_progress() == (45, 45)


@pytest.mark.slow  # the whole app in AppTest (~6 s)
def test_the_chat_answers_during_indexing_with_a_grey_line_and_a_sidebar_bar(tmp_path, emb, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from retrieval.presentation import app_support as sup

    notes = _vault(tmp_path / "notes")
    monkeypatch.setenv(config.CORPUS_ENV, str(notes))
    monkeypatch.setenv(config.INDEX_ENV, str(tmp_path / "index"))
    gate = Gate(emb, monkeypatch, open_batches=0)
    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception and not at.error
    bars = [p for p in at.sidebar.get("progress")]
    assert [b.proto.text for b in bars] == ["Indexation du sens : 0 / 40 passages"]
    at.chat_input[0].set_value("Glacier se facture à l'usage").run()
    answer = at.main.chat_message[-1]
    grey = [c.value.replace("\\:", ":") for c in answer.caption]  # Markdown-escaped
    assert "Recherche par mots seulement pendant l'indexation du sens : 0 / 40 passages" in grey
    assert any("Glacier.md" in h.value for h in answer.get("html"))
    gate.open_batches = None
    gate.release.set()
    shared = sup.shared(str(notes.resolve()), str((tmp_path / "index").resolve()), emb.name)
    assert shared.retriever is not None and shared.retriever.wait_dense(60)
    at.run()
    assert not at.sidebar.get("progress")  # whole: the bar is gone
    at.chat_input[0].set_value("Glacier se facture à l'usage").run()
    assert not [c.value for c in at.main.chat_message[-1].caption if "Recherche par mots" in c.value]


@pytest.mark.slow  # a process that loads the model, killed mid-way
def test_a_killed_app_resumes_where_it_was(tmp_path, emb, monkeypatch, embedding_cache):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    notes, idx = _vault(tmp_path / "notes"), tmp_path / "idx"
    script = (
        "import time\n"
        "from retrieval import Retriever, embedding\n"
        "e = embedding.load_embedder(); e.batch_size = 4\n"
        "_inner = e._encode_batch\n"
        "e._encode_batch = lambda b: (time.sleep(0.3), _inner(b))[1]\n"  # a slow laptop: time to kill it
        f"r, _ = Retriever.open({str(notes)!r}, {str(idx)!r}, background=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "RETRIEVAL_CACHE": str(embedding_cache)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], env=env)
    try:
        keys = list(embedding_cache.glob("*/keys.txt"))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (keys and keys[0].stat().st_size >= 12 * 30):
            time.sleep(0.1)
            keys = list(embedding_cache.glob("*/keys.txt"))
        assert keys, "the app never cached a batch"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    cached = keys[0].stat().st_size // 30
    assert 12 <= cached < 40 and store.current_generation(idx) is None
    gate = Gate(emb, monkeypatch)
    r, _ = Retriever.open(notes, idx, background=True)
    assert r.dense_progress()[0] == cached  # at once, from what the killed app kept
    assert r.wait_dense(60) and r.dense_progress() == (40, 40) and len(gate.texts) == 40 - cached
