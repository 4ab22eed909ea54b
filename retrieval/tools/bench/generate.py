"""The benchmark's inputs: distinct queries, and generated corpora whose chunks all differ.

Generated corpora are the notes with words substituted so that no two chunks share text
(the embedding cache would otherwise make build figures meaningless).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from .common import NOTES_DIR, ROOT

EVAL_FILES = [ROOT / "eval" / "dev.jsonl", ROOT / "eval" / "extra.jsonl"]
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]{4,}")


# ----- queries ----------------------------------------------------------------------------
def query_pool(n: int, seed: int = 0) -> list[str]:
    """n distinct questions: the evaluation questions first, then variants of them with an added word."""
    base: list[str] = []
    for f in EVAL_FILES:
        if f.exists():
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    base.append(json.loads(line)["q"])
    if not base:
        base = ["c'est quoi CloudFormation ?", "envoyer des emails avec SES", "Outposts pour l'examen"]
    vocab = sorted(set(w.lower() for w in _WORD.findall((NOTES_DIR / "other-services.md").read_text(encoding="utf-8"))))
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    for q in base:
        if q not in seen:
            seen.add(q)
            out.append(q)
    while len(out) < n:
        q = f"{rng.choice(base)} {rng.choice(vocab)}"
        if q not in seen:
            seen.add(q)
            out.append(q)
    rng.shuffle(out)
    return out[:n]


# ----- corpus generation ------------------------------------------------------------------
def generate_corpus(dest: Path, n_chunks: int, n_files: int, seed: int = 0) -> dict:
    """Write n_files notes of ~n_chunks/n_files chunks each: the notes' structure, words changed.

    Every chunk line gets >= 30 % of its words (>= 2) replaced by words of the notes, redrawn
    until its text is new, so that no two chunks embed the same text.
    """
    from ...parsing import parse_markdown

    src = (NOTES_DIR / "other-services.md").read_text(encoding="utf-8")
    lines = src.split("\n")
    chunk_lines = {c.line - 1 for c in parse_markdown(src, "other-services.md")}
    vocab = sorted(set(_WORD.findall(src)))
    rng = random.Random(seed)
    seen: set[str] = set()
    per_file = max(1, n_chunks // n_files)
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    headings = [j for j, ln in enumerate(lines) if ln.startswith("## ")]
    for f in range(n_files):
        # Each file starts at another place of the notes (under that place's "##" heading),
        # so that the generated corpus covers all of the notes, not n_files times their start.
        start = (f * 97) % len(lines)
        out = [lines[0], ""]
        h = max((j for j in headings if j <= start), default=None)
        if h is not None:
            out += [lines[h], ""]
        count = 0
        i = start
        while count < per_file:
            j = i % len(lines)
            ln = lines[j]
            if j == 0 and i != start:
                out.append("")
            if j in chunk_lines:
                ln = _mutate(ln, vocab, rng, seen)
                count += 1
            out.append(ln)
            i += 1
        (dest / f"notes-{f:04d}.md").write_text("\n".join(out) + "\n", encoding="utf-8")
        total += count
    return {"files": n_files, "chunk_lines": total}


def _mutate(line: str, vocab: list[str], rng: random.Random, seen: set[str]) -> str:
    spans = [m.span() for m in _WORD.finditer(line)]
    for attempt in range(20):
        k = min(len(spans), max(2, int(len(spans) * (0.3 + 0.1 * attempt))))
        chosen = set(rng.sample(range(len(spans)), k)) if spans else set()
        parts, last = [], 0
        for j, (a, b) in enumerate(spans):
            parts.append(line[last:a])
            parts.append(rng.choice(vocab) if j in chosen else line[a:b])
            last = b
        parts.append(line[last:])
        new = "".join(parts)
        if attempt >= 10:  # very short line: grow it
            new = new.rstrip() + " " + " ".join(rng.choice(vocab) for _ in range(attempt - 8))
        key = new.strip()
        if key not in seen:
            seen.add(key)
            return new
    raise RuntimeError("could not make a unique chunk text")


def edit_one_file(corpus: Path, seed: int = 1) -> str:
    """Change the words of two bullets and add one in the middle file: 'editing one file'."""
    files = sorted(corpus.glob("*.md"))
    target = files[len(files) // 2]
    lines = target.read_text(encoding="utf-8").split("\n")
    rng = random.Random(seed)
    vocab = sorted(set(_WORD.findall("\n".join(lines))))
    bullets = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("- ") and len(_WORD.findall(ln)) >= 3]
    for i in bullets[len(bullets) // 3 : len(bullets) // 3 + 2]:
        lines[i] = _mutate(lines[i], vocab, rng, set())
    lines.insert(bullets[len(bullets) // 2], "- Ajout pendant la révision : " + " ".join(rng.sample(vocab, 8)))
    target.write_text("\n".join(lines), encoding="utf-8")
    return target.name
