"""`python -m retrieval.bench`: the flags, the run, the table and the JSON file.

`--worker KIND ...` (first argument) is how the run starts its measuring processes (workers.run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __doc__ as package_doc
from . import workers
from .measure import run
from .report import table


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        print(json.dumps(workers.run(argv[1], argv[2:])))
        return 0
    ap = argparse.ArgumentParser(prog="python -m retrieval.bench", description=(package_doc or "").split("\n")[0])
    ap.add_argument("--sizes", default="notes,10000,100000", help="comma list: notes and/or chunk counts (10k ok)")
    ap.add_argument("--queries", type=int, default=100, help="distinct queries per latency measure (default 100)")
    ap.add_argument("--files", type=int, default=100, help="files in generated corpora (default 100)")
    ap.add_argument(
        "--derive-above",
        type=int,
        default=20_000,
        help="sizes above this get derived vectors instead of real embeddings (default 20000)",
    )
    ap.add_argument("--base-real", type=int, default=10000, help="real embeddings the derived vectors start from")
    ap.add_argument("--noise", type=float, default=0.027, help="per-component noise of derived vectors (cos ~0.85)")
    ap.add_argument("--json", default="bench.json", help="where to write the JSON (default bench.json)")
    ap.add_argument("--workdir", default=None, help="keep corpora and indexes here (default: a temp dir, removed)")
    ap.add_argument("--keep", action="store_true", help="keep generated corpora and indexes")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measure")
    ap.add_argument(
        "--vault",
        default="2000,10000",
        help="distinct passages of the vaults opened for the first time in the background ('' to skip)",
    )
    ap.add_argument("--bare-sample", type=int, default=2000, help="texts the bare engine embeds for its throughput")
    ap.add_argument(
        "--sessions",
        default=None,
        help="load test instead: comma list of concurrent chat sessions against one local Streamlit server (1,5,10,20)",
    )
    ap.add_argument("--per-session", type=int, default=5, help="questions asked by each session (load test)")
    args = ap.parse_args(argv)
    if args.sessions:
        from .load import load, load_table

        try:
            counts = [int(n) for n in args.sessions.split(",")]
            rows = load(counts, questions=max(1, min(args.per_session, 50)))
        except ValueError as e:
            print(f"Erreur : {e}", file=sys.stderr)
            return 2
        Path(args.json).write_text(json.dumps({"load": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
        print(load_table(rows))
        return 0
    res = run(args)
    Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(res))
    print(f"JSON: {args.json}")
    return 0
