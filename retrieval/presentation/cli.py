"""Command line: `python -m retrieval build|search|ask|chat|notes`. Errors are one line on stderr, exit code 2.

No traceback reaches the user: expected failures (missing folder, busy or broken index,
model) are one French sentence; anything else is one line too, "Erreur inattendue", with
the traceback only when RETRIEVAL_DEBUG is set.
"""

from __future__ import annotations

import argparse
import json
import sys

from .. import config
from ..embedding import ModelLoadError
from .errors import os_error_sentence
from .formatting import terminal_safe
from .terminal import one_line, progress_bar, tolerant_streams

MAX_K = 100


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage block) and exit code 2."""

    def error(self, message: str):
        print(f"Erreur : {one_line(message)} (voir --help)", file=sys.stderr)
        raise SystemExit(2)


def _k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"-k attend un nombre entier, pas « {value} »") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"-k doit être entre 1 et {MAX_K} (reçu {k})")
    return k


NO_NOTES = "Aucune note trouvée dans « {} » : ajoute des fichiers .md, puis relance."


def _cmd_build(args) -> int:
    from ..retriever import Retriever

    r = Retriever.build(args.corpus, args.index, args.model, progress=progress_bar())
    s = r.last_build
    assert s is not None
    print(
        f"Index construit : {s.files} fichier(s), {s.chunks} passages, modèle {r.manifest['model']}, "
        f"{s.seconds:.1f} s → {terminal_safe(str(args.index))}"
    )
    for line in s.report.lines():
        print("  " + terminal_safe(line))
    if not s.chunks:
        print(terminal_safe(NO_NOTES.format(args.corpus)), file=sys.stderr)
    return 0


def _question(args):
    """(retriever, cleaned question) for `search` and `ask`, notices on stderr; None when the question is empty."""
    from ..querytext import clean_query
    from ..retriever import Retriever

    query, qnotice = clean_query(" ".join(args.query))
    if not query:
        print(f"Erreur : {qnotice}", file=sys.stderr)
        return None
    r, notice = Retriever.open(args.corpus, args.index, args.model, progress=progress_bar())
    if notice:
        print(terminal_safe(notice), file=sys.stderr)
    return r, query, qnotice, notice


def _after_question(r, qnotice: str, notice: str, corpus: str) -> None:
    # the question refreshes the index first when notes changed: say so, with what was skipped
    for line in _build_report(r, notice):
        print(terminal_safe(line), file=sys.stderr)
    if not r.chunks:
        print(terminal_safe(NO_NOTES.format(corpus)), file=sys.stderr)
    if qnotice:
        print(qnotice, file=sys.stderr)


def _cmd_search(args) -> int:
    from .formatting import format_hits, hits_to_json

    asked = _question(args)
    if asked is None:
        return 2
    r, query, qnotice, notice = asked
    hits = r.search(query, k=args.k)
    _after_question(r, qnotice, notice, args.corpus)
    print(
        json.dumps(hits_to_json(query, hits), ensure_ascii=False, indent=1) if args.json else format_hits(query, hits)
    )
    return 0


def _cmd_ask(args) -> int:
    from .formatting import answer_to_json, format_answer

    asked = _question(args)
    if asked is None:
        return 2
    r, query, qnotice, notice = asked
    answer = r.ask(query, k=args.k)
    _after_question(r, qnotice, notice, args.corpus)
    print(json.dumps(answer_to_json(answer), ensure_ascii=False, indent=1) if args.json else format_answer(answer))
    return 0


NEW_CONVERSATION = ("/nouvelle", "/new")  # a chat line that forgets the conversation's subject
WITHOUT_SUBJECT = ("/sans", "/without")  # ... that asks the last question again without its carried subject


def _cmd_chat(args) -> int:
    """A conversation in the terminal: one question per line of stdin, each asked with the previous answer,
    so that "et pour l'examen ?" keeps the subject of the question before (as in the page's chat)."""
    from ..conversation import label
    from ..querytext import clean_query
    from ..retriever import Retriever
    from .formatting import answer_to_json, format_answer

    r, notice = Retriever.open(args.corpus, args.index, args.model, progress=progress_bar())
    if notice:
        print(terminal_safe(notice), file=sys.stderr)
    if not r.chunks:
        print(terminal_safe(NO_NOTES.format(args.corpus)), file=sys.stderr)
    tty = sys.stdin.isatty()
    if tty:
        print(
            f"Pose tes questions, une par ligne ({NEW_CONVERSATION[0]} : nouvelle conversation ; "
            f"{WITHOUT_SUBJECT[0]} : la dernière question sans le sujet reporté ; Ctrl-D pour finir).",
            file=sys.stderr,
        )
    previous = None  # the last answer, passed to the next question
    last = ""  # its question, for /sans
    reported = r.last_build  # a refresh between two questions is said once
    while True:
        if tty:
            print("> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        typed = line.strip()
        if typed in NEW_CONVERSATION:
            previous = None
            print("Nouvelle conversation.", file=sys.stderr)
            continue
        if typed in WITHOUT_SUBJECT:
            if previous is None or previous.subject is None:
                print("La dernière réponse n'a rien reporté de la question précédente.", file=sys.stderr)
                continue
            query, context = last, None
        else:
            query, qnotice = clean_query(typed)
            if not query:
                if typed:
                    print(f"Erreur : {qnotice}", file=sys.stderr)
                continue
            if qnotice:
                print(qnotice, file=sys.stderr)
            context = previous
        answer = r.ask(query, k=args.k, previous=context)
        if r.refresh_notice:
            print(terminal_safe(r.refresh_notice), file=sys.stderr)
        if r.last_build is not reported:
            reported = r.last_build
            for note in _build_report(r, ""):
                print(terminal_safe(note), file=sys.stderr)
        previous, last = answer, query
        if args.json:
            print(json.dumps({"question": query, **answer_to_json(answer)}, ensure_ascii=False), flush=True)
            continue
        head = [terminal_safe(label(answer.subject))] if answer.subject else []
        print("\n".join([*head, format_answer(answer), ""]), flush=True)


def _build_report(r, notice: str) -> list[str]:
    out = []
    if r.refresh_notice:
        out.append(r.refresh_notice)
    s = r.last_build
    if s is not None:
        if not notice:
            out.append(f"Index mis à jour : {s.files_parsed} fichier(s) relu(s), {s.embedded} passage(s) encodé(s).")
        out += ["  " + line for line in s.report.lines()]
    return out


def _app_folders(args) -> None:
    """--corpus / --index left out: the app's folders ($RETRIEVAL_CORPUS, the folder chosen on the page,
    corpus/ beside app.py; $RETRIEVAL_INDEX, index/ beside app.py), as every other entry point reads them."""
    if args.corpus is None or args.index is None:
        from ..notes.settings import paths

        corpus, index = paths()
        args.corpus = str(corpus) if args.corpus is None else args.corpus
        args.index = str(index) if args.index is None else args.index


def main(argv: list[str] | None = None) -> int:
    tolerant_streams()
    ap = _Parser(prog="python -m retrieval", description="Recherche dans tes notes (citations exactes).")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    b = sub.add_parser("build", help="construire l'index des notes")
    s = sub.add_parser("search", help="chercher dans les notes (une puce par résultat)")
    a = sub.add_parser("ask", help="poser une question : les passages des notes qui y répondent")
    c = sub.add_parser(
        "chat", help="une conversation : une question par ligne, « et pour l'examen ? » garde le sujet d'avant"
    )
    for p in (b, s, a, c):
        p.add_argument("--corpus", default=None, help="dossier des notes (défaut : celui de l'appli)")
        p.add_argument("--index", default=None, help="dossier de l'index (défaut : celui de l'appli)")
        p.add_argument(
            "--model", default=None, help="modèle d'embeddings (défaut : $RETRIEVAL_MODEL ou multilingual-e5-small)"
        )
    for p in (s, a, c):
        p.add_argument("-k", type=_k, default=5, help=f"nombre de passages, 1 à {MAX_K} (défaut : 5)")
        p.add_argument(
            "--json", action="store_true", help="sortie JSON" + (" : un objet par ligne et par tour" if p is c else "")
        )
    for p in (s, a):
        p.add_argument("query", nargs="+", help="la question")
    from .notes_cli import add_parser as add_notes_parser

    add_notes_parser(sub)
    args = ap.parse_args(argv)

    from ..store import IndexError_

    try:
        if args.cmd == "notes":
            from .notes_cli import run as notes

            return notes(args)
        _app_folders(args)
        return {"build": _cmd_build, "search": _cmd_search, "ask": _cmd_ask, "chat": _cmd_chat}[args.cmd](args)
    except (ModelLoadError, IndexError_) as e:
        print(f"Erreur : {one_line(terminal_safe(str(e)))}", file=sys.stderr)
        return 2
    except OSError as e:  # our own messages are French sentences; the system's become one
        if isinstance(e, BrokenPipeError):  # `... | head`: the reader left, nothing to say
            return 0
        print(f"Erreur : {one_line(terminal_safe(os_error_sentence(e)))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as e:
        if config.debug():
            raise
        print(
            f"Erreur inattendue : {e.__class__.__name__}: {one_line(e)} (RETRIEVAL_DEBUG=1 pour le détail)",
            file=sys.stderr,
        )
        return 1
