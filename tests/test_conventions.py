"""The tools' conventions (retrieval/conventions.py), each on a real-looking note, and the reader's
corrections of CommonMark (retrieval/reader.py) where a student means something else."""

from pathlib import Path

from visible_text import check

from retrieval.conventions import CONVENTIONS, page_name, titles_its_file
from retrieval.parsing import index_text, parse_markdown, split_lines
from retrieval.presentation import rendering
from retrieval.query import ServiceCatalog
from retrieval.reader import read, strong_spans, table_cells
from retrieval.text import strip_emphasis

ROOT = Path(__file__).resolve().parents[1]
NOTION = ROOT / "tests" / "data" / "notion"
LOGSEQ = ROOT / "tests" / "data" / "logseq"
VAULT = ROOT / "tests" / "data" / "vault"


def _by_line(text: str, source: str):
    chunks = parse_markdown(text, source)
    lines = split_lines(text)
    for c in chunks:  # whatever the tool, every quote stays verbatim at its line
        assert c.text in lines[c.line - 1], (c.line, c.text)
    return {c.line: c for c in chunks}


def _notion(name: str) -> tuple[str, str]:
    p = next(NOTION.rglob(f"{name} *.md"))
    return p.read_text(encoding="utf-8"), p.relative_to(NOTION).as_posix()


def test_every_convention_is_a_row_that_says_what_it_reads():
    assert len(CONVENTIONS) >= 6
    for c in CONVENTIONS:
        assert c.tool and len(c.reads) > 20 and c.apply.__doc__


def test_notion_page_title_properties_and_aside_tips():
    text, source = _notion("Amazon Athena")
    by = _by_line(text, source)
    assert page_name(source) == "Amazon Athena"
    # "Tags: …", "Created: …", "Status: …" under the title are metadata: no passage
    assert not {3, 4, 5} & set(by)
    # `<aside>` and `</aside>` carry no words; "💡 **Examen** : …" is an exam tip, "⚠️ …" is not
    assert 39 not in by and 41 not in by
    assert by[40].exam and by[45].exam and not by[50].exam
    # the page's title is its name: it takes part in what is indexed
    assert index_text(by[40]).startswith("Amazon Athena > Fonctionnalités")
    # its folder is the page above it: the outer heading path, shown but not searched
    assert by[40].heading_path[:2] == ["Analytics AWS", "Amazon Athena"]
    top_text, top_source = _notion("Analytics AWS")
    assert all(c.heading_path[0] == "Analytics AWS" for c in parse_markdown(top_text, top_source))


def test_notion_title_found_only_in_the_title_is_a_service():
    text, source = _notion("Amazon QuickSight")
    chunks = parse_markdown(text, source)
    catalog = ServiceCatalog(chunks)
    assert "Amazon QuickSight" in [s.heading for s in catalog.services]
    assert catalog.read("conseils examen QuickSight").services == ["Amazon QuickSight"]


def test_notion_links_to_pages_are_indexed_as_their_text():
    text, source = _notion("Analytics AWS")
    by = _by_line(text, source)
    linked = [c for c in by.values() if "%20" in c.text]
    assert linked
    for c in linked:
        assert "%20" not in index_text(c)
        # the quote is the line as written; the chat shows the link as its words (inline.page_links)
        html = rendering.render_lines([(c.line, split_lines(text)[c.line - 1])])
        assert "%20" not in html.replace("&#x27;", "'") and 'class="rv-link"' in html
        shown = check(html, [(c.line, split_lines(text)[c.line - 1])])[c.line].text
        assert shown == strip_emphasis(c.text) and "](" not in shown
    out = "- [doc](https://docs.aws.amazon.com/x) et [x](javascript:alert(1)) et ![img](a.png)"
    assert check(rendering.render_lines([(1, out)]), [(1, out)])[1].text == out[2:]  # links out: as written


def test_logseq_properties_tasks_refs_and_alias():
    text = "\n".join(
        [
            "- title:: VPC",  # 1
            "  tags:: [[SAA]], reseau",  # 2
            "  alias:: Virtual Private Cloud, Réseau privé",  # 3
            "- [[Subnets]]",  # 4
            "\t- AWS réserve **5 IP** dans chaque subnet",  # 5
            "\t  id:: 67d3e8b1-4c2a-4f9e-9b1d-2e7a5c3f8a01",  # 6
            "\t\t- `.0` = adresse réseau",  # 7
            "- NAT Gateway",  # 8
            "  collapsed:: true",  # 9
            "\t- TODO refaire le lab NAT",  # 10
            "\t  SCHEDULED: <2025-03-16 Sun>",  # 11
            "\t- voir ((67d3e8b1-4c2a-4f9e-9b1d-2e7a5c3f8a01)) et {{embed [[Security Groups]]}}",  # 12
            "\t- {{embed ((67d3e8b1-4c2a-4f9e-9b1d-2e7a5c3f8a01))}}",  # 13: nothing of its own
        ]
    )
    by = _by_line(text, "pages/VPC.md")
    assert sorted(by) == [4, 5, 7, 8, 10, 12]  # properties and SCHEDULED are no passage
    assert by[7].breadcrumb == ["AWS réserve 5 IP dans chaque subnet"]  # id:: is no continuation
    assert by[10].text == "refaire le lab NAT"  # the TODO marker is left out, the rest is verbatim
    assert by[10].task and not by[12].task
    # a page of bullets only: its short top-level bullets with children are its sections
    assert by[7].heading_path == ["VPC", "Subnets"] and by[10].heading == "NAT Gateway"
    assert by[5].heading_path == ["VPC", "Subnets"] and by[5].names == ["Virtual Private Cloud", "Réseau privé"]
    assert "67d3e8b1" not in index_text(by[12]) and "embed" not in index_text(by[12])
    assert "Virtual Private Cloud" in index_text(by[5])
    catalog = ServiceCatalog(list(by.values()))
    assert catalog.read("c'est quoi un virtual private cloud ?").services == ["VPC"]


