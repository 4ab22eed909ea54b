"""How a question reads as going on from the previous one, from its words alone: the cues of
retrieval/conversation.py ("et …", "il", "ses", "l'activer", a question of three words), a comparison
with what was said ("par rapport à", "c'est mieux que"), a thing set against it ("à part SNS").

French (and a little English) grammar, never the names of one set of notes: what the question names
is read against the notes' catalog in conversation.py.
"""

from __future__ import annotations

import re

from .cues import CHAT_WORDS, asks_about, asks_definition, comparison_cue, tips_cue
from .lexical import STOP_WORDS, tokenize
from .text import fold, fold_words

# The first word of a question that goes on from the previous one ("et pour l'examen ?").
LEADS = frozenset("et and mais but sinon puis ensuite alors donc aussi also what about".split())
# Words said before it, that do not count ("ok et les limites ?", "d'accord, et …").
FILLERS = CHAT_WORDS - {"alors"}
# Words that refer back to something already said ("il se connecte à quoi ?", "ses limites", "ça coûte combien ?").
# Not "dessus", "dedans": in a long question they point inside it ("… sans que je colle des clés dedans ?").
BACK = frozenset(
    "il elle ils elles lui leur leurs son sa ses celui celle ceux celles ca cela ceci cet cette ces "
    "lequel laquelle lesquels lesquelles it its they them their this that".split()
)
# "il y a", "il faut", "il existe": "il" that refers to nothing.
_IMPERSONAL = re.compile(r"\bil (?:y a|faut|existe|est possible|vaut mieux|s'agit)\b")
# "comment l'activer ?": "l'" before a verb in the infinitive refers back; so does an object pronoun
# between a person and its verb ("à partir de quand on l'utilise ?", "on le configure où ?").
# An object pronoun before an infinitive after a modal ("on peut le chiffrer ?", "comment le choisir ?"),
# "y" ("qui peut y accéder ?", "on y accède comment ?") and "en" ("comment s'en servir ?", "je peux en mettre
# une ailleurs ?") refer back too.
_OBJECT = re.compile(
    r"\bl'\s?\w+(?:er|ir)\b|\b(?:on|je|tu|nous|vous)\s+(?:l'\s?|le\s+|la\s+|les\s+)\w+|\b(?:il|elle|ils|elles)\s+l'\s?\w+"
    r"|\b(?:peut|peux|peuvent|faut|dois|doit|doivent|veux|veut|comment|pourquoi|quand)(?:-on|-il|-je)?\s+(?:le|la|les)\s+\w+(?:er|ir|re)\b"
    r"|\b(?:on|je|tu|nous|vous|peut|peux|peuvent|faut|comment)\s+y\s+\w+|\bs'\s?en\s+\w+"
    r"|(?<=\bje |\btu |\bon )(?:peux|peut|dois|doit|veux|veut) (?:le|la|les) \w+"  # "je peux le commit ?"
    r"|\b(?:peut|peux|peuvent|faut|dois|doit|doivent|veux|veut)(?:-on|-il|-je)?\s+en\s+\w+(?:er|ir|re)\b"
)
# The words that frame a question and ask nothing themselves ("quels sont les pièges à l'examen ?").
FRAME = frozenset(
    "quel quelle quels quelles est sont combien comment pourquoi quand ou qui quoi what which are".split()
)
# Verbs of knowing, around a request for tips ("des pièges à connaître ?", "quoi retenir pour l'examen ?").
# Vague nouns too: "un truc à retenir pour l'exam ?".
KNOW = frozenset("connaitre savoir retenir noter faut truc trucs chose choses important importants".split())
# "c'est chiffré ?", "combien de temps c'est gardé ?": "c'" says something of what was said before;
# "c'est quoi X ?", "c'est qui", "c'est comment" ask about X instead.
# "c utile dans quels cas ?": "c" typed for "c'est".
_THIS_IS = re.compile(
    r"(?:\bc'\s?(?:est|etait)\b|^c(?= ))(?!\s+(?:quoi|koi|qui|qu|comment|pour|a dire|le|la|les|un|une|l'))"
)
# A comparison with what was said before, beyond the catalog's own cues ("et par rapport à SNS ?", "c'est
# mieux que Glue ?", "plus cher qu'EFS ?", "c'est pareil que MGN ?", "CloudTrail c'est pas la même chose ?",
# "je devrais pas plutôt utiliser Athena ?").
_RELATIVE = re.compile(
    r"\bpar rapport (?:a|au|aux)\b|\bcontrairement\b|\bau lieu d|\bface a\b|\bcompared\b"
    r"|\bplutot qu(?!e de\b|e d'|'\s?\w+er\b)"  # not "plutôt que de tout envoyer": actions, not services
    r"|\bplutot (?:utiliser|prendre|choisir|passer par|partir sur)\b"
    r"|\b(?:mieux|pire|moins bien|(?:plus|moins) \w+)\s+qu(?:e\b|')|\bpareil\b|\bla meme chose\b|\bidentique\b"
    r"|\bbetter than\b|\bsame as\b"
)
CUE_TOKENS = frozenset(t for w in BACK | LEADS for t in tokenize(w))  # "ça" is no subject of its own
SHORT = 3  # a question of this many words or fewer continues the previous one, when it names nothing


