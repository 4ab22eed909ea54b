"""The conventions of note-taking tools, in one table: what each tool writes beyond CommonMark.

`retrieval/reader.py` reads the Markdown; the rows of `CONVENTIONS` then read, on its lines,
what a tool means by what it writes: metadata that is no passage, a title the file name gives,
callouts written as HTML, task markers. Each row is a function `(Document, source) -> None`
that changes the roles of lines (`Line.kind = "meta"`, `Line.tip`, `Line.text`) or the page's
`title`, `names` and `tags`. Quotes stay verbatim: a row may narrow a line's `text` to a part
of it (a task marker left out), never write words of its own.

To add a convention: write its function below, add its row to `CONVENTIONS` (tool, what it
reads, in words), and a test on a real-looking note in tests/test_conventions.py.
Joplin, Typora and plain files need no row: they are plain CommonMark.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

from .models import Chunk
from .reader import Document, Line, read
from .text import fold, strip_emphasis

# Exam tips, in a heading ("Astuces examen", "7. Astuces pour l'Examen", "Exam tips"), a parent
# bullet ("Pour l'examen AWS SAA", "À retenir :", "Pièges"), a callout's title (folded text).
TIPS_LABEL = re.compile(r"\b(examen|exam|certif\w*|a retenir|astuces?|pieges?|tips?)\b")
TIP_CALLOUTS = frozenset({"tip", "hint", "important", "exam"})  # Obsidian `> [!tip]` types that are tips

_NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")  # "Amazon Athena 4da7b7a63622330f37fe06b4cf92877d"
_LOGSEQ_PROPERTY = re.compile(r"^([A-Za-z][\w-]*)::(?:\s+(.*))?$|^(SCHEDULED|DEADLINE): <[^>]*>$")  # "alias:: VPC"
_NOTION_PROPERTY = re.compile(r"^([A-Z][\w'’-]*(?: [\w'’-]+){0,2}): (\S.*)$")  # "Created: 14 mars 2025 10:20"
_TASK = re.compile(r"^(?:TODO|DOING|DONE|LATER|NOW|WAITING|WAIT|CANCELED|CANCELLED|IN-PROGRESS)\s+(?=\S)")
_BLOCK_NOISE = re.compile(r"\{\{[^{}]*\}\}|\(\([0-9a-f-]{8,}\)\)")  # Logseq {{embed …}}, ((block ref))
_FRONT_KEY = re.compile(r"^([A-Za-z_-]+):\s*(.*)$")
_PAGE_TAG = re.compile(r"(?<!\S)#(?:\[\[[^\]]*\]\]|[^\s#\[\]]+)")  # Logseq "#[[connecter des VPC]]", "#SAA"
SECTION_MAX_WORDS = 6  # a top-level bullet that names a section is short ("NAT Gateway vs NAT instance")

# How students write a definition or a question in plain lines, in any tool.
# A line that starts a statement of its own, even under a line without a full stop: a term defined
# ("**Multi-AZ** — …", "Cold start :: …", "Durée : …") or a question and its answer ("Q : …", "R : …").
# Google Docs escapes the list markers it did not make (`1\. Prompt engineering`, `\- Limites`): each
# such line starts a statement of its own too.
NEW_STATEMENT = re.compile(
    r"^(?:\*\*[^*]{1,60}\*\*\s*[—–:=-]|[^\s:][^:]{0,60}\s::\s|[QR]\s?:\s|\d{1,3}\\[.)]\s|\\[-*+]\s)"
)
# A line that defines a term: "**Stack** = …", "**URL pré-signée** : …", "Cold start :: …", "Durée max : …".
DEFINED_TERM = re.compile(r"^\*\*([^*]{1,60})\*\*\s*(?:[:=—–]|-\s)|^([^*:=]{1,60}?)\s(?:::|[:=—–])\s")


def is_tips_label(text: str) -> bool:
    """A heading, parent bullet or callout title announcing exam tips ("Pour l'examen", "Astuces examen")."""
    return bool(TIPS_LABEL.search(fold(text)))


def page_name(source: str) -> str:
    """The page a file holds, by its name: the stem, Notion's 32-hex id left out."""
    return _NOTION_ID.sub("", PurePosixPath(source).stem)