def test_outline_sections_only_in_a_page_of_bullets():
    outline = "\n".join(
        [
            "- Direct Connect (DX)",  # 1: a section
            "\t- connexion physique dédiée",  # 2
            "- Relier le datacenter on-prem à AWS : 2 options, VPN et DX",  # 3: a statement, no children
            "- Examen :",  # 4: exam tips, a parent as before
            "\t- DX + chiffrement => VPN IPsec",  # 5
            "- VPC = réseau privé virtuel, isolé logiquement, régional, sur toutes les AZ",  # 6: too long
            "\t- CIDR entre /16 et /28",  # 7
        ]
    )
    by = _by_line(outline, "pages/Réseau hybride.md")
    assert by[1].heading == by[2].heading == "Direct Connect (DX)" and by[2].breadcrumb == []
    assert by[3].heading == by[5].heading == by[7].heading == "Réseau hybride"
    assert by[5].exam and by[5].breadcrumb == ["Examen :"]
    assert by[7].breadcrumb == ["VPC = réseau privé virtuel, isolé logiquement, régional, sur toutes les AZ"]
    # a Markdown note with a heading keeps its bullets as bullets
    by = _by_line("## Réseau\n\n- Direct Connect (DX)\n  - connexion physique dédiée\n", "reseau.md")
    assert by[4].heading == "Réseau" and by[4].breadcrumb == ["Direct Connect (DX)"]


def test_outline_sections_are_services_named_apart_from_their_page():
    pages = [(p.read_text(encoding="utf-8"), p.relative_to(LOGSEQ).as_posix()) for p in LOGSEQ.rglob("*.md")]
    chunks = [c for text, source in pages for c in parse_markdown(text, source)]
    catalog = ServiceCatalog(chunks)
    names = [s.heading for s in catalog.services]
    assert {"VPC", "Subnets", "VPC Endpoints", "Direct Connect (DX)"} <= set(names)
    # "VPC" is the page's name, not a short name of its sections "VPC Endpoints", "VPC Peering vs …"
    assert catalog.read("comment bloquer une IP précise dans mon VPC ?").services == ["VPC"]
    assert "VPC Endpoints" in catalog.read("les VPC Endpoints sont payants ?").services
    reading = catalog.read("Direct Connect ou VPN site-to-site ?")
    assert reading.intent == "compare" and reading.services[0] == "Direct Connect (DX)"


def test_logseq_dev_corpus_shows_no_property_and_no_marker():
    for p in LOGSEQ.rglob("*.md"):
        for c in parse_markdown(p.read_text(encoding="utf-8"), p.relative_to(LOGSEQ).as_posix()):
            assert "::" not in c.text.split(" ")[0], (p.name, c.line, c.text)
            assert not c.text.startswith(("TODO ", "DONE ", "LATER ", "NOW ")), (p.name, c.line)


def test_obsidian_front_matter_aliases_and_file_name_title():
    text = (VAULT / "Config.md").read_text(encoding="utf-8")
    by = _by_line(text, "Config.md")
    first = by[min(by)]
    assert min(by) > 4  # the front matter is no passage
    assert first.title == "" and first.heading_path == ["Config", "À quoi ça sert"]  # no "#" title: a heading
    assert first.names == ["AWS Config", "Config Rules"]
    assert index_text(first).startswith("Config (AWS Config, Config Rules) > À quoi ça sert")


def test_a_note_without_title_is_titled_by_its_file_name():
    by = _by_line("## Détacher\n- `Ctrl-b d` détache la session\n", "outils/tmux.md")
    assert by[2].heading_path == ["tmux", "Détacher"]
    assert index_text(by[2]).startswith("tmux > Détacher")
    # a hand-made slug under a "#" title is not the page's name: the title stays out, as before
    assert not titles_its_file("Other Services", "other-services.md")
    by = _by_line("# Other Services\n## SES\n- envoi d'emails\n", "other-services.md")
    assert index_text(by[3]) == "SES > envoi d'emails"
    # nor is a Markdown file's "#" title over its sections (a chapter), even when it names the file
    by = _by_line("# Bases de données\n## RDS\n- Multi-AZ synchrone\n", "Bases de données.md")
    assert index_text(by[3]) == "RDS > Multi-AZ synchrone"


