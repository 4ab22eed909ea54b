"""Question understanding: services, typos, intents, comparisons, tips, abstention."""

import pytest
from conftest import NOTES

from retrieval import Retriever
from retrieval.parsing import parse_markdown
from retrieval.query import ServiceCatalog

CHUNKS = parse_markdown(NOTES.read_text(encoding="utf-8"), "other-services.md")
CAT = ServiceCatalog(CHUNKS)


@pytest.mark.parametrize(
    "q, services",
    [
        ("quelle différence entre SES et Pinpoint ?", ["Amazon SES", "Amazon Pinpoint"]),
        ("conseils pour l'examen sur SSM", ["SSM Session Manager"]),
        ("c'est quoi Cost Explorer", ["AWS Cost Explorer"]),
        ("instance scheduler et RDS", ["Instance Scheduler on AWS"]),
        ("pinpont c'est quoi", ["Amazon Pinpoint"]),
        ("cloudformaton rollback", ["CloudFormation"]),
        ("sesion manager sans port 22", ["SSM Session Manager"]),
        ("costexplorer prévisions", ["AWS Cost Explorer"]),
        ("ÀMPLIFY graphql", ["AWS Amplify"]),
        ("résultat du match hier soir", []),  # "match" is not a typo of "Batch"
        ("c'est quoi ses avantages", []),  # lower-case "ses" is the French possessive
    ],
)
def test_services_named_in_questions(q, services):
    assert CAT.read(q).services == services


@pytest.mark.parametrize(
    "q, intent",
    [
        ("quelle différence entre SES et Pinpoint ?", "compare"),
        ("SES vs Pinpoint", "compare"),
        ("SES ou Pinpoint ?", "compare"),
        ("comparer Batch et Lambda", "compare"),
        ("difference between Outposts and Direct Connect", "compare"),
        ("conseils pour l'examen sur SSM", "tips"),
        ("à retenir pour la certif : SES", "tips"),
        ("astuces Cost Explorer", "tips"),
        ("exam tips for Pinpoint", "tips"),
        ("SES peut-il recevoir des emails ?", "lookup"),
        ("what is AWS Batch", "lookup"),
        ("Session Manager ou bastion ?", "compare"),  # a service against a name the notes use
        ("SES ou pinpoint", "compare"),  # two services: a choice even without "?"
        ("SES pour des emails ou des SMS", "lookup"),
        ("format des templates CloudFormation, yaml ou json ?", "lookup"),  # a choice, but not of services
        ("SES peut-il envoyer ou recevoir des emails ?", "lookup"),
    ],
)
def test_intents_french_and_english(q, intent):
    assert CAT.read(q).intent == intent


@pytest.mark.parametrize(
    "q, figure",
    [
        ("combien de temps tourne une fonction Lambda ?", True),
        ("durée maximale d'un job Batch", True),
        ("taille max d'un message SNS ?", True),
        ("what is the maximum duration of an AWS Batch job", True),
        ("how much does Pinpoint cost", True),
        ("c'est quoi Batch ?", False),
        ("réduire les coûts avec des instances Spot", False),  # about costs, not asking an amount
    ],
)
def test_questions_asking_for_a_figure(q, figure):
    assert CAT.read(q).figure is figure


DATA = NOTES.parents[1] / "tests" / "data"


def _built(tmp_path, name: str, text: str) -> Retriever:
    """A retriever over one note written for the test (real parser, real model)."""
    notes = tmp_path / "n"
    notes.mkdir()
    (notes / name).write_text(text, encoding="utf-8")
    return Retriever.build(notes, tmp_path / "idx")


def _catalog(folder: str) -> ServiceCatalog:
    chunks = []
    for path in sorted((DATA / folder).rglob("*.md")):
        chunks += parse_markdown(path.read_text(encoding="utf-8"), path.name)
    return ServiceCatalog(chunks)