def titles_its_file(title: str, source: str) -> bool:
    """The title is the page's own name, as Notion names files after its pages ("Amazon Athena
    4da7….md" / "# Amazon Athena"). A hand-made slug ("other-services.md" / "# Other Services") is no
    such name."""
    return bool(title) and fold(title) == fold(page_name(source))


def subject(c: Chunk) -> str:
    """The page's subject, when the page has one, else "": a Notion page is one thing (its sub-pages
    are other pages), named by its title; a note without a `#` title is named by its file name (its
    first heading). A `#` title over several sections of a Markdown file ("# Bases de données")
    is a chapter, not a subject: it stays out of search, as it always did."""
    if not c.title:
        return (own_path(c) or [c.heading])[0]
    if _NOTION_ID.search(PurePosixPath(c.source).stem) and titles_its_file(c.title, c.source):
        return c.title
    return ""


def _list(value: str) -> list[str]:
    """ "[a, b]", "a, b", "[[a]], b" → ["a", "b"]."""
    value = value.strip().strip("[]")
    return [x.strip().strip("[]\"' ") for x in value.split(",") if x.strip().strip("[]\"' ")]


def _front_matter(doc: Document, source: str) -> None:
    """YAML front matter (Obsidian, Typora, Jekyll): `aliases:` name the page, `tags:` tag it, `title:` titles it."""
    key = ""
    for raw, r in zip(doc.lines, doc.roles):
        if r.kind != "meta" or r.prop is not None:
            if r.kind != "meta":
                break
            continue
        s = raw.strip()
        if s.startswith("- ") and key:
            _remember(doc, key, s[2:])
            continue
        m = _FRONT_KEY.match(s)
        if m:
            key = m.group(1).lower()
            if m.group(2):
                _remember(doc, key, m.group(2))


def _remember(doc: Document, key: str, value: str) -> None:
    if key in ("alias", "aliases"):
        doc.names += [n for n in _list(value) if n not in doc.names]
    elif key in ("tags", "tag"):
        doc.tags += _list(value)
    elif key == "title" and value.strip():
        doc.title = value.strip().strip("\"'")
    doc.properties.setdefault(key, value.strip())


def _logseq_properties(doc: Document, source: str) -> None:
    """Logseq `key:: value` lines, of the page (its first block) or of a block (under a bullet):
    metadata, never a passage nor a continuation of the bullet. `title::` titles the page,
    `alias::` names it, `tags::` tags it."""
    page = True  # still in the page's first block
    for r in doc.roles:
        if r.kind not in ("bullet", "text"):
            if r.kind != "blank":
                page = False
            continue
        m = _LOGSEQ_PROPERTY.match(r.text)
        if not m:
            page = False
            continue
        r.kind, r.prop = "meta", ((m.group(1) or m.group(3)).lower(), m.group(2) or "")
        if page:
            _remember(doc, r.prop[0], r.prop[1])


def _notion_properties(doc: Document, source: str) -> None:
    """Notion's export writes the page's properties right under its `#` title ("Tags: SAA, Analytics",
    "Created: 14 mars 2025 10:20"), one per line, then a blank line: metadata, not passages."""
    roles = doc.roles
    i = 0
    while i < len(roles) and roles[i].kind in ("blank", "meta"):
        i += 1
    if i >= len(roles) or roles[i].kind != "heading" or roles[i].level != 1:
        return
    i += 1
    while i < len(roles) and roles[i].kind == "blank":
        i += 1
    run = []
    while i < len(roles) and roles[i].kind == "text" and not roles[i].indent:
        m = _NOTION_PROPERTY.match(roles[i].text)
        if not m:
            return
        run.append((roles[i], m))
        i += 1
    if not run or (i < len(roles) and roles[i].kind != "blank"):
        return
    for r, m in run:
        r.kind, r.prop = "meta", (m.group(1).lower(), m.group(2))
        _remember(doc, r.prop[0], r.prop[1])


