"""Note styles students really write, read for their structure: heading levels, labels over
lists and code, numbered lists, callouts, wiki links, tags, images, old Mac line endings."""

from pathlib import Path

from retrieval.parsing import index_text, parse_markdown, split_lines

ROOT = Path(__file__).resolve().parents[1]
STOCKAGE = ROOT / "tests" / "data" / "stockage" / "stockage.md"


def _by_line(text: str, source: str = "n.md"):
    chunks = parse_markdown(text, source)
    lines = split_lines(text)
    for c in chunks:  # whatever the style, every quote stays verbatim at its line
        assert c.text in lines[c.line - 1], (c.line, c.text)
    return {c.line: c for c in chunks}


def test_stockage_headings_of_every_level():
    by = _by_line(STOCKAGE.read_text(encoding="utf-8"), "stockage.md")
    assert by[11].heading == "Amazon S3"
    assert by[11].heading_path == ["Stockage sur AWS", "Amazon S3"]
    assert by[62].heading == "Amazon EBS" and by[90].heading == "Amazon FSx"
    assert by[3].heading == "Stockage sur AWS"  # before any deeper heading the title counts
    # the title is left out of what is indexed when a deeper heading exists
    assert index_text(by[11]).startswith("Amazon S3 > Concepts > Objet = fichier")


def test_stockage_numbered_lists_and_introducing_paragraphs():
    by = _by_line(STOCKAGE.read_text(encoding="utf-8"), "stockage.md")
    # "2. **Classes de stockage**" over 4-space bullets
    assert by[14].breadcrumb == ["Classes de stockage"] and by[14].parent_line == 13
    assert by[13].label
    # "**Sécurité**" alone on its line introduces the list right under it
    assert by[25].breadcrumb == ["Sécurité"] and by[25].parent_line == 24 and by[24].label
    # "**Object Lock** : modèle WORM (…)" right above its list is its parent, but no label
    assert by[41].parent_line == 40 and not by[40].label
    # a sentence followed by a blank line introduces nothing
    assert by[56].parent_line == 0 and by[56].breadcrumb == []
    # "1. SSD" then four-space bullets: a numbered parent inside a label's list
    assert by[62].breadcrumb == ["Types de volumes", "SSD"] and by[62].parent_line == 61
    # "Exemple :" owns the code block under it; the shell lines are code
    assert by[48].kind == "code" and by[48].parent_line == 46 and by[46].label
    # a table row's parent is its header row
    assert by[101].kind == "row" and by[101].parent_line == 98


def test_stockage_tips_heading_marks_exam_tips():
    by = _by_line(STOCKAGE.read_text(encoding="utf-8"), "stockage.md")
    tips = sorted(n for n, c in by.items() if c.exam)
    assert tips == list(range(115, 122))


def test_label_with_code_block_and_comment_lines():
    text = "\n".join(
        [
            "# Aide-mémoire",  # 1
            "### **2. Services AWS Essentiels**",  # 2
            "#### **S3 (Simple Storage Service)**",  # 3
            "**Activer le versioning** :",  # 4
            "```bash",  # 5
            "# Activer le versioning du bucket",  # 6
            "aws s3api put-bucket-versioning --bucket b",  # 7
            "```",  # 8
            "- **Supprimer toutes les images** :",  # 9
            "```bash",  # 10
            "docker rmi $(docker images -q)",  # 11
            "```",  # 12
            "",  # 13
            "| Commande | Effet |",  # 14
            "|---|---|",  # 15
            "| git revert | annule par un commit |",  # 16
        ]
    )
    by = _by_line(text)
    assert by[7].heading == "S3 (Simple Storage Service)"
    assert by[7].heading_path == ["Aide-mémoire", "2. Services AWS Essentiels", "S3 (Simple Storage Service)"]
    # comment lines in code are code, not headings
    assert by[6].kind == "code" and by[6].heading == "S3 (Simple Storage Service)"
    assert by[6].breadcrumb == by[7].breadcrumb == ["Activer le versioning :"]
    assert by[4].label and by[9].label
    assert by[11].parent_line == 9
    # the label's code block ended: the table after it is nobody's child
    assert by[16].breadcrumb == ["Commande | Effet"] and by[16].parent_line == 14
    assert index_text(by[7]) == (
        "2. Services AWS Essentiels > S3 (Simple Storage Service) > Activer le versioning : "
        "> aws s3api put-bucket-versioning --bucket b"
    )


def test_indentation_of_two_four_and_tabs():
    for unit in ["  ", "    ", "\t"]:
        by = _by_line(f"## S\n- a\n{unit}- b\n{unit}{unit}- c\n- d\n")
        assert by[3].breadcrumb == ["a"] and by[4].breadcrumb == ["a", "b"] and by[5].breadcrumb == []


