"""The sides a question compares, read off its own syntax: "entre X et Y", "X vs Y", "X versus Y",
"X ou Y"; and the things it compares that are not headings ("SNS", "Lambda").

`named`: the folded words of the services the question names (their aliases' words).
"""

from __future__ import annotations

import re

from .lexical import STOP_WORDS
from .services import VENDOR_WORDS
from .text import fold, fold_words
from .vocabulary import Vocabulary

_BETWEEN = re.compile(r"\b(?:entre|between)\s+(.+?)\s+(?:et|and)\s+(.+?)(?=\s*[?!.,;:]|$)", re.IGNORECASE)
_VERSUS = re.compile(r"([^?!.,;:]+?)\s+(vs\.?|versus|ou|or|≠)\s+([^?!.,;:]+)", re.IGNORECASE)
_NAME_LIKE = re.compile(r"[A-Z].*[A-Z]|\d|^[A-Z][a-z]+[A-Z]|^[A-Z]{2,}")
_SIDE_WORDS = 3  # a compared side is at most this many words next to "vs" / "ou"
# Words that end a compared side: "EFS ou FSx pour des serveurs Windows ?" compares EFS and FSx.
_LEAD_OUT = frozenset(
    fold(w) for w in "pour dans avec sur quand si qui que de du des for in with on when if of".split()
)
_LEAD_IN = frozenset(fold(w) for w in "différence différences difference comparer compare comparaison".split())


def compared_sides(query: str, named: set[str], vocabulary: set[str], names_only: bool) -> list[str]:
    """The things a question compares that are not named services, when the notes hold them.

    Read off the question's own syntax: "entre X et Y", "X vs Y", "X versus Y", "X ou Y". With a bare
    "ou" (names_only), a side must look like a name (an acronym, a word with a digit or a capital:
    "CRR ou SRR ?", not "yaml ou json ?", which asks which format)."""
    f = query.replace("\u2019", "'")
    m = _BETWEEN.search(f)
    pairs = [(m.group(1), m.group(2))] if m else []
    first = next(iter(re.findall(r"[\w.+/-]+", f)), "")  # capitalised as the question's first word only
    for m in _VERSUS.finditer(f):
        if names_only and m.group(2).lower() not in ("ou", "or"):
            continue
        pairs.append((m.group(1), m.group(3)))
    out: list[str] = []
    for left, right in pairs:
        for side in (_tail(left), _head(right)):
            words = [w for w in re.findall(r"[\w.+/-]+", side) if fold(w) not in STOP_WORDS]
            if not words or all(fold(w) in named for w in words):
                continue  # a service already named, or nothing left
            if not all(p in vocabulary for w in words for p in fold_words(w)):
                continue  # the notes never write it: not a side they can show ("SSE-KMS": "sse", "kms")
            if names_only and not (
                any(_name_like(w, first) for w in words) or _parallel(left, right) or _two_terms(left, right)
            ):
                continue
            out.append(" ".join(words))
    return out if len(out) >= 2 or not names_only else []


def choice_next_to_service(query: str, aliases: list[list[str]]) -> bool:
    """ "X ou Y" where X or Y is a named service ("Batch ou Lambda ?"; not "yaml ou json");
    `aliases`: the named services' aliases."""
    words = fold_words(query)
    for i, w in enumerate(words):
        if w in ("ou", "or") and any(
            words[max(0, i - len(a)) : i] == a or words[i + 1 : i + 1 + len(a)] == a for a in aliases
        ):
            return True
    return False


def compared_terms(query: str, named: set[str], vocabulary: Vocabulary) -> list[str]:
    """Things compared that are not headings: acronyms or names the notes mention ("SNS", "Lambda")."""
    out = []
    words = re.findall(r"\b[A-Za-z][A-Za-z0-9]+\b", query)
    for i, w in enumerate(words):
        fw = fold(w)
        if fw in named or fw in STOP_WORDS or fw in VENDOR_WORDS:
            continue
        if fw in vocabulary.upper_words or fw in vocabulary.name_words or (w.isupper() and len(w) >= 2):
            # a name in several capitalised words stays whole: "Direct Connect", "Snow Family"
            a, b = i, i + 1
            while a > 0 and words[a - 1][0].isupper() and fold(words[a - 1]) not in named | VENDOR_WORDS:
                a -= 1
            while b < len(words) and words[b][0].isupper() and fold(words[b]) not in named | VENDOR_WORDS:
                b += 1
            out.append(" ".join(words[a:b]) if w[0].isupper() else w)
    return list(dict.fromkeys(out))


def fewest_words(terms: list[str]) -> list[str]:
    """Compared terms without repeats: a term holding all the words of a shorter one gives way to it."""
    out: list[str] = []
    for t in sorted(dict.fromkeys(terms), key=lambda x: len(x.split())):
        words = set(fold_words(t))
        if not any(set(fold_words(o)) <= words for o in out):
            out.append(t)
    return sorted(out, key=terms.index)


def _name_like(word: str, first: str) -> bool:
    """An acronym, a word with a digit or inner capitals, or a capitalised word inside the question
    ("Security Group ou NACL ?"), not the question's first word ("Emails ou SMS ?")."""
    return bool(_NAME_LIKE.search(word)) or (word[:1].isupper() and word != first)


def _parallel(left: str, right: str) -> bool:
    """Two sides worded alike, the same first word then another ("git reset ou git revert", "docker stop
    ou docker kill"): two options of one thing, compared even when neither looks like a name."""
    a, b = fold_words(_tail(left)), fold_words(_head(right))
    return len(a) >= 2 and len(b) >= 2 and a[0] == b[0] and a[0] not in STOP_WORDS and a[1:] != b[1:]


def _two_terms(left: str, right: str) -> bool:
    """Two terms of several words each ("target tracking ou step scaling ?"): compared, where single
    words ("yaml ou json ?") more often ask which one."""
    a = [w for w in fold_words(_tail(left)) if w not in STOP_WORDS]
    b = [w for w in fold_words(_head(right)) if w not in STOP_WORDS]
    return len(a) >= 2 and len(b) >= 2


def _tail(text: str) -> str:
    words = [w for w in text.split() if fold(w) not in _LEAD_IN]
    return " ".join(words[-_SIDE_WORDS:])


def _head(text: str) -> str:
    words = re.sub(r"\b[dD]'", "de ", text).split()
    cut = next((i for i, w in enumerate(words) if fold(w) in _LEAD_OUT), len(words))
    return " ".join(words[:cut][:_SIDE_WORDS])