def _notion_asides(doc: Document, source: str) -> None:
    """Notion exports a callout as `<aside>` … `</aside>` around its lines: a callout, an exam tip
    when its lead-in says so ("💡 **Examen** : …"), not when it warns ("⚠️ …") or notes ("📌 …")."""
    inside: list[Line] = []
    opened = False
    for raw, r in zip(doc.lines, doc.roles):
        tag = raw.strip().lower()
        if r.kind == "html" and tag.startswith("<aside"):
            opened, inside = True, []
        elif r.kind == "html" and tag == "</aside>":
            if inside and _says_tip(inside[0].text):
                for x in inside:
                    x.tip = True
            opened = False
        elif opened and r.kind not in ("blank", "meta", "html"):
            inside.append(r)


def _says_tip(text: str) -> bool:
    """The lead-in of a callout ("💡 **Examen** :", "Exam tip —") announces an exam tip."""
    lead = re.split(r"[:—–]", text, maxsplit=1)[0] if re.search(r"[:—–]", text[:60]) else text[:40]
    return is_tips_label(strip_emphasis(lead))


def _quote_tips(doc: Document, source: str) -> None:
    """A plain block quote whose lead-in announces exam tips ("> Examen : …", "> **Astuce examen** : …",
    as Google Docs, Typora and Joplin notes write them): every line of the quote is an exam tip, as a
    `> [!tip]` callout's would be. A quote that does not say so ("> Lex ne fait pas…") stays a quote."""
    first: Line | None = None
    lines: list[Line] = []
    for r in [*doc.roles, Line()]:
        if r.quote and r.kind not in ("blank", "callout") and first is not None:
            lines.append(r)
            continue
        if first is not None and _says_tip(first.text):
            for x in lines:
                x.tip = True
        first, lines = None, []
        if r.quote and r.kind in ("text", "bullet"):
            first, lines = r, [r]


def _task_markers(doc: Document, source: str) -> None:
    """Logseq/org task markers (`TODO`, `DONE`, `LATER`, `NOW`…) opening a bullet are no words of the
    note: the chunk's text starts after them (still a part of the line, verbatim)."""
    for r in doc.roles:
        if r.kind in ("bullet", "text"):
            m = _TASK.match(r.text)
            if m:
                r.text, r.start, r.task = r.text[m.end() :], r.start + m.end(), True


def _block_refs(doc: Document, source: str) -> None:
    """Logseq `((block refs))` and `{{embed …}}` point at words written elsewhere: a line of nothing
    else is no passage (the words are quoted where they are written); elsewhere they are no words."""
    for r in doc.roles:
        refs = r.kind in ("bullet", "text") and ("((" in r.text or "{{" in r.text)
        if refs and not _BLOCK_NOISE.sub("", r.text).strip(" ,;:-"):
            r.kind = "marker" if r.kind == "bullet" else "image"


def _outline_sections(doc: Document, source: str) -> None:
    """A page written as an outline only (Logseq, Workflowy, Dynalist: no heading, every line at the
    margin a bullet) has its sections in its top-level bullets: a short one with children ("Subnets",
    "NAT Gateway vs NAT instance", "Direct Connect (DX)") opens a section, as a `##` heading would; its
    title is its words without page tags. A bullet announcing exam tips ("Examen :", "#exam") or a
    label ending with ":" stays a parent (its children are tips of the page's own section)."""
    roles = doc.roles
    content = [r for r in roles if r.kind not in ("blank", "meta", "html", "image")]
    if not content or any(r.kind == "heading" or r.quote for r in content):
        return
    if any(r.indent == 0 and not r.item for r in content) or content[0].kind not in ("bullet", "marker"):
        return
    for i, r in enumerate(roles):
        if r.kind != "bullet" or r.indent != 0:
            continue
        nxt = next((x for x in roles[i + 1 :] if x.kind not in ("blank", "meta")), None)
        if nxt is None or nxt.indent == 0:
            continue  # no children: a statement of the page, not a section
        title = strip_emphasis(_PAGE_TAG.sub("", r.text)).strip()
        words = re.findall(r"\w+", title)
        if not words or len(words) > SECTION_MAX_WORDS or title.endswith(":") or is_tips_label(title):
            continue
        r.section, r.title = True, title


