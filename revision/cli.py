"""Command line: `python -m revision cards|export`. Errors are one French line on stderr.

python -m revision cards [--corpus C] [--json] [--service S] [--exam-only]
python -m revision export --anki FILE.apkg [--force] [--corpus C] [--service S] [--exam-only]

Without --corpus, the notes folder is the app's (`retrieval.notes.settings.notes_dir`: $RETRIEVAL_CORPUS,
then the folder chosen on the page, then corpus/ beside app.py). The export writes only a `.apkg`
file, and replaces an existing one only with --force: a note is never written over.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from retrieval import config
from retrieval.notes import settings

from .cards import Card, cards_of, count_kinds, filter_cards, headings_of
from .export import export_anki
from .study import match_service

KIND_NAMES = {"cloze": "à trous", "list": "listes", "table": "tableaux"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        print(f"Erreur : {' '.join(message.split())} (voir --help)", file=sys.stderr)
        raise SystemExit(2)


class CliError(Exception):
    pass


_ORIGIN = {
    "option": "option --corpus",
    "env": f"variable {settings.CORPUS_ENV}",
    "settings": "dossier choisi dans l'appli",
    "default": "dossier par défaut de l'appli",
}


def _select(args) -> list[Card]:
    if args.corpus:
        corpus, origin = Path(args.corpus).expanduser(), "option"
    else:
        corpus, origin = settings.notes_dir()
    if not corpus.is_dir():
        raise CliError(f"Le dossier de notes « {corpus} » est introuvable ({_ORIGIN[origin]}).")
    cards = cards_of(corpus)
    services = None
    if args.service:
        headings = headings_of(cards)
        service = match_service(args.service, headings)  # "SSM", "pinpoint" as well as the full heading
        if service is None:
            raise CliError(f"Aucun service « {args.service} » dans les notes (services : {', '.join(headings)}).")
        services = [service]
    return filter_cards(cards, services, args.exam_only)


def _summary(cards: list[Card]) -> str:
    n = count_kinds(cards)
    return f"{len(cards)} cartes : " + ", ".join(f"{n[k]} {KIND_NAMES[k]}" for k in n)


def _cmd_cards(args) -> int:
    cards = _select(args)
    if args.json:
        print(json.dumps({"cards": [c.to_dict() for c in cards]}, ensure_ascii=False, indent=1))
        return 0
    for c in cards:
        where = " › ".join([c.heading, *c.context])
        exam = ", examen" if c.exam else ""
        print(f"{c.ref} [{c.kind}{exam}] {where}")
        print(f"  Q : {c.prompt}")
        answer = c.answer.replace("\n", "\n      ")
        print(f"  R : {answer}")
    print(_summary(cards))
    return 0


def _export_target(path: Path, force: bool) -> None:
    """Refuse any path but a .apkg one, and an existing .apkg without --force: nothing is written over."""
    if path.suffix.lower() != ".apkg":
        raise CliError(f"« {path} » ne finit pas par .apkg : l'export Anki n'écrit que des .apkg, rien n'a été écrit.")
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file():
            raise CliError(f"« {path} » existe et n'est pas un fichier ordinaire : rien n'a été écrit.")
        if not force:
            raise CliError(f"« {path} » existe déjà : ajoute --force pour le remplacer (rien n'a été écrit).")


def _cmd_export(args) -> int:
    target = Path(args.anki).expanduser()
    _export_target(target, args.force)
    cards = _select(args)
    if not cards:
        raise CliError("Aucune carte dans ces notes (ni gras, ni liste, ni tableau) : rien n'a été écrit.")
    report = export_anki(cards, target)
    decks = ", ".join(f"« {d} »" for d in report.decks)
    print(
        f"{report.notes} notes Anki écrites dans {report.path} (paquet{'s' if len(report.decks) > 1 else ''} {decks})."
    )
    print(_summary(cards))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m revision", description="Cartes de révision tirées de tes notes, mot pour mot.")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    c = sub.add_parser("cards", help="lister les cartes")
    e = sub.add_parser("export", help="exporter les cartes pour Anki")
    for p in (c, e):
        p.add_argument("--corpus", default=None, help="dossier des notes (défaut : celui de l'appli)")
        p.add_argument("--service", default=None, help="un seul service (nom de rubrique, ou nom court : SSM)")
        p.add_argument("--exam-only", action="store_true", help="seulement les conseils d'examen")
    c.add_argument("--json", action="store_true", help="sortie JSON")
    e.add_argument("--anki", required=True, metavar="FICHIER.apkg", help="paquet Anki à écrire (.apkg)")
    e.add_argument("--force", action="store_true", help="remplacer le fichier .apkg s'il existe déjà")
    args = ap.parse_args(argv)
    try:
        return _cmd_cards(args) if args.cmd == "cards" else _cmd_export(args)
    except CliError as err:
        print(f"Erreur : {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head`: the reader left
        return 0
    except OSError as err:
        print(f"Erreur : {err.strerror or err} ({err.filename or ''}).", file=sys.stderr)
        return 2
    except Exception as err:
        if config.debug():
            raise
        print(f"Erreur inattendue : {err.__class__.__name__} (RETRIEVAL_DEBUG=1 pour le détail).", file=sys.stderr)
        return 1
