"""One French sentence for every error a user can cause: the CLI and the app both show these."""

from __future__ import annotations

import errno

from ..embedding import ModelLoadError
from ..notes.settings import folder_hint
from ..store import IndexError_

# errno → what happened and what to do, for the system errors files and folders give.
_OS_ERRORS = {
    errno.ELOOP: "« {f} » est un lien symbolique en boucle : supprime ce lien, puis relance",
    errno.EACCES: "Accès refusé à « {f} » : vérifie les droits sur le dossier de l'index ou des notes",
    errno.EPERM: "Opération refusée sur « {f} » : vérifie les droits sur le dossier de l'index ou des notes",
    errno.ENOSPC: "Le disque est plein (« {f} ») : libère de la place, puis relance",
    errno.EROFS: "« {f} » est sur un disque en lecture seule : choisis un dossier d'index modifiable",
    errno.ENOTDIR: "« {f} » n'est pas un dossier : vérifie le chemin de l'index ou des notes",
    errno.EISDIR: "« {f} » est un dossier là où un fichier est attendu : vérifie le chemin",
    errno.ENAMETOOLONG: "Le chemin « {f} » est trop long : choisis un dossier plus court",
    errno.EMFILE: "Trop de fichiers ouverts : ferme d'autres programmes, puis relance",
}


def os_error_sentence(e: OSError) -> str:
    """A system error as one French sentence naming the file and what to do."""
    if len(e.args) == 1 and isinstance(e.args[0], str) and e.errno is None:
        return e.args[0]  # our own messages are already French sentences
    where = e.filename or "un fichier"
    template = _OS_ERRORS.get(e.errno or 0)
    if template:
        return template.format(f=where) + "."
    why = e.strerror or e.__class__.__name__
    return f"Erreur de fichier sur « {where} » ({why}) : vérifie le chemin et les droits."


def friendly_error(e: BaseException) -> str:
    """One French sentence for the user; never a traceback."""
    if isinstance(e, IndexError_):
        return str(e)
    if isinstance(e, ModelLoadError):
        return f"Le modèle d'embeddings n'a pas pu être chargé ({e})."
    if isinstance(e, FileNotFoundError) and str(e).startswith("Le dossier"):
        return f"{e} {folder_hint()}"  # the variable, the chosen folder or the default: said as it is
    if isinstance(e, OSError):
        return os_error_sentence(e)
    return f"Erreur inattendue ({e.__class__.__name__}) : réessaie, ou reconstruis l'index depuis le panneau latéral."