def _notion_folders(doc: Document, source: str) -> None:
    """Notion exports a page's sub-pages into a folder named like it ("Analytics AWS 3262…/Amazon
    Athena 4da7….md"): those folders are the pages above it, the outer part of its heading path."""
    for folder in PurePosixPath(source).parts[:-1]:
        if _NOTION_ID.search(folder):
            doc.outer.append(_NOTION_ID.sub("", folder))


def own_path(c: Chunk) -> list[str]:
    """The chunk's heading path within its page: the pages above it (Notion's folders) left out. They
    are shown, not searched: written into every chunk of a folder, they cost hit@1 0.81 -> 0.77 and
    hit@5 0.97 -> 0.94 on the Notion set."""
    n = sum(1 for folder in PurePosixPath(c.source).parts[:-1] if _NOTION_ID.search(folder))
    return c.heading_path[n:] if n else c.heading_path


def _file_title(doc: Document, source: str) -> None:
    """A note without a `#` title is titled by its file name (Obsidian, Logseq, most vaults), or by
    its `title::` / `title:` property; Notion's 32-hex id is left out of the name."""
    if any(r.kind == "heading" and r.level == 1 for r in doc.roles):
        doc.title = ""
        return
    doc.title = doc.title or page_name(source)


@dataclass(frozen=True)
class Convention:
    tool: str
    reads: str  # what it reads, in words
    apply: Callable[[Document, str], None]


# In order: properties first (they may give the title), the title last.
CONVENTIONS: tuple[Convention, ...] = (
    Convention("Obsidian, Typora", "YAML front matter: no passage; `aliases:` name the page", _front_matter),
    Convention("Logseq", "`key:: value` page and block properties: metadata, never a passage", _logseq_properties),
    Convention("Notion", "`Key: value` property lines under the `#` title: metadata", _notion_properties),
    Convention("Notion", "`<aside>` callouts: a callout; an exam tip when its lead-in says so", _notion_asides),
    Convention("Google Docs, Typora, Joplin", "a `>` quote led by « Examen : »: an exam tip", _quote_tips),
    Convention("Logseq, org", "`TODO`/`DONE`/`LATER`/`NOW` markers: left out of the text", _task_markers),
    Convention("Logseq", "`((block refs))`, `{{embed …}}`: no words; a line of nothing else, no passage", _block_refs),
    Convention("Logseq, outliners", "bullets only: a short top bullet with children is a section", _outline_sections),
    Convention("Notion", "folders (`Parent 3f2a…/`): the pages above, the outer heading path", _notion_folders),
    Convention("all", "no `#` title: the file name (or `title::`) is the title", _file_title),
)


def read_note(text: str, source: str) -> Document:
    """The note's lines as the reader and every convention read them."""
    doc = read(text)
    for c in CONVENTIONS:
        c.apply(doc, source)
    return doc


def searchable(text: str) -> str:
    """Words of a line for the index: Logseq `((block refs))` and `{{embed …}}` are no words; a link
    to another page (Notion's URL-encoded `[Amazon Athena](Analytics%20AWS…)`) is its text."""
    if "((" in text or "{{" in text:
        text = _BLOCK_NOISE.sub(" ", text)
    if "%20" in text:
        text = unquote(text)
    return text
