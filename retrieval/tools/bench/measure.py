"""The benchmark's run: per size, prepare a corpus, then build, serve and memory workers; then the cold start."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .coldstart import measure_cold_start
from .common import NOTES_DIR, run_worker
from .generate import generate_corpus, query_pool


def parse_size(s: str) -> int | str:
    s = s.strip().lower().replace("_", "")
    if s == "notes":
        return "notes"
    mult = 1000 if s.endswith("k") else 1
    return int(float(s.rstrip("k")) * mult)


def run(args: argparse.Namespace) -> dict:
    t_all = time.perf_counter()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="retrieval-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    queries = query_pool(5 * args.queries + 200)
    qfile = work / "queries.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    import platform

    import faiss

    result: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "faiss": faiss.__version__,
            "platform": platform.platform(),
        },
        "model": None,
        "queries_per_measure": args.queries,
        "sizes": [],
    }
    notes_index = None
    for size in sizes:
        label = "notes" if size == "notes" else str(size)
        print(f"[bench] size {label} …", file=sys.stderr, flush=True)
        idx = work / f"index-{label}"
        shutil.rmtree(idx, ignore_errors=True)
        entry: dict = {"size": label}
        if isinstance(size, str):  # "notes", parse_size's only string
            corpus = work / "corpus-notes"
            shutil.rmtree(corpus, ignore_errors=True)
            shutil.copytree(NOTES_DIR, corpus)
            entry["build"] = run_worker(["build", str(corpus), str(idx), "0"])
            entry["build"]["mode"] = "real"
            notes_index = (idx, corpus)
        else:
            corpus = work / f"corpus-{label}"
            shutil.rmtree(corpus, ignore_errors=True)
            n_files = args.files if size <= args.derive_above else max(args.files, size // 250)
            t = time.perf_counter()
            entry["generated"] = generate_corpus(corpus, size, n_files)
            entry["generated"]["seconds"] = round(time.perf_counter() - t, 2)
            if size <= args.derive_above:
                entry["build"] = run_worker(["build", str(corpus), str(idx), "1"])
                entry["build"]["mode"] = "real"
            else:
                entry["build"] = run_worker(["derived", str(corpus), str(idx), str(args.base_real), str(args.noise)])
                entry["build"]["mode"] = "derived vectors (not an embedding throughput)"
        entry["serve"] = run_worker(["serve", str(idx), str(qfile), str(args.queries)])
        entry["memory"] = run_worker(["memory", str(idx)])
        result["sizes"].append(entry)
        if not args.keep and size != "notes":
            shutil.rmtree(idx, ignore_errors=True)
            shutil.rmtree(corpus, ignore_errors=True)
    for size in [int(x) for x in args.vault.split(",") if x.strip()]:
        print(f"[bench] vault {size}: background open …", file=sys.stderr, flush=True)
        corpus, idx = work / f"vault-{size}", work / f"vault-index-{size}"
        shutil.rmtree(corpus, ignore_errors=True)
        generate_corpus(corpus, size, max(args.files, size // 100))
        entry = run_worker(["vault", str(corpus), str(idx), str(args.bare_sample), repr(time.time())], timeout=3600)
        entry["size"] = size
        result.setdefault("vault", []).append(entry)
        if not args.keep:
            shutil.rmtree(corpus, ignore_errors=True)
            for p in work.glob(f"vault-index-{size}*"):
                shutil.rmtree(p, ignore_errors=True)
    if not args.no_cold and notes_index is not None:
        print("[bench] cold start …", file=sys.stderr, flush=True)
        result["cold_start"] = measure_cold_start(
            notes_index[0], notes_index[1], "quelle différence entre SES et Pinpoint ?"
        )
    from ...embedding import resolve_model_name

    result["model"] = resolve_model_name(None)
    result["total_s"] = round(time.perf_counter() - t_all, 1)
    result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return result
