"""`python -m retrieval notes [add|remove|restore]`: the notes page's operations on the command line.

Same code path as the page (inventory, importing, trash), then the index is refreshed
incrementally. Without --corpus/--index, the folders are the app's: $RETRIEVAL_CORPUS, else the
folder chosen on the page, else corpus/ beside app.py (and $RETRIEVAL_INDEX, else index/).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..notes import importing, inventory, trash
from ..notes.paths import NotesError
from ..notes.settings import paths
from .terminal import one_line, progress_bar


def add_parser(sub) -> None:
    """Register `notes` and its actions on the main parser's subcommands."""
    n = sub.add_parser("notes", help="lister, ajouter, retirer ou restaurer des notes")
    _folders(n, None)
    n.add_argument("--json", action="store_true", help="sortie JSON")
    actions = n.add_subparsers(dest="action", parser_class=type(n))
    a = actions.add_parser("add", help="ajouter un fichier .md ou une archive .zip de notes")
    a.add_argument("--replace", action="store_true", help="remplacer les notes existantes qui diffèrent")
    a.add_argument("path", help="fichier .md/.markdown ou archive .zip")
    r = actions.add_parser("remove", help="mettre une note à la corbeille")
    r.add_argument("source", help="chemin de la note dans le dossier (comme listé par `notes`)")
    s = actions.add_parser("restore", help="remettre une note de la corbeille dans les notes")
    s.add_argument("source", help="chemin de la note dans la corbeille (comme listé par `notes`)")
    for p in (a, r, s):
        # SUPPRESS: an action without --corpus must not reset the value given before it.
        _folders(p, argparse.SUPPRESS)


def _folders(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("--corpus", default=default, help="dossier des notes (défaut : celui de l'appli)")
    p.add_argument("--index", default=default, help="dossier de l'index (défaut : celui de l'appli)")


def run(args) -> int:
    corpus, index = paths()
    corpus = Path(args.corpus).expanduser().resolve() if getattr(args, "corpus", None) else corpus
    index = Path(args.index).expanduser().resolve() if getattr(args, "index", None) else index
    try:
        if args.action == "add":
            return _add(corpus, index, args.path, args.replace)
        if args.action in ("remove", "restore"):
            op = trash.remove if args.action == "remove" else trash.restore
            moved = op(corpus, args.source)
            print(_moved_line(args.action, moved))
            _refresh(corpus, index)
            return 0
        return _list(corpus, index, args.json)
    except NotesError as e:
        print(f"Erreur : {one_line(e)}", file=sys.stderr)
        return 2


def _moved_line(action: str, m: trash.Moved) -> str:
    if action == "remove":
        return f"à la corbeille : {m.source} → {m.target}"
    extra = " (une note de ce nom existait déjà : les deux sont gardées)" if m.renamed else ""
    return f"restauré : {m.target}{extra}"


def _add(corpus: Path, index: Path, path: str, replace: bool) -> int:
    def announce(pv: importing.Preview) -> None:
        if pv.big:  # said before the notes are written and the index starts on them
            print(f"Attention : {pv.warning()}", file=sys.stderr, flush=True)

    report = importing.add_path(corpus, path, replace, announce)
    for line in report.lines():
        print(line)
    if report.conflicts:
        hint = "Relance avec --replace pour remplacer les notes gardées (l'ancienne version ira à la corbeille)."
        print(hint, file=sys.stderr)
    if report.changed:
        _refresh(corpus, index)
    return 0


def _refresh(corpus: Path, index: Path) -> None:
    from ..retriever import Retriever

    # open() loads the index and refreshes it (or builds it when missing): only changed files are re-read.
    r, notice = Retriever.open(corpus, index, progress=progress_bar())
    r.refresh(progress_bar())
    for line in (notice, r.refresh_notice):
        if line:
            print(line, file=sys.stderr)
    info = r.info()
    print(f"Index à jour : {info['chunks']} passages, {info['files']} fichier(s).")


def _list(corpus: Path, index: Path, as_json: bool) -> int:
    from ..retriever import Retriever

    r, notice = Retriever.open(corpus, index, progress=progress_bar())
    if notice:
        print(notice, file=sys.stderr)
    inv = inventory.inventory(corpus, r.chunks, r.manifest)
    if as_json:
        print(json.dumps(inv.to_json(), ensure_ascii=False, indent=1))
        return 0
    print(f"{corpus} : {len(inv.files)} fichier(s), {inv.passages} passages, {inv.exam_tips} conseils d'examen")
    for f in inv.files:
        print(f"  {f.source} : {f.passages} passages, {f.headings} rubriques, {f.exam_tips} conseils d'examen")
        for note in f.notes:
            print(f"    attention : {note}")
    if inv.skipped:
        print("Ignorés :")
        for s in inv.skipped:
            print(f"  {s.source} ({s.reason})")
    held = trash.items(corpus)
    if held:
        print(f"Corbeille ({len(held)}) : restaure avec `python -m retrieval notes restore SOURCE`")
        for t in held:
            print(f"  {t.source}")
    return 0
