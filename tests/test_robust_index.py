"""An index that is missing, stale, broken or being rebuilt: the next search copes, never a traceback."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval import Retriever, corpus, store
from retrieval.corpus import discover, fingerprint, is_stale
from retrieval.embedding import DEFAULT_MODEL
from retrieval.parsing import split_lines

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}

NOTES = {
    "lambda.md": "## AWS Lambda\n- exécution serverless limitée à 15 minutes\n- facturation à la milliseconde\n",
    "s3.md": "## Amazon S3\n- stockage objet durable\n- classes Glacier pour l'archivage\n",
}


def _corpus(path: Path, notes=NOTES) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def _verbatim(corpus_dir: Path, hits):
    for h in hits:
        lines = split_lines((corpus_dir / h.source).read_text(encoding="utf-8"))
        assert h.text in lines[h.line - 1], h


def _top(r, q):
    hits = r.search(q, k=1)
    return (hits[0].source, hits[0].line, hits[0].text) if hits else None


@pytest.fixture
def built(tmp_path):
    c = _corpus(tmp_path / "c")
    idx = tmp_path / "idx"
    Retriever.build(c, idx)
    return c, idx


# ----- stale -------------------------------------------------------------------------------
def test_note_added_after_build_is_found_by_the_very_next_search(built):
    c, idx = built
    r = Retriever.load(idx)
    (c / "sqs.md").write_text("## Amazon SQS\n- file d'attente pour découpler les microservices\n")
    assert _top(r, "file d'attente découpler microservices") == (
        "sqs.md",
        2,
        "file d'attente pour découpler les microservices",
    )
    assert r.last_build.files_parsed == 1 and r.last_build.embedded == 1  # only the new note


def test_edit_reparses_only_that_file_and_embeds_only_changed_chunks(built):
    c, idx = built
    r = Retriever.load(idx)
    (c / "s3.md").write_text("## Amazon S3\n- stockage objet durable\n- réplication inter-régions CRR\n")
    assert r.refresh() is True
    s = r.last_build
    assert (s.files_parsed, s.embedded, s.reused) == (1, 1, 3)
    assert _top(r, "réplication inter-régions") == ("s3.md", 3, "réplication inter-régions CRR")
    assert all("Glacier" not in h.text for h in r.search("Glacier archivage", k=5))


def test_removed_note_disappears(built):
    c, idx = built
    r = Retriever.load(idx)
    (c / "lambda.md").unlink()
    assert all(h.source == "s3.md" for h in r.search("Lambda 15 minutes", k=5))
    assert sorted(r.manifest["files"]) == ["s3.md"]


def test_touched_but_unchanged_note_does_not_rebuild_and_is_hashed_once(built, monkeypatch):
    c, idx = built
    r = Retriever.load(idx)
    monkeypatch.setattr(corpus, "RACY_NS", 0)  # the test's files are seconds old
    calls = []
    real = corpus.file_hash
    monkeypatch.setattr(corpus, "file_hash", lambda p: calls.append(p) or real(p))
    assert r.is_stale() is False and calls == []  # unchanged stat: never hashed
    os.utime(c / "s3.md", ns=(time.time_ns(), time.time_ns() - 10**10))
    assert r.is_stale() is False and len(calls) == 1
    assert r.is_stale() is False and len(calls) == 1  # verified once, then trusted
    gen = r.snapshot.folder
    assert r.refresh() is False and r.snapshot.folder == gen


def test_same_size_edit_within_the_same_timestamp_tick_is_seen(built):
    # "Racy" edit: same size, mtime forced back to the recorded one; only the content differs.
    c, idx = built
    r = Retriever.load(idx)
    p = c / "s3.md"
    st = p.stat()
    p.write_text(p.read_text().replace("durable", "DURABLE"))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert r.is_stale() is True


def test_is_stale_costs_little_on_100_files(tmp_path):
    c = tmp_path / "c"
    for i in range(5):
        (c / f"sub{i}").mkdir(parents=True)
    _corpus(c, {f"sub{i % 5}/note{i:03}.md": f"## S{i}\n- puce {i}\n" * 20 for i in range(100)})
    files = discover(c)
    assert len(files) == 100
    old = time.time_ns() - 10**10
    for _, p in files:
        os.utime(p, ns=(old, old))
    manifest = {
        "fingerprint": fingerprint(files),
        "fingerprint_ns": time.time_ns(),
        "files": {rel: corpus.file_hash(p) for rel, p in files},
    }
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        assert is_stale(c, manifest) is False
        times.append(time.perf_counter() - t0)
    median_ms = sorted(times)[len(times) // 2] * 1000
    print(f"\nis_stale on 100 files: median {median_ms:.2f} ms")
    assert median_ms < 5.0


# ----- atomic: a killed build ----------------------------------------------------------------
_KILLED_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from retrieval import store
    from retrieval.builder import build
    from retrieval.embedding import load_embedder
    corpus, index, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    real_fsync = store._fsync_tree
    def slow_fsync(folder):  # the new generation is fully written in .tmp-g-*, not yet swapped in
        real_fsync(folder)
        if where == "write":
            print("TMP", folder.name, flush=True)
            time.sleep(60)
    store._fsync_tree = slow_fsync
    def progress(stage, done, total):
        if where == "embed" and stage == "embeddings":
            print("EMBED", done, total, flush=True)
            time.sleep(60)
    build(corpus, index, load_embedder(None), progress=progress)
    print("DONE", flush=True)
""")