@pytest.mark.parametrize(
    "folder, q, intent, terms",
    [
        # two options of one thing, worded alike: compared even in lower case
        ("cheatsheet", "git reset ou git revert ?", "compare", ["git reset", "git revert"]),
        ("cheatsheet", "différence entre docker stop et docker kill", "compare", ["docker stop", "docker kill"]),
        # a capitalised word inside the question is a name ("Group"), the question's first word is not
        ("cheatsheet", "Security Group ou NACL ?", "compare", ["Security Group", "NACL"]),
        ("cheatsheet", "Emails ou SMS ?", "lookup", []),
        # "la diff" is "la différence"
        ("obsidian", "routage geolocation ou latency, c'est quoi la diff", "compare", ["geolocation", "latency"]),
        ("obsidian", "yaml ou json ?", "lookup", []),
        # a hyphenated name is looked up by its parts ("sse", "kms"), as the notes' words are
        ("stockage", "SSE-KMS ou SSE-C ?", "compare", ["SSE-KMS", "SSE-C"]),
        # two terms of several words each are compared; a shared small word does not make sides alike
        ("prose", "target tracking ou step scaling ?", "compare", ["target tracking", "step scaling"]),
        ("prose", "on paie à la seconde ou à l'heure ?", "lookup", []),
    ],
)
def test_compared_sides_read_off_the_question(folder, q, intent, terms):
    reading = _catalog(folder).read(q)
    assert (reading.intent, reading.terms) == (intent, terms)


def test_a_heading_that_is_a_comparison_makes_its_choice_a_comparison():
    # "### Secrets Manager vs Parameter Store": "X ou Y pour …" names it, without "?" or "différence"
    reading = _catalog("obsidian").read("Secrets Manager ou Parameter Store pour mes mots de passe de BDD")
    assert reading.intent == "compare" and reading.services == ["Secrets Manager vs Parameter Store"]
    assert _catalog("obsidian").read("Secrets Manager vs Parameter Store").intent == "compare"
    assert _catalog("obsidian").read("rotation automatique dans Secrets Manager").intent == "lookup"


def test_compared_names_stay_whole():
    assert CAT.read("Outposts vs Direct Connect").terms == ["Direct Connect"]
    assert CAT.read("quelle différence entre SES et SNS ?").terms == ["SNS"]


def test_compare_balances_both_services(retriever):
    a = retriever.ask("quelle différence entre SES et Pinpoint ?", k=8)
    assert a.intent == "compare" and a.services == ["Amazon SES", "Amazon Pinpoint"]
    headings = [h.heading for h in a.hits]
    assert "Amazon SES" in headings and "Amazon Pinpoint" in headings
    # a passage that mentions both comes first
    assert a.hits[0].line in (92, 93, 94, 101, 103, 104, 105, 106)


def test_compare_with_a_service_the_notes_only_mention(retriever):
    hits = retriever.search("quelle différence entre SES et SNS ?", k=8)
    assert {72, 93} & {h.line for h in hits[:4]}


def test_tips_are_exam_bullets_of_the_named_service(retriever):
    a = retriever.ask("conseils pour l'examen sur SSM", k=4)
    assert a.intent == "tips"
    assert [h.line for h in a.hits[:3]] and all(h.exam and h.heading == "SSM Session Manager" for h in a.hits[:3])
    assert {137, 138, 139} == {h.line for h in a.hits[:3]}
    # their parent, "Pour l'examen AWS SAA" (136), is already every tip's breadcrumb: not a passage of its own
    assert 136 not in [h.line for h in retriever.search("conseils pour l'examen sur SSM", k=5)]


def test_named_service_answers_from_its_section(retriever):
    assert all(h.heading == "CloudFormation" for h in retriever.search("c'est quoi CloudFormation ?", k=3))
    assert retriever.search("cest quoi appflow", k=1)[0].heading == "AWS AppFlow"