def test_obsidian_callouts_links_tags_and_images():
    text = "\n".join(
        [
            "---",  # 1
            "tags: [aws, réseau]",  # 2
            "---",  # 3
            "# Réseau",  # 4
            "## Amazon VPC",  # 5
            "- Un VPC est isolé #réseau, voir [[Sous-réseaux|les subnets]]",  # 6
            "![[schema-vpc.png]]",  # 7
            "> [!tip] Pour l'examen",  # 8
            "> - NAT Gateway = ==managé== par AWS",  # 9
            ">   - pas de Security Group dessus",  # 10
            "",  # 11
            "> [!warning]",  # 12
            "> Le peering n'est pas transitif",  # 13
            "",  # 14
            "- [ ] revoir les quotas",  # 15
        ]
    )
    by = _by_line(text)
    assert 2 not in by and 7 not in by  # front matter and embedded image: no passage
    assert "[[Sous-réseaux|les subnets]]" in by[6].text and "#réseau" in by[6].text
    # markup goes from breadcrumbs and indexed text as Obsidian shows it: the alias, the highlighted words
    assert "voir les subnets" in index_text(by[6]) and "#réseau" in index_text(by[6])
    assert by[8].text == "Pour l'examen" and by[8].label
    assert by[9].exam and by[10].exam and by[9].breadcrumb == ["Pour l'examen"]
    assert by[10].breadcrumb == ["Pour l'examen", "NAT Gateway = managé par AWS"]
    assert not by[13].exam and by[13].breadcrumb == ["warning"]
    assert not by[15].exam and by[15].breadcrumb == []  # the callout closed at the blank line


def test_cr_only_line_endings_are_line_breaks():
    text = "## Amazon SES\r- envoi d emails\r- reception\r"
    assert split_lines(text) == ["## Amazon SES", "- envoi d emails", "- reception", ""]
    chunks = parse_markdown(text)
    assert [(c.line, c.heading, c.text) for c in chunks] == [
        (2, "Amazon SES", "envoi d emails"),
        (3, "Amazon SES", "reception"),
    ]
    mixed = "# T\r\n## A\n- un\r- deux\r\n"
    assert [c.line for c in parse_markdown(mixed)] == [3, 4]


def test_setext_headings_are_headings():
    text = (
        "Bases de données\n================\n\nAmazon RDS\n----------\n\n"
        "Multi-AZ : réplique synchrone.\n* Read Replicas\n\nPuis Aurora\n---\n\n- compatible MySQL\n"
    )
    by = _by_line(text, "bdd.md")
    assert sorted(by) == [7, 8, 13]  # no chunk for a heading or its underline
    assert by[7].heading_path == ["Bases de données", "Amazon RDS"] and by[7].title == "Bases de données"
    assert by[8].heading == "Amazon RDS"
    # "---" under a lone line at the margin underlines it (CommonMark); it is not a rule under a paragraph
    assert by[13].heading_path == ["Bases de données", "Puis Aurora"]
    # inside a list, or under a paragraph of several lines, "---" stays a rule
    by = _by_line("- puce\n  suite\n  ---\n\nligne un\nligne deux\n---\ntexte\n", "x.md")
    assert all(c.heading_path == ["x"] for c in by.values()) and 6 in by and 8 in by  # the file name titles it


def test_a_hard_wrapped_sentence_is_indexed_whole_for_each_of_its_lines():
    text = (
        "## SQS\n\nSQS est une file managée : les producteurs y déposent des\n"
        "messages, les consommateurs les lisent. Il n'y a aucune capacité à\n"
        "provisionner.\n\n* taille max : 256 Ko, au-delà on passe par\n  S3 avec la librairie étendue\n\n"
        "**Standard** — débit illimité.\n**FIFO** — ordre strict.\n"
    )
    by = _by_line(text)
    # each line is still quoted alone, but indexes the sentence it belongs to
    first = "SQS est une file managée : les producteurs y déposent des messages, les consommateurs les lisent."
    assert by[3].wrapped == first
    assert by[4].wrapped.startswith("SQS est une file") and by[4].wrapped.endswith("capacité à provisionner.")
    assert by[5].wrapped == "Il n'y a aucune capacité à provisionner."
    assert "messages" in index_text(by[3]) and "producteurs" in index_text(by[4])
    assert by[8].wrapped == by[7].wrapped == "taille max : 256 Ko, au-delà on passe par S3 avec la librairie étendue"
    assert by[8].parent_line == 7
    # sentences that end at the end of their line are not wrapped; one under the other they are one block
    assert by[10].wrapped == by[11].wrapped == ""
    assert (by[10].block_start, by[11].block_start, by[11].block_end) == (10, 10, 11)
    assert (by[3].block_start, by[5].block_start, by[5].block_end) == (3, 3, 5)


def test_definitions_one_under_the_other_are_not_a_wrapped_sentence():
    text = (
        "Cold start :: la première invocation charge le code\n"
        "Provisioned concurrency :: garde des environnements prêts\n"
        "**Standard** — débit illimité\n**FIFO** — ordre strict\n"
        "Q : combien de réplicas Aurora ?\nR : jusqu'à 15\n"
    )
    by = _by_line(text)
    assert all(c.wrapped == "" for c in by.values())
    assert {c.block_start for c in by.values()} == {1}  # still one paragraph, shown together


def test_a_label_over_a_blank_line_introduces_the_paragraph_after_it():
    text = (
        "## Auto Scaling\n\nLes politiques de scaling :\n\n"
        "**Target tracking** — une cible à tenir.\n**Step scaling** — des paliers.\n\n"
        "Le cooldown dure 300 secondes.\n"
    )
    by = _by_line(text)
    assert by[3].label and by[5].parent_line == 3 and by[6].parent_line == 3
    assert by[6].breadcrumb == ["Les politiques de scaling :"]
    assert by[8].parent_line == 0  # the next paragraph, after another blank line, is on its own