@pytest.mark.slow  # a process that loads the model and builds until it is killed: 1.3-2 s per case
@pytest.mark.parametrize("where", ["embed", "write"])
def test_build_killed_midway_leaves_the_previous_index_loadable(built, tmp_path, where):
    c, idx = built
    before = _top(Retriever.load(idx), "exécution serverless")
    big = _corpus(
        tmp_path / "big",
        {
            f"n{i}.md": "".join(f"## Service {i}\n" + f"- fait {i}-{j} sur le service\n" for j in range(30))
            for i in range(40)
        },
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_BUILD, str(big), str(idx), where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("EMBED" if where == "embed" else "TMP"), (line, proc.stderr.read() if not line else "")
        if where == "write":
            assert list(idx.glob(".tmp-g-*"))  # killed with a complete but unswapped generation on disk
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    r = Retriever.load(idx)
    assert _top(r, "exécution serverless") == before
    assert r.manifest["files"].keys() == NOTES.keys()
    # The lock died with the process: the next build proceeds and clears the leftovers.
    Retriever.build(c, idx)
    assert not list(idx.glob(".tmp-g-*"))


# ----- two builds at once -------------------------------------------------------------------
_TIMED_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from retrieval import builder
    from retrieval.embedding import load_embedder
    emb = load_embedder(None)
    real = builder._build_locked
    def timed(*a, **k):
        t0 = time.time(); out = real(*a, **k); print("SPAN", t0, time.time(), flush=True); return out
    builder._build_locked = timed
    builder.build(Path(sys.argv[1]), Path(sys.argv[2]), emb)
""")


@pytest.mark.slow  # two build processes in turn
def test_two_builds_at_once_are_serialized_and_the_index_stays_sound(tmp_path):
    c = _corpus(
        tmp_path / "c",
        {f"n{i}.md": f"## S{i}\n" + "".join(f"- élément {i}.{j}\n" for j in range(40)) for i in range(10)},
    )
    idx = tmp_path / "idx"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _TIMED_BUILD, str(c), str(idx)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    spans = sorted(tuple(map(float, o[0].split()[1:3])) for o in outs)
    assert spans[0][1] <= spans[1][0] + 0.05, spans  # the critical sections did not overlap
    r = Retriever.load(idx)
    assert r.manifest["n_chunks"] == 400
    assert len(list(idx.glob("g-*"))) <= 2 and not list(idx.glob(".tmp-g-*"))


@pytest.mark.slow  # waits out two lock timeouts
def test_refresh_waiting_for_a_busy_lock_gives_up_with_a_french_notice(built):
    c, idx = built
    r = Retriever.load(idx)
    (c / "sqs.md").write_text("## SQS\n- file d'attente\n")
    with store.locked(idx):  # another process building, from this reader's point of view
        t0 = time.perf_counter()
        assert r.refresh(timeout=0.3) is False
        assert time.perf_counter() - t0 < 3
        assert "Une autre construction de l'index est en cours" in r.refresh_notice
        old = r.search("lambda 15 minutes", k=5)  # the old index still answers, verbatim
        assert old and old[0].source == "lambda.md" and all(h.source != "sqs.md" for h in old)
        _verbatim(c, old)
        with pytest.raises(store.IndexBusy, match="réessaie"):
            from retrieval.builder import build

            build(c, idx, r.embedder, timeout=0.2)
    assert r.refresh() is True and r.refresh_notice == ""
    assert _top(r, "file d'attente")[0] == "sqs.md"


def test_second_refresher_reuses_the_first_ones_work(built):
    c, idx = built
    r1, r2 = Retriever.load(idx), Retriever.load(idx)  # e.g. the app and the CLI
    (c / "sqs.md").write_text("## SQS\n- file d'attente\n")
    assert r1.refresh() is True and r1.last_build.embedded == 1
    assert r2.refresh() is True  # picks up r1's generation under the lock...
    assert r2.last_build is None  # ...without embedding anything itself
    assert r2.snapshot.folder == r1.snapshot.folder


# ----- broken -------------------------------------------------------------------------------
class _Boom:
    def __reduce__(self):
        return (os.system, (f"touch {Path('/tmp') / 'pwned-by-index'}",))


def _gen(idx: Path) -> Path:
    return idx / (idx / "CURRENT").read_text().strip()


def _fix_checksum(gen: Path, name: str):
    # A deliberate tamperer updates the manifest too: the formats themselves must still refuse.
    m = json.loads((gen / "manifest.json").read_text())
    m["index_files"][name] = [(gen / name).stat().st_size, store._sha256(gen / name)]
    (gen / "manifest.json").write_text(json.dumps(m))


def _truncate_faiss(idx):
    p = _gen(idx) / "dense.faiss"
    p.write_bytes(p.read_bytes()[:100])


def _garbage_chunks(idx):
    (_gen(idx) / "chunks.jsonl").write_text("{not json\n\x00\x01")


def _garbage_chunks_checksum_fixed(idx):
    (_gen(idx) / "chunks.jsonl").write_text('{"hash": "x", "source": 3}\n')
    _fix_checksum(_gen(idx), "chunks.jsonl")


def _wrong_version(idx):
    p = _gen(idx) / "manifest.json"
    m = json.loads(p.read_text())
    m["format_version"] = 999
    p.write_text(json.dumps(m))


def _built_by_another_reader(idx):
    # the format version is derived from the reader's code and markdown-it-py's version, never bumped by hand
    other = store.format_version(reader="markdown-it-py 3.0.0, mdit-py-plugins 0.4.2")
    assert other != store.FORMAT_VERSION
    assert store.format_version(sources=("reader.py", "parsing.py")) != store.FORMAT_VERSION  # its code too
    p = _gen(idx) / "manifest.json"
    m = json.loads(p.read_text())
    assert m["format_version"] == store.FORMAT_VERSION
    m["format_version"] = other
    p.write_text(json.dumps(m))


def _manifest_garbage(idx):
    (_gen(idx) / "manifest.json").write_bytes(b"\xff\xfe garbage")


def _current_missing_folder(idx):
    (idx / "CURRENT").write_text("g-0-0")


def _current_dotdot(idx):
    outside = idx.parent / "ailleurs"
    outside.mkdir()
    (idx / "CURRENT").write_text("../ailleurs")


def _current_deleted(idx):
    (idx / "CURRENT").unlink()


def _pickled_npy(idx):
    gen = _gen(idx)
    arr = np.empty(3, dtype=object)
    arr[:] = [_Boom(), 1, 2]
    with open(gen / "vectors.npy", "wb") as f:
        np.save(f, arr, allow_pickle=True)
    _fix_checksum(gen, "vectors.npy")


def _pickled_lexical_npy(idx):
    gen = _gen(idx)
    name = next(p for p in (gen / "lexical").glob("*.npy")).relative_to(gen).as_posix()
    arr = np.empty(1, dtype=object)
    arr[0] = _Boom()
    with open(gen / name, "wb") as f:
        np.save(f, arr, allow_pickle=True)
    _fix_checksum(gen, name)


def _pickle_instead_of_manifest(idx):
    (_gen(idx) / "manifest.json").write_bytes(pickle.dumps(_Boom()))


TAMPERS = [
    _truncate_faiss,
    _garbage_chunks,
    _garbage_chunks_checksum_fixed,
    _wrong_version,
    _built_by_another_reader,
    _manifest_garbage,
    _current_missing_folder,
    _current_dotdot,
    _current_deleted,
    _pickled_npy,
    _pickled_lexical_npy,
    _pickle_instead_of_manifest,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__.strip("_"))
def test_broken_index_is_one_french_sentence_then_rebuilt(built, tamper):
    c, idx = built
    sentinel = Path("/tmp/pwned-by-index")
    sentinel.unlink(missing_ok=True)
    tamper(idx)
    with pytest.raises(store.IndexCorrupt) as e:
        store.read(idx)
    msg = str(e.value)
    assert msg.startswith("L") and "index" in msg and msg.endswith(".") and "\n" not in msg
    r, notice = Retriever.open(c, idx)
    assert notice == f"{msg} Reconstruction de l'index."
    assert _top(r, "exécution serverless") == ("lambda.md", 2, "exécution serverless limitée à 15 minutes")
    assert Retriever.load(idx).manifest["n_chunks"] == 4
    assert not sentinel.exists()  # nothing in the index was ever unpickled


def _list_in_manifest(gen: Path, name: str, size: int = 0):
    m = json.loads((gen / "manifest.json").read_text())
    m["index_files"][name] = [size, "0" * 64]
    (gen / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("name", ["/dev/zero", "../../etc/passwd", "/etc/passwd", "lexical/../../../etc/passwd"])
def test_manifest_naming_files_outside_the_index_is_refused_at_once(built, name):
    _, idx = built
    _list_in_manifest(_gen(idx), name)
    t0 = time.perf_counter()
    with pytest.raises(store.IndexCorrupt, match="manifeste"):
        store.read(idx)
    assert time.perf_counter() - t0 < 2  # /dev/zero was never hashed (it would never end)


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd"])
def test_index_file_replaced_by_a_link_out_of_the_index_is_refused(built, target):
    _, idx = built
    gen = _gen(idx)
    (gen / "chunks.jsonl").unlink()
    (gen / "chunks.jsonl").symlink_to(target)
    t0 = time.perf_counter()
    with pytest.raises(store.IndexCorrupt, match="manifeste"):
        store.read(idx)
    assert time.perf_counter() - t0 < 2


def test_index_file_that_is_not_a_regular_file_is_refused(built):
    _, idx = built
    gen = _gen(idx)
    os.mkfifo(gen / "extra.fifo")  # inside the generation, but opening it would block
    _list_in_manifest(gen, "extra.fifo")
    with pytest.raises(store.IndexCorrupt, match="pas un fichier ordinaire"):
        store.read(idx)


def test_file_left_out_of_the_manifest_is_refused(built):
    # Otherwise chunks.jsonl -> /dev/zero, simply dropped from the manifest, would be parsed forever.
    _, idx = built
    gen = _gen(idx)
    m = json.loads((gen / "manifest.json").read_text())
    del m["index_files"]["chunks.jsonl"]
    (gen / "manifest.json").write_text(json.dumps(m))
    (gen / "chunks.jsonl").unlink()
    (gen / "chunks.jsonl").symlink_to("/dev/zero")
    t0 = time.perf_counter()
    with pytest.raises(store.IndexCorrupt, match="manifeste"):
        store.read(idx)
    assert time.perf_counter() - t0 < 2


def test_refresh_hands_back_what_it_wrote_without_reading_it_again(built, monkeypatch):
    from retrieval import builder

    c, idx = built
    r = Retriever.load(idx)
    (c / "s3.md").write_text("## Amazon S3\n- stockage objet durable\n- réplication inter-régions CRR\n")
    reads = []
    real_read = store.read
    monkeypatch.setattr(store, "read", lambda d: reads.append(d) or real_read(d))
    fresh, stats = builder.refresh(c, idx, r.embedder, r.snapshot)
    assert stats is not None and reads == []  # nothing re-hashed or re-parsed after the build
    disk = real_read(idx)
    assert fresh.folder == disk.folder == store.current_generation(idx)
    assert fresh.manifest == disk.manifest and fresh.verified == {}
    assert fresh.chunks == disk.chunks and fresh.hashes == disk.hashes
    assert np.array_equal(fresh.vectors(), disk.vectors()) and isinstance(fresh.vectors(), np.memmap)
    assert fresh.dense.size == disk.dense.size and fresh.lexical.n_docs == disk.lexical.n_docs
    from retrieval.lexical import tokenize

    for q in ("réplication inter-régions", "Lambda 15 minutes"):
        toks = tokenize(q)
        assert np.allclose(fresh.lexical.scores(toks), disk.lexical.scores(toks))
        qv = r.embedder.encode_query(q)
        assert [a.tolist() for a in fresh.dense.search(qv, 4)] == [a.tolist() for a in disk.dense.search(qv, 4)]


def test_model_mismatch_rebuilds_with_a_notice(built):
    c, idx = built
    p = _gen(idx) / "manifest.json"
    m = json.loads(p.read_text())
    m["model"] = "all-MiniLM-L6-v2"
    p.write_text(json.dumps(m))
    r, notice = Retriever.open(c, idx)
    assert notice == "L'index avait été construit avec un autre modèle (all-MiniLM-L6-v2) : reconstruction."
    assert r.manifest["model"] == DEFAULT_MODEL and r.last_build is not None


def test_missing_index_is_built_on_first_open(tmp_path):
    c = _corpus(tmp_path / "c")
    with pytest.raises(store.IndexMissing):
        store.read(tmp_path / "idx")
    r, notice = Retriever.open(c, tmp_path / "idx")
    assert notice == "Premier démarrage : construction de l'index des notes."
    _verbatim(c, r.search("stockage objet", k=4))


def test_index_metadata_is_json_and_arrays_load_without_pickle(built):
    _, idx = built
    gen = _gen(idx)
    for p in gen.rglob("*"):
        if p.is_file():
            assert p.suffix in (".json", ".jsonl", ".npy", ".faiss") or p.name == store.MARKER, p
            if p.suffix == ".npy":
                np.load(p, allow_pickle=False)
            elif p.suffix == ".json":
                json.loads(p.read_text(encoding="utf-8"))
