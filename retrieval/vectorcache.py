"""One embedding cache for every notes folder: (embedder fingerprint, text hash) → vector.

Switching notes folders, restoring a note from the trash or importing a zip that repeats known
text never embeds that text again. Rebuildable data, in plain files (never pickle):

    data/embeddings/                  beside the settings file, or $RETRIEVAL_CACHE
      <model>-<sha1 of the fingerprint>/
        embedder.json   the embedder's fingerprint and dimension
        vectors.f32     float32 rows, appended (row i ↔ line i of keys.txt)
        keys.txt        one 30-byte line per row: "<text hash, 20 hex> <crc32 of the row, 8 hex>\\n"
        .lock           held while appending (filelock: two processes never interleave rows)

Appends write the rows, then their keys: a process killed in between leaves rows without keys,
cut off by the next append. A row whose line is not well formed or whose CRC does not match is
ignored (embedded again); a cache that cannot be read or written is simply not used. Nothing
here ever raises to the caller: the cache only saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import config

LINE = 30  # bytes of one keys.txt line
_KEY_LINE = re.compile(rb"([0-9a-f]{20}) ([0-9a-f]{8})\n")
LOCK_WAIT = 10.0  # seconds an append waits for another process's; then the rows are just not cached


def default_root() -> Path:
    """$RETRIEVAL_CACHE, else data/embeddings beside the settings file (data/ beside app.py)."""
    return config.cache_dir()


_OPEN: dict[Path, VectorCache] = {}
_OPEN_LOCK = threading.Lock()


def _crc(row: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(row, dtype="<f4").tobytes())


class VectorCache:
    """The cached vectors of one embedder (one fingerprint, one dimension)."""

    def __init__(self, folder: Path, fingerprint: str, dim: int):
        self.folder = folder
        self.fingerprint = fingerprint
        self.dim = dim
        self._rows: dict[str, int] = {}  # text hash → row, for the well-formed lines read so far
        self._crcs: list[int] = []  # per row read so far (-1: a malformed line, never served)
        self._bad: set[str] = set()  # texts whose row failed its CRC: cached again when embedded again
        self._lock = threading.Lock()  # this process's threads; .lock is for other processes

    @classmethod
    def open(cls, fingerprint: str, dim: int, root: Path | None = None) -> VectorCache | None:
        """The cache of this embedder, created when missing (one object per folder and process); None when
        the folder cannot be used."""
        root = Path(root) if root is not None else default_root()
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", fingerprint.split(" ")[0])[:40]
        folder = root / f"{slug}-{hashlib.sha1(fingerprint.encode('utf-8')).hexdigest()[:12]}"
        with _OPEN_LOCK:
            cached = _OPEN.get(folder)
            if cached is not None and cached.dim == dim and (folder / "embedder.json").is_file():
                return cached
            made = cls._create(folder, fingerprint, dim)
            if made is not None:
                _OPEN[folder] = made
            return made

    @classmethod
    def _create(cls, folder: Path, fingerprint: str, dim: int) -> VectorCache | None:
        meta = {"fingerprint": fingerprint, "dim": dim}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "embedder.json"
            try:
                same = json.loads(path.read_text(encoding="utf-8")) == meta
            except (OSError, ValueError):
                same = False
            if not same:  # new, or not ours / damaged: start again (the vectors cannot be trusted)
                for name in ("vectors.f32", "keys.txt"):
                    (folder / name).unlink(missing_ok=True)
                path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        except OSError:
            return None
        return cls(folder, fingerprint, dim)

    @property
    def _row_bytes(self) -> int:
        return 4 * self.dim

    def __len__(self) -> int:
        with self._lock:
            self._sync()
            return len(self._rows)

    def _sync(self) -> None:
        """Read the key lines appended since the last call (by this process or another). Lock held."""
        try:
            with open(self.folder / "keys.txt", "rb") as f:
                if os.fstat(f.fileno()).st_size < len(self._crcs) * LINE:  # another process started again
                    self._rows.clear()
                    self._crcs.clear()
                f.seek(len(self._crcs) * LINE)
                data = f.read()
        except OSError:
            return
        for s in range(0, len(data) - len(data) % LINE, LINE):
            m = _KEY_LINE.fullmatch(data[s : s + LINE])
            if m is None:
                self._crcs.append(-1)
                continue
            self._rows[m.group(1).decode("ascii")] = len(self._crcs)  # the last row of a text wins
            self._crcs.append(int(m.group(2), 16))

    def get(self, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(positions in `hashes` found, their vectors): rows whose CRC fails are left out."""
        none = np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self._sync()
            wanted = [(i, self._rows[h]) for i, h in enumerate(hashes) if h in self._rows]
            if not wanted:
                return none
            try:
                n = min(len(self._crcs), (self.folder / "vectors.f32").stat().st_size // self._row_bytes)
                table = np.fromfile(self.folder / "vectors.f32", dtype="<f4", count=n * self.dim)
            except (OSError, ValueError):
                return none
            table = table.reshape(n, self.dim)
            pos, rows = [], []
            for i, r in wanted:
                if r < n and _crc(table[r]) == self._crcs[r]:
                    pos.append(i)
                    rows.append(r)
                elif r < n:
                    self._bad.add(hashes[i])
            if not pos:
                return none
            return np.asarray(pos, dtype=np.int64), table[rows].astype(np.float32)

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> int:
        """Append the vectors of texts not cached yet; returns how many rows were written (0 on any failure)."""
        from filelock import FileLock, Timeout

        vectors = np.ascontiguousarray(vectors, dtype="<f4").reshape(len(hashes), self.dim)
        try:
            with self._lock, FileLock(str(self.folder / ".lock"), timeout=LOCK_WAIT):
                self._repair()
                self._sync()
                new: dict[str, int] = {}
                for i, h in enumerate(hashes):
                    if (h not in self._rows or h in self._bad) and len(h) == 20:
                        new.setdefault(h, i)
                if not new:
                    return 0
                rows = vectors[list(new.values())]
                with open(self.folder / "vectors.f32", "ab") as f:
                    f.write(rows.tobytes())
                    f.flush()
                    os.fsync(f.fileno())
                lines = "".join(f"{h} {_crc(r):08x}\n" for h, r in zip(new, rows))
                with open(self.folder / "keys.txt", "ab") as f:
                    f.write(lines.encode("ascii"))
                    f.flush()
                    os.fsync(f.fileno())
                self._sync()
                self._bad.difference_update(new)
                return len(new)
        except (OSError, Timeout):
            return 0

    def _repair(self) -> None:
        """Under both locks: cut what a killed append left, so that row i stays line i.

        Keys end at a whole line; rows beyond the keys (written before a kill) are cut off; keys beyond
        the rows (the rows file was truncated) mean the two files disagree: the cache starts again."""
        keys, vecs = self.folder / "keys.txt", self.folder / "vectors.f32"
        k = keys.stat().st_size if keys.exists() else 0
        v = vecs.stat().st_size if vecs.exists() else 0
        if k % LINE:
            with open(keys, "r+b") as f:
                f.truncate(k - k % LINE)
            k -= k % LINE
        rows = k // LINE
        if v < rows * self._row_bytes:
            self._reset()
        elif v > rows * self._row_bytes:
            with open(vecs, "r+b") as f:
                f.truncate(rows * self._row_bytes)

    def _reset(self) -> None:
        for name in ("vectors.f32", "keys.txt"):
            (self.folder / name).unlink(missing_ok=True)
        self._rows.clear()
        self._crcs.clear()

    def clear(self) -> None:
        """Forget every vector of this embedder (tests, or a student who wants the space back)."""
        with self._lock:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._rows.clear()
            self._crcs.clear()