@pytest.mark.parametrize(
    "q",
    [
        "meilleure recette de crêpes",
        "tarifs de CloudFront pour la vidéo à la demande",
        "how to configure an SQS dead-letter queue",
        "quels sont les tiers de récupération de S3 Glacier ?",
        "Route 53 routage par géolocalisation",  # a service named in two words
        "tarifs Lambda par requête",  # Lambda is only mentioned in passing by the notes
        # AWS services the notes name only in passing, asked about what they do not say:
        "configurer un bucket S3 en site web statique",  # no block naming S3 shares a word of it
        "DynamoDB mode à la demande ou capacité provisionnée ?",
        "comment créer une table DynamoDB avec des index secondaires globaux ?",  # mostly unknown words
        "quelles sont les politiques IAM gérées par AWS ?",  # nothing but "AWS" and the name is known
        "taille max d'un message SNS ?",  # a figure asked, none given next to SNS
        "combien coûte une instance EC2 Spot ?",
        "durée de rétention par défaut des logs CloudWatch",
        "quelle est la capitale de l'Australie ?",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
)
def test_abstains_when_the_notes_do_not_cover_it(retriever, q):
    a = retriever.ask(q)
    assert a.hits == [] and a.intent == "none"


@pytest.mark.parametrize(
    "q",
    [
        "ne plus gérer de clés SSH",
        "éteindre automatiquement les bases de données hors des horaires de travail",
        "Snow Family",
        "Drift Detection",
        "pinpont c'est quoi",
        "Outposts vs Direct Connect",  # "Direct Connect" is an AWS name the notes know word by word
        "journaliser les sessions dans S3 ou CloudWatch Logs",
        "how to connect to an EC2 instance without opening port 22",
        "les dossiers patients ne doivent jamais quitter le pays",  # no shared word, best cosine 0.125
        # services named in passing, asked about what the notes do say of them:
        "arrêter les instances EC2 le soir et le week-end",  # "soir", "week-end" unknown, the rest in one bullet
        "combien de temps une fonction Lambda peut-elle tourner au maximum ?",  # "15 minutes max"
        "envoyer les données Salesforce vers Redshift",  # "Redshift" and "Salesforce" in one block
        "recevoir des emails et les déposer dans S3",  # the note writes "e-mails"
        "EC2 Spot pour réduire les coûts des jobs",
    ],
)
def test_does_not_refuse_covered_questions(retriever, q):
    assert retriever.search(q)


def test_filters_for_the_chat(retriever):
    a = retriever.ask("envoi de messages", k=5, services=["Amazon Pinpoint"])
    assert a.hits and all(h.heading == "Amazon Pinpoint" for h in a.hits)
    b = retriever.ask("SES", k=5, exam_only=True)
    assert b.hits and all(h.exam for h in b.hits)


def _retriever_on(tmp_path, name: str, text: str) -> Retriever:
    """A retriever over one note written by the test."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_text(text, encoding="utf-8")
    return Retriever.build(notes, tmp_path / "idx")


def test_services_come_from_any_notes(tmp_path):
    r = _retriever_on(
        tmp_path,
        "reseau.md",
        "## Amazon Route 53\n- Service DNS managé\n- **Pour l'examen**\n  - Routage par latence\n"
        "## Elastic Load Balancing\n- Répartit le trafic\n",
    )
    cat = r.view().catalog
    assert cat.read("conseils examen route 53").services == ["Amazon Route 53"]
    a = r.ask("conseils examen route 53", k=2)
    assert a.intent == "tips" and a.hits[0].line == 4 and a.hits[0].exam


def test_services_named_in_passing_in_other_notes(tmp_path):
    r = _retriever_on(
        tmp_path,
        "calcul.md",
        "## AWS Batch\n- Les jobs tournent sur des instances EC2\n- Comparé à Lambda\n"
        "  - Lambda : 15 minutes max\n  - Batch : aucune limite\n## AWS Amplify\n- Héberge des sites web\n",
    )
    assert [h.line for h in r.search("durée maximale d'une fonction Lambda ?", k=1)] == [4]  # the figure is there
    assert r.search("taille maximale d'une instance EC2 ?") == []  # no figure next to EC2
    assert r.search("prix des instances EC2") == []
    assert r.search("jobs sur des instances EC2")[0].line == 2
    # its words are the notes' (the Amplify block), but no block naming EC2 holds any of them
    assert r.search("héberger des sites web sur EC2") == []


def test_view_after_a_refresh_reuses_unchanged_chunks_and_equals_a_fresh_one():
    from retrieval.ranking import CorpusView

    text = NOTES.read_text(encoding="utf-8")
    before = CorpusView.of(parse_markdown(text, "other-services.md"))
    edited = parse_markdown(text.replace("des milliards de messages", "des millions de messages"), "other-services.md")
    after = CorpusView.of(edited, before)
    fresh = CorpusView.of(edited)
    assert after.words == fresh.words and after.plain == fresh.plain
    assert (after.exam == fresh.exam).all() and (after.figure == fresh.figure).all()
    assert after.catalog.name_words == fresh.catalog.name_words and after.catalog.vocabulary == fresh.catalog.vocabulary
    changed = next(i for i, c in enumerate(edited) if "millions" in c.text)
    assert "millions" in after.plain[changed] and "milliards" not in after.words[changed]
    assert after.plain[0] is before.plain[0]  # taken over, not recomputed


def test_compared_sides_reach_notes_under_a_label_whose_code_names_them():
    from retrieval.ranking import CorpusView, compared_sides, on_side

    path = DATA / "cheatsheet" / "conteneurs.md"
    chunks = parse_markdown(path.read_text(encoding="utf-8"), path.name)
    view = CorpusView.of(chunks)
    reading = view.catalog.read("différence entre docker stop et docker kill")
    stop, kill = compared_sides(reading, view)
    at = {c.line: i for i, c in enumerate(chunks)}
    # "- **Arrêter un conteneur proprement** :" > ```docker stop web``` > "- envoie **SIGTERM** …"
    assert chunks[at[48]].text.startswith("envoie **SIGTERM**")
    assert on_side(view, at[48], stop) and not on_side(view, at[48], kill)
    assert on_side(view, at[53], kill) and not on_side(view, at[53], stop)


def test_a_heading_the_compared_terms_refine_is_not_a_side():
    from retrieval.ranking import CorpusView, compared_sides

    path = DATA / "cheatsheet" / "outils.md"
    view = CorpusView.of(parse_markdown(path.read_text(encoding="utf-8"), path.name))
    reading = view.catalog.read("git reset ou git revert ?")
    assert reading.services == ["1. Git"]
    assert [s[0] for s in compared_sides(reading, view)] == [None, None]  # the two commands, not "Git"


def test_headings_with_emoji_and_numbering_name_their_service():
    reading = _catalog("prose").read("que retenir pour l'exam sur EC2 et les load balancers ?")
    # "## 🖥️ 2.1 Amazon EC2" is named by "EC2"; tips about two services is not a comparison
    assert reading.intent == "tips" and "🖥️ 2.1 Amazon EC2" in reading.services


def test_tips_kept_in_a_chapter_of_their_own_answer_a_named_service(tmp_path):
    r = _built(
        tmp_path,
        "calcul.md",
        "# Calcul\n\n## Amazon EC2\n\n- Spot : jusqu'à 90 % moins cher\n- On-Demand : paiement à la seconde\n\n"
        "## AWS Lambda\n\n- durée max 15 minutes\n\n"
        "## À retenir pour l'examen\n\n- Lambda au-delà de 15 minutes : passer sur Batch\n"
        "- EC2 Spot pour un batch interruptible et pas cher\n",
    )
    a = r.ask("conseils pour l'examen sur EC2")
    assert a.intent == "tips" and a.services == ["Amazon EC2"]
    # EC2 has no tips of its own: the notes' tips come first, the one about EC2 before the other
    assert [h.line for h in a.hits[:2]] == [15, 14]
    assert {5, 6} <= {h.line for h in a.hits}  # then what the notes say of EC2


@pytest.mark.parametrize(
    "q, bare",
    [
        ("c'est quoi CloudFormation ?", True),
        ("what is AWS Outposts", True),
        ("pinpoint c koi", True),
        ("pinpont c'est quoi", True),  # the name misspelt, as the catalog reads it
        ("c'est quoi le rollback de CloudFormation ?", False),  # asks about something in the section
        ("qu'est-ce qu'une stack", False),  # not a heading
        ("CloudFormation", True),  # a name alone asks what it is ("athena", "et quicksight ?")
        ("et Pinpoint ?", True),
        ("CloudFormation rollback", False),  # asks about something in the section
    ],
)
def test_bare_definition_questions(q, bare):
    assert CAT.read(q).bare is bare


def test_a_bare_definition_shows_the_section_opening_first(retriever):
    # the opening block of "## CloudFormation" (lines 4-7) says what it is, in the note's order
    assert [h.line for h in retriever.search("c'est quoi CloudFormation ?", k=4)] == [4, 5, 6, 7]
    # with the rule left out, a line about CloudFormation's lifecycle came first (line 34)
    retriever.disabled_rules = frozenset({"definition"})
    try:
        assert retriever.search("c'est quoi CloudFormation ?", k=1)[0].line != 4
    finally:
        retriever.disabled_rules = frozenset()


def test_two_named_things_compared_are_answered_not_refused(tmp_path):
    r = _built(
        tmp_path,
        "aws.md",
        "## Conteneurs\n\n- **EKS** : Kubernetes managé sur AWS\n- **ECS** : orchestrateur propre à AWS\n\n"
        "## Sécurité\n\n- **CloudTrail** : qui a fait quoi et quand\n- **AWS Config** : historique des réglages\n",
    )
    # the questions hold nothing but the two names: no other word to check against the notes
    assert {h.line for h in r.search("EKS vs ECS", k=2)} == {3, 4}
    assert {h.line for h in r.search("CloudTrail ou AWS Config ?", k=2)} == {8, 9}
    assert r.search("SQS vs Kinesis") == []  # names the notes never write: still refused


def test_a_word_in_capitals_is_a_product_only_when_it_is_an_acronym(retriever):
    from retrieval.abstain import unknown_products

    lexical = retriever.snapshot.lexical
    assert unknown_products("combien de partitions dans un topic MSK ?", lexical) == ["MSK"]
    # a shouted word is not a product the notes lack: the question is still searched
    assert unknown_products("revenir en arrière après un DELETE raté sur CloudFormation", lexical) == []


def test_a_comparison_keeps_the_best_line_first_then_shows_both_sides(tmp_path):
    r = _built(
        tmp_path,
        "msg.md",
        "## Amazon SQS\n\n- file d'attente, les consommateurs lisent en pull\n"
        "- rétention des messages : 14 jours max\n\n"
        "## Amazon SNS\n\n- pub/sub, envoi en push aux abonnés\n- **Comparaison avec SQS**\n"
        "  - SQS garde les messages, SNS les diffuse à ses abonnés\n",
    )
    q = "SQS ou SNS pour garder des messages 14 jours ?"
    best = r.search(q, k=1, mode="fusion")[0]
    a = r.ask(q, k=5)
    assert a.intent == "compare" and best.line == 4
    assert a.hits[0].line == 4  # the line that answers stays first, before the contrast (10)
    assert {h.heading for h in a.hits[:3]} == {"Amazon SQS", "Amazon SNS"}  # then both sides


@pytest.mark.parametrize(
    "line, term",
    [
        ("**Stack** = ensemble de ressources", ["stack"]),
        ("**URL pré-signée** : accès temporaire à un objet privé", ["url", "pre", "signee"]),
        ("Cold start :: la première invocation", ["cold", "start"]),
        ("**Multi-AZ** — une réplique synchrone", ["multi", "az"]),
        ("Le texte suivant ne définit rien : il raconte.", []),  # a long phrase before ":" is no term
    ],
)
def test_lines_that_define_a_term(line, term):
    from retrieval.cues import defined_term

    assert defined_term(line) == term


@pytest.mark.slow
def test_what_is_a_term_shows_the_line_that_defines_it_first(tmp_path):
    r = Retriever.build(DATA / "stockage", tmp_path / "idx")
    # "- **URL pré-signée** : accès temporaire à un objet privé, sans changer les droits du bucket"
    assert r.search("c'est quoi une URL pré-signée ?", k=1)[0].line == 28
    r.disabled_rules = frozenset({"definition"})  # without the rule, an exam tip naming it came first
    assert r.search("c'est quoi une URL pré-signée ?", k=1)[0].line != 28


@pytest.mark.slow
def test_a_service_named_in_two_words_is_known_as_one(tmp_path):
    r = Retriever.build(DATA / "obsidian", tmp_path / "idx")
    # the vault cites Direct Connect once, against Site-to-Site VPN, and gives no price for it
    assert r.ask("prix d'une connexion Direct Connect à 10 Gbit/s").hits == []
    assert r.search("Direct Connect ou Site-to-Site VPN ?", k=1)[0].line == 80  # what it does say


def test_heading_of_question_words_names_no_service():
    """Every Notion page has its "## C'est quoi": "c'est quoi Glue ?" names Glue, not that heading."""
    cat = _catalog("notion")
    assert "C'est quoi" not in {s.heading for s in cat.services}
    assert cat.read("c'est quoi glue ?").services == ["AWS Glue"]


def test_a_word_the_notes_write_is_no_misspelt_heading():
    """ "active" (in "Active Directory") is a word of the notes, not a typo of the heading "Activer"; a real
    typo still finds its heading."""
    cat = _catalog("vault")
    assert "Activer" in {s.heading for s in cat.services}
    assert cat.read("et avec active directory ?").services == []
    assert cat.read("comment activr x-ray ?").services[-1:] == ["Activer"]


def test_a_name_said_short_is_still_its_heading():
    """ "sagemaker" is a word of the notes and one word of the heading "Amazon SageMaker AI": the name said
    short, not a word that only looks like it (the notes' word rule above must not refuse the page)."""
    cat = _catalog("gdocs")
    assert cat.read("conseils examen sagemaker").services == ["Amazon SageMaker AI"]
    assert cat.read("à quoi sert Ground Truth dans sagemaker").services == ["Amazon SageMaker AI"]


def test_a_section_named_with_its_page_is_that_section():
    """ "cloudwatch logs": the "## Logs" section of the CloudWatch page, asked what it is."""
    cat = _catalog("vault")
    reading = cat.read("c'est quoi cloudwatch logs")
    assert reading.services == ["Logs"] and reading.bare
    assert cat.read("c'est quoi cloudwatch").services == ["CloudWatch"]
