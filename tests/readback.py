"""Reading what the app shows back into the notes' terms (tests only): cited line numbers, Markdown quotes."""

import re

from retrieval.presentation.formatting import HIGHLIGHT, delimiters, emphasis_pairs


def line_numbers(ranges: str) -> list[int]:
    """The inverse of `line_ranges`: "92, 94–98" → [92, 94, 95, 96, 97, 98] (tests read cited lines back)."""
    out: list[int] = []
    for part in ranges.split(", "):
        a, _, b = part.partition("–")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def shown_text(text: str) -> str:
    """What a reader sees of `quote_markdown(text)`: the note minus the live emphasis delimiters."""
    return "\n".join(
        "".join(c for i, c in enumerate(line) if i not in delimiters(emphasis_pairs(line))) for line in text.split("\n")
    )


def unrender_quote(md: str) -> str:
    """Inverse of `quote_markdown` / `escape_markdown` (for tests): highlights and escapes removed."""
    md = md.replace("  \n", "\n")
    md = re.sub(re.escape(HIGHLIGHT[0]) + r"([0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]*)" + re.escape(HIGHLIGHT[1]), r"\1", md)
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)