def test_commonmark_corrections_where_a_student_means_otherwise():
    # four-space indented text is text (no fence), numbered lists nest under 2 spaces
    text = "## S\n\n    texte indenté\n    - puce indentée\n## T\n1. un\n  - sous-puce\n   2) deux\n"
    roles = read(text).roles
    assert [r.kind for r in roles[2:4]] == ["text", "bullet"]
    by = _by_line(text, "n.md")
    assert by[7].breadcrumb == ["un"] and by[8].breadcrumb == ["un", "sous-puce"]  # deeper is a child
    # a table without delimiter row is still a table; a line without "|" after a table is text
    roles = read("| a | b |\n| 1 | 2 |\n\n| x | y |\n|---|---|\n| 3 | 4 |\ntexte\n").roles
    assert [r.kind for r in roles] == ["header", "row", "blank", "header", "sep", "row", "text", "blank"]


def test_table_cells_and_strong_spans_come_from_the_reader():
    assert table_cells("| a | b \\| c |") == [(2, 3), (6, 12)]
    s = "- `**pas gras**` et `__init__` mais **gras**"
    spans = strong_spans(s)
    assert [s[a:b] for a, b in spans] == ["**gras**"]


GDOCS = ROOT / "tests" / "data" / "gdocs"

# A Google Docs export (File > Download > Markdown), as Typora and Joplin write it too: setext
# headings, bold lines as sub-headings, escaped list markers, non-breaking spaces, `>` exam tips.
GDOCS_NOTE = """Amazon Bedrock
==============

**Personnaliser un modèle**

1\\. Prompt engineering\u00a0: le moins cher, aucune donnée
2\\. RAG avec une Knowledge Base\u00a0: répondre à partir de ses propres documents
\\- Limites à retenir\u00a0: 10 Mo en synchrone

**Confidentialité des données**

Les prompts ne sont **pas utilisés pour entraîner** les modèles de base
et ne sont pas partagés avec les fournisseurs.

Vocabulaire\u00a0:

1. **Intent**\u00a0: ce que veut l'utilisateur
2. **Slots**\u00a0: les informations à récupérer

* multilingue, le bot répond aussi avec une voix Polly

> **Astuce examen**\u00a0: «\u00a0IA générative sans gérer de serveurs\u00a0» → Bedrock.
> Besoin de répondre à partir de ses documents → Knowledge Bases.

> Lex ne fait pas la recherche dans des documents, ça c'est Kendra.

> Examen\u00a0: empêcher le chatbot de parler de certains sujets → Guardrails.
"""


def test_gdocs_bold_lines_escaped_markers_and_quoted_exam_tips():
    by = _by_line(GDOCS_NOTE, "bedrock.md")
    assert by[6].heading_path == ["Amazon Bedrock"]  # setext title
    # a bold line alone, a blank line, then lines: their parent, as a sub-heading would be
    assert by[6].breadcrumb == ["Personnaliser un modèle"] and by[4].label
    assert by[12].breadcrumb == ["Confidentialité des données"] and by[13].breadcrumb == by[12].breadcrumb
    # Google Docs' escaped markers ("1\\. ", "\\- ") each start a statement: no sentence across them
    assert not by[6].wrapped and not by[7].wrapped and not by[8].wrapped
    # ... while a hard-wrapped sentence is still read whole
    assert by[13].wrapped.startswith("Les prompts ne sont") and "fournisseurs" in by[12].wrapped
    # a label introduces its list, not the next one (another marker: another list)
    assert by[17].breadcrumb == ["Vocabulaire :"] and by[20].breadcrumb == []
    # a `>` quote led by "Examen :" / "**Astuce examen** :" is an exam tip, every line of it; a quote
    # that says nothing of the exam is not; a quote at the margin has no label above it
    assert by[22].exam and by[23].exam and by[27].exam
    assert not by[25].exam and by[22].breadcrumb == []
    assert not any(c.exam for line, c in by.items() if line < 22)


def test_gdocs_corpus_reads_its_sections_and_tips():
    def chunks(name: str):
        return _by_line((GDOCS / name).read_text(encoding="utf-8"), name)

    sm = chunks("SageMaker.md")
    assert sm[19].heading_path == ["Amazon SageMaker AI", "Les briques principales"]  # setext `---`
    assert sm[34].breadcrumb == ["Managed Spot Training"]
    assert {line for line, c in sm.items() if c.exam} == {67, 68, 70, 71}
    bedrock = chunks("bedrock.md")  # no title: the file name is the page's
    assert bedrock[34].heading_path == ["bedrock"] and bedrock[34].breadcrumb == ["Tarification"]
    assert {line for line, c in bedrock.items() if c.exam} == {41, 42, 44}
    assert [bedrock[n].breadcrumb for n in (25, 28)] == [["Personnaliser un modèle"]] * 2
    lex = chunks("Lex Kendra Personalize.md")
    # "**Sécurité**" introduces its paragraph; the `> Examen :` quote after it is no child of it
    assert lex[39].breadcrumb == ["Sécurité"] and lex[42].breadcrumb == [] and lex[42].exam