# "autre question : …", "rien à voir, …": the student says the subject changes.
NEW_TOPIC = re.compile(
    r"^\W*(?:(?:ok|bon|sinon|alors|et)\W+)*(?:autre (?:question|truc|chose|sujet)|rien a voir|changement de sujet"
    r"|nouvelle question|new question|another question)\b"
)


def new_topic(query: str) -> bool:
    """The question says it starts a new topic ("autre question, dans IAM Identity Center …")."""
    return bool(NEW_TOPIC.search(fold(query).replace("\u2019", "'")))


# "un load balancer", "une NACL": a thing brought in by an indefinite article is a new one, not the subject.
_INDEFINITE = re.compile(r"\b(?:un|une)\s+(?!peu\b|autre\b|moyen\b|truc\b|exemple\b)[a-z]\w+")


def asks_about_new(query: str) -> bool:
    """The question asks what a new thing is or does ("et un load balancer ça fait quoi ?"): "c'est quoi",
    "ça fait quoi", "ça sert à quoi" of a thing brought in by "un" / "une"."""
    f = fold(query).replace("\u2019", "'")
    return bool(_INDEFINITE.search(f)) and (asks_definition(f) or asks_about(f))


def continuation_cue(query: str) -> str:
    """What makes the question read as the continuation of the previous one ("" when nothing does)."""
    f = fold(query).replace("\u2019", "'")
    words = fold_words(f)
    while words and words[0] in FILLERS:
        words = words[1:]
    if not words:
        return ""
    if words[0] in LEADS:
        return words[0]
    back = [w for w in fold_words(_IMPERSONAL.sub(" ", f)) if w in BACK]
    if back:
        return back[0]
    m = _OBJECT.search(f) or _THIS_IS.search(f)
    if m:
        return m.group(0)
    asked = [w for w in words if w not in STOP_WORDS and w not in FRAME and w not in KNOW]
    if asked and all(tips_cue(w) for w in asked):
        return "examen"  # "quels sont les pièges à l'examen ?", "des pièges à connaître ?": tips, of nothing named
    # "il faut savoir coder ?": an impersonal "il faut" / "il y a" says nothing of what it is about
    typed = [w for w in _IMPERSONAL.sub(" ", f).split() if fold_words(w)]
    while typed and fold_words(typed[0])[0] in FILLERS:
        typed = typed[1:]
    if len(typed) <= SHORT:
        return f"{len(typed)} mot{'s' if len(typed) > 1 else ''}"
    return ""


def compares(query: str) -> str:
    """The comparison cue of a question ("différence", "par rapport à"), "" when it compares nothing."""
    f = fold(query).replace("\u2019", "'")
    m = _RELATIVE.search(f)
    return comparison_cue(f) or (m.group(0) if m else "")


# "on peut interroger autre chose que S3 ?", "et à part SNS ?": what is named after it is set against the
# subject, not asked about (folded text; the named thing is read off at most three words after it).
_EXCEPT = re.compile(
    r"\b(?:autres?(?:\s+[a-z]+)?\s+qu(?:e\s+|')|a part\s+|hormis\s+|sauf\s+|en dehors d(?:e\s+|u\s+|es\s+|')"
    r"|excepte\s+|other than\s+|besides\s+|apart from\s+)((?:[\w-]+\s*){1,3})"
)


def excepted(query: str) -> tuple[str, set[str]]:
    """The cue that sets something against the subject ("autre chose que"), and the folded words of that
    something ("", set() when the question sets nothing against it)."""
    m = _EXCEPT.search(fold(query).replace("\u2019", "'"))
    if not m:
        return "", set()
    return m.group(0)[: m.start(1) - m.start(0)].strip(), set(fold_words(m.group(1)))


# What a question opens with before it says anything ("ok et ", "d'accord, mais "), folded text.
LEAD = re.compile(rf"^\W*(?:(?:{'|'.join(sorted(FILLERS))})\W+)*(?:{'|'.join(sorted(LEADS))})\b\W*")
POSSESSIVE = frozenset("son sa ses leur leurs its their".split())
