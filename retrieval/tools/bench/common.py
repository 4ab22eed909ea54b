"""Paths, small measuring helpers, and how the parent starts a worker process."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ...config import APP_DIR

ROOT = APP_DIR
NOTES_DIR = ROOT / "corpus"


def rss_mb() -> dict[str, float]:
    """Current and peak resident set size of this process, MiB (Linux /proc, else getrusage)."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out["rss" if line.startswith("VmRSS") else "peak"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    if "peak" not in out:
        import resource

        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out.setdefault("rss", out["peak"])
    return {k: round(v, 1) for k, v in out.items()}


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))]


def summary_ms(xs: list[float]) -> dict[str, float | int | None]:
    return {
        "p50": round(pct(xs, 50) * 1e3, 3),
        "p95": round(pct(xs, 95) * 1e3, 3),
        "mean": round(statistics.fmean(xs) * 1e3, 3) if xs else None,
        "n": len(xs),
    }


def run_worker(args: list[str], timeout: float = 900) -> dict:
    """Run `python -m retrieval.bench --worker ARGS...` in a fresh process; its last stdout line is JSON.

    Each worker embeds into its own empty embedding cache: a build figure never counts vectors that an
    earlier run (or the student's app) cached."""
    cache = tempfile.mkdtemp(prefix="retrieval-bench-cache-")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RETRIEVAL_CACHE": cache}
    try:
        return _run(args, env, timeout)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _run(args: list[str], env: dict[str, str], timeout: float) -> dict:
    p = subprocess.run(
        [sys.executable, "-m", "retrieval.tools.bench", "--worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        timeout=timeout,
    )
    if p.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed (exit {p.returncode})")
    return json.loads(p.stdout.strip().splitlines()[-1])
