"""Command line: `python -m retrieval build|search`. Errors are one line on stderr, exit code 2."""
from __future__ import annotations

import argparse
import json
import sys

from .embedding import ModelLoadError


def _progress_bar():
    """A tqdm bar per build stage, on stderr so that --json output stays clean."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="passages" if stage == "embeddings" else "fichiers",
                                     file=sys.stderr, leave=False)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _cmd_build(args) -> int:
    from .retriever import Retriever

    r = Retriever.build(args.corpus, args.index, args.model, progress=_progress_bar())
    s = r.last_build
    print(f"Index construit : {s.files} fichier(s), {s.chunks} passages, modèle {r.manifest['model']}, "
          f"{s.seconds:.1f} s → {args.index}")
    for line in s.report.lines():
        print("  " + line)
    return 0


def _cmd_search(args) -> int:
    from .formatting import format_hits, hits_to_json
    from .retriever import Retriever

    r, notice = Retriever.open(args.corpus, args.index, args.model, progress=_progress_bar())
    if notice:
        print(notice, file=sys.stderr)
    query = " ".join(args.query)
    hits = r.search(query, k=args.k)
    if args.json:
        print(json.dumps(hits_to_json(query, hits), ensure_ascii=False, indent=1))
    else:
        print(format_hits(query, hits))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval", description="Recherche dans tes notes (citations exactes).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="construire l'index des notes")
    s = sub.add_parser("search", help="chercher dans les notes")
    for p in (b, s):
        p.add_argument("--corpus", default="corpus", help="dossier des notes (défaut : corpus)")
        p.add_argument("--index", default="index", help="dossier de l'index (défaut : index)")
        p.add_argument("--model", default=None, help="modèle d'embeddings (défaut : $RETRIEVAL_MODEL ou use-multilingual-v3)")
    s.add_argument("-k", type=int, default=5, help="nombre de passages (défaut : 5)")
    s.add_argument("--json", action="store_true", help="sortie JSON")
    s.add_argument("query", nargs="+", help="la question")
    args = ap.parse_args(argv)
    try:
        return _cmd_build(args) if args.cmd == "build" else _cmd_search(args)
    except (ModelLoadError, FileNotFoundError, PermissionError, NotADirectoryError) as e:
        print(f"Erreur : {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
