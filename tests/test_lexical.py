"""French lexical analysis: what becomes an index term."""

from retrieval.lexical import LexicalIndex, tokenize


def test_accents_case_stemming_and_stop_words():
    assert tokenize("Données chiffrées") == tokenize("donnees chiffrees")
    assert tokenize("les emails et un email") == ["email", "email"]
    assert tokenize("l’infrastructure") == tokenize("l'infrastructure") == tokenize("infrastructure")


def test_acronyms_and_numbers_stay_whole():
    # "SES" the service is not the French possessive "ses"; "SMS" is not stemmed to "sm"
    assert tokenize("SES") == ["ses"] and tokenize("ses") == []
    assert tokenize("SMS") == ["sms"]
    assert tokenize("port 22, 15 minutes, 70 %") == ["port", "22", "15", tokenize("minutes")[0], "70"]
    assert tokenize("IaC et DKIM") == ["iac", "dkim"]


def test_bm25_scores_and_known_fraction():
    idx = LexicalIndex.build(["Amazon SES > envoi d'emails", "SSM > sans SSH ni port 22", ""])
    s = idx.scores(tokenize("port 22"))
    assert s.argmax() == 1 and s[0] == 0 and s[2] == 0
    assert idx.known_fraction(tokenize("port 22")) == 1.0
    assert idx.known_fraction(tokenize("recette de crêpes")) == 0.0
    assert 0 < idx.known_fraction(tokenize("port crêpes")) < 1


def test_spelled_out_forms_meet_the_notes_abbreviations():
    # the notes write "15 minutes max" and "e-mails"; students type "au maximum" and "emails"
    assert tokenize("au maximum") == tokenize("max") == ["max"]
    assert tokenize("durée minimale") == tokenize("durée min")
    assert tokenize("e-mails") == tokenize("emails") == tokenize("E-mail")
    assert tokenize("e-commerce") == tokenize("ecommerce")
    assert tokenize("pré-requis") == tokenize("pré requis")  # other hyphens still split


def test_docs_with_a_token():
    idx = LexicalIndex.build(["EC2 et S3", "S3 seulement", "rien"])
    assert idx.docs_with("s3").tolist() == [0, 1]
    assert idx.docs_with("ec2").tolist() == [0]
    assert idx.docs_with("inconnu").tolist() == []


def test_fold_is_nfkd_without_marks_lowercased():
    import unicodedata

    from retrieval.text import fold

    def reference(s):
        s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
        s = unicodedata.normalize("NFKD", s)
        return "".join(c for c in s if not unicodedata.combining(c)).lower()

    samples = [
        "Données chiffrées",
        "l’examen",
        "‘x’",
        "a\u00a0b",
        "ΣΟΦΟΣ",
        "İstanbul",
        "ﬁchier",
        "Œuvre",
        "e\u0301te\u0301",
        "한국어",
        "🙂 emoji",
        "ẞ",
        "",
    ]
    for s in samples:
        assert fold(s) == reference(s), s
    assert fold("Élève À l’ÉCOLE") == "eleve a l'ecole"
