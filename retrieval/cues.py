"""The cues of a question's words: does it compare, ask for exam tips, ask what something is, ask
for a figure; and the term a note line defines. Patterns on folded text, written for no set of notes.
"""

from __future__ import annotations

import re

from .conventions import DEFINED_TERM
from .lexical import STOP_WORDS
from .text import fold, fold_words

COMPARE = [
    r"\bdiff[eé]rences?\b",
    r"\bdiff[eé]rencier\b",
    r"\bdiff\b",  # "c'est quoi la diff"
    r"\bdistingu\w*",
    r"\bdistinction\b",
    r"\bcompar\w*",
    r"\bvs\.?(?=\s|$)",
    r"\bversus\b",
    r"\bdifference between\b",
    r"\bconfondre\b",
]
TIPS = [
    r"\bconseils?\b",
    r"\bastuces?\b",
    r"\ba retenir\b",
    r"\bretenir\b",
    r"\bpour l'?\s?examen\b",
    r"\bexamen\b",
    r"\bexam\b",
    r"\bcertif\w*",
    r"\btips?\b",
    r"\bpieges?\b",
    r"\bquoi reviser\b",
    r"\bsaa\b",
]
# "c'est quoi X ?", "what is X", "c koi X", "kesako X": a question asking what something is (folded text).
DEFINITION = re.compile(
    r"\bc'?est (?:quoi|koi)\b|\bqu'?est[- ]ce qu|\bc (?:koi|quoi)\b|\bkesako\b|\bdefini\w*"
    r"|\bwhat(?: is|'s| are)\b|\ba quoi sert\b|\bca sert a quoi\b"
)
# "parle-moi de X", "explique X", "résume-moi X", "X il sert à quoi", "X ça fait quoi", "comment marche X",
# "tell me about X": what X is, asked another way (folded text).
ABOUT = re.compile(
    r"\bparle[sz]?[- ]moi\b|\bexplique[sz]?\b|\b(?:presente|resume)[sz]?[- ]moi\b|\bdis[- ]m'?en\b|\bsert a quoi\b"
    r"|\bfait quoi\b|\bcomment (?:ca )?(?:marche|fonctionne)\b|\b(?:ca )?(?:marche|fonctionne) comment\b"
    r"|\btell me about\b"
)
# Words of a chat that ask nothing ("ok et SSO c'est quoi déjà ?", "et outposts alors ?") (folded words).
CHAT_WORDS = frozenset("ok okay daccord d accord merci super cool bon bien parfait top deja alors".split())
# What a bare "what is X" question holds besides X and stop words (folded words).
DEFINITION_WORDS = frozenset(
    fold("koi quoi kesako sert définition définir what is it are le la les un une service outil").split()
)
# The question asks for a figure (folded text: "durée" is "duree").
ASKS_FIGURE = re.compile(
    r"\b(combien|prix|tarifs?|tarification|taille|duree|delai|limites?|quotas?|nombre"
    r"|maximum|maximale?|how (?:much|many|long)|price|pricing|size|limits?)\b"
)

# Money: a question asking what something costs ("ça coûte combien ?", "c'est facturé comment ?"), and a
# line saying it ("Payant : par élément enregistré", "0,10 $ par Go", "gratuit") (folded text).
PRICE = re.compile(
    r"\b(?:cout(?:e|es|er|ent|s)?|prix|tarif\w*|factur\w*|payante?s?|payer|paie|gratuite?s?"
    r"|price|pricing|priced|cost|costs|free|billed|billing)\b|[$€]"
)


def asks_price(text: str) -> bool:
    """The text speaks of money: what something costs, how it is billed (folded text)."""
    return bool(PRICE.search(text))


def comparison_cue(text: str) -> str:
    """What makes a text compare ("différence", "vs", "confondre"), "" when nothing does (folded text)."""
    m = next((m for m in (re.search(p, text) for p in COMPARE) if m), None)
    return m.group(0) if m else ""


def tips_cue(text: str) -> bool:
    """The text asks for exam tips ("conseils", "pour l'examen", "exam") (folded text)."""
    return any(re.search(p, text) for p in TIPS)


def asks_definition(text: str) -> bool:
    """The text asks what something is ("c'est quoi", "qu'est-ce que", "what is") (folded text)."""
    return bool(DEFINITION.search(text))


def asks_about(text: str) -> bool:
    """The text asks to be told about something ("parle-moi de", "explique") (folded text)."""
    return bool(ABOUT.search(text))


def defined_term(text: str) -> list[str]:
    """The folded words of the term a line defines ([] when it defines none, or a long phrase)."""
    m = DEFINED_TERM.match(text)
    words = [w for w in fold_words(m.group(1) or m.group(2)) if w not in STOP_WORDS] if m else []
    return words if len(words) <= 3 else []  # a term, not a sentence ending in ":"


def defines(text: str, term: list[str]) -> bool:
    """The line defines what "c'est quoi X" asks: its term is X, give or take one word of the question."""
    d = set(defined_term(text))
    return bool(d) and d <= set(term) and len(d) >= max(1, len(set(term)) - 1)
