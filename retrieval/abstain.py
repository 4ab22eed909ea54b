"""Saying "nothing in your notes" instead of showing weak passages.

Signals, each cheap and measured on eval/ (see README, "Abstention"), used only when the
question names no service of the notes:
1. it names a product the notes never mention (an AWS service from the list below, a
   CamelCase / upper-case name such as "CloudFront", "SQS", or a capitalised name);
2. it names an AWS service the notes mention only in passing ("SNS", "S3", "Lambda") and
   the notes do not say what it asks about that service: none of its other words is a word of
   the notes ("tarifs Lambda par requête"); no block naming the service holds a fifth of them
   ("configurer un bucket S3 en site web statique"); most are unknown and the known ones are
   not all in one such block ("créer une table DynamoDB avec des index secondaires globaux");
   or it asks for a figure (size, price, duration, limit) and no passage naming the service
   gives one ("taille max d'un message SNS");
3. nothing is close: the best cosine is very low and most of its words are unknown to the notes;
4. it is no sentence (not one function word: "asdf qwer zxcv", "null undefined NaN") and half of
   its words or more are unknown to the notes.
Paraphrases share few words with the notes, so these signals are kept strict: a wrongly
refused question costs the student more than one weak passage shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from .cues import asks_about, asks_definition, defined_term
from .lexical import STOP_WORDS, LexicalIndex, tokenize
from .query import QueryReading
from .ranking import CorpusView
from .text import VENDORS, fold, fold_words

# For the judge model (multilingual USE, embedding.JUDGE_MODEL): below the lowest in-scope best cosine
# seen on eval/ (0.125). The ranking model, e5, is no judge: its cosines sit in 0.79-0.90 for every
# question, in scope or not (measured on the tuning sets: no threshold separates them).
MIN_COSINE = 0.12
MIN_KNOWN = 0.35
# share (IDF-weighted) of the question's known words that some block naming the service holds;
# every covered question on eval/ is at 0.28 or more, the uncovered ones caught here at 0
MIN_SHARED = 0.2
VENDOR = frozenset(v.lower() for v in VENDORS)
# A question of bare words (no function word) is refused when this share of its distinct words is
# unknown to the notes: covered ones on eval/ are at 0.33 at most ("gp2 vs gp3"), gibberish at 0.5-1.0
MAX_UNKNOWN_BARE = 0.5

# Domain knowledge, not these notes: names of AWS services a student may ask about.
AWS_SERVICES = """
athena aurora appsync backup beanstalk cloudfront cloudhsm cloudtrail cloudwatch codebuild codecommit
codedeploy codepipeline cognito comprehend config datasync detective directconnect dms documentdb dynamodb
ebs ec2 ecr ecs efs eks elasticache elasticsearch emr eventbridge fargate fsx glacier glue guardduty iam
inspector iot kendra kinesis kms lakeformation lambda lex lightsail macie memorydb mq neptune opensearch
organizations polly quicksight rds redshift rekognition route53 s3 sagemaker secretsmanager securityhub shield
firehose sns sqs ssm stepfunctions storagegateway sts textract transcribe translate vpc waf workmail workspaces xray
""".split()


def unknown_products(query: str, lexical: LexicalIndex) -> list[str]:
    """Product-like names in the question that appear nowhere in the notes."""
    out = []
    words = [m.group(0) for m in re.finditer(r"[^\W_]+", query)]
    folded = [fold(w) for w in words]
    # "Route 53" → "route53"; a pair the notes know word by word ("Direct Connect") is known
    joined = {
        a + b for a, b in zip(folded, folded[1:]) if not (lexical.known(tokenize(a)) and lexical.known(tokenize(b)))
    }
    for n, (w, f) in enumerate(zip(words, folded)):
        if not w[0].isalpha():
            continue
        camel = len(w) >= 4 and w[0].isupper() and any(c.isupper() for c in w[1:]) and not w.isupper()
        # an acronym ("MSK", "NACL"); a longer word in capitals is shouted, not a name ("DELETE", "IMPORTANT")
        caps = 3 <= len(w) <= 5 and w.isupper()
        # a capitalised word inside the sentence is a name ("Firehose", "Australie")
        name = n > 0 and len(w) >= 4 and w[0].isupper() and w[1:].islower()
        if (camel or caps or name or f in AWS_SERVICES) and not lexical.known(tokenize(w)):
            out.append(w)
    for j in joined:
        if j in AWS_SERVICES and not lexical.known([j]):
            out.append(j)
    return out


def _has_function_word(query: str) -> bool:
    """True when the question holds a French or English function word ("de", "les", "how", "à"): a
    sentence, not a list of bare words. One-letter elisions ("l'", "d'", "%s") do not count, and
    neither do capitals ("SES" is a service, not "ses")."""
    for w in re.findall(r"[^\W_]+", query):
        f = fold(w).lower()
        if f in STOP_WORDS and not (w.isupper() and len(w) > 1) and (len(w) > 1 or f in ("a", "y")):
            return True
    return False


def _nonsense(token: str) -> bool:
    """A "word" no note can hold: a key held down ("xxxxxxxx") or a run longer than any real word."""
    return len(token) > 30 or (len(token) >= 4 and len(set(token)) <= 2)


def _unsupported_passing_service(
    reading: QueryReading, tokens: list[str], lexical: LexicalIndex, view: CorpusView
) -> bool:
    """Signal 2: an AWS service the notes name only in passing, asked about something they do not say."""
    words = re.findall(r"[^\W_]+", reading.query)
    named = [w for w in words if fold(w) in AWS_SERVICES]
    # a name in two words: "Direct Connect", "Route 53", "Step Functions"
    named += [f"{a} {b}" for a, b in zip(words, words[1:]) if fold(a + b) in AWS_SERVICES]
    own = {t for w in named for t in tokenize(w)}
    if not own:
        return False
    # what the question asks about the service: its other words, "AWS" and "Amazon" aside
    rest = [t for t in dict.fromkeys(tokens) if t not in own and t not in VENDOR]
    weights = {t: lexical.idf(t) for t in rest if lexical.idf(t) > 0}
    naming = np.unique(np.concatenate([lexical.docs_with(t) for t in own]))
    if not weights:
        # nothing but the service's name is a word of the notes; "direct connect c'est quoi" asks what
        # it is (so do "EKS", "parle-moi d'EKS", "et ECS ?"), which a line of the notes that is the name
        # (a bullet "Direct Connect (DX)" over its details, "**Direct Connect** : …") answers
        folded = fold(reading.query)
        alone = not [t for t in tokens if t not in own and t not in VENDOR]
        return not ((asks_definition(folded) or asks_about(folded) or alone) and _an_item(named, naming, view))
    if not len(naming):
        return False  # a name the notes do not hold is signal 1's business
    # A note says things about a service over a whole block ("Destinations : S3, Redshift" next
    # to "Salesforce, Snowflake"): the words are looked for in the blocks naming it.
    about = np.unique(view.block[naming])
    shared = np.zeros(len(about))
    for t, w in weights.items():
        shared += w * np.isin(about, view.block[lexical.docs_with(t)])
    share = float(shared.max()) / sum(weights.values())
    if share < MIN_SHARED:
        return True
    # Mostly words the notes do not know: what they do know must all be in one block on the
    # service ("arrêter les instances EC2 le soir et le week-end" → "arrêter les instances EC2 ...").
    if lexical.known_fraction(rest) < MIN_KNOWN and share < 1.0 - 1e-9:
        return True
    return reading.figure and not bool(view.figure[naming].any())


def _an_item(named: list[str], naming: np.ndarray, view: CorpusView) -> bool:
    """One of these passages is one of the named things as an item of the notes: its line is the name
    (an abbreviation in brackets aside), or defines it."""
    names = {tuple(w for w in fold_words(n) if w not in VENDOR) for n in named}
    for i in naming:
        text = view.chunks[int(i)].text
        bare = tuple(w for w in fold_words(_BRACKETS.sub(" ", text)) if w not in VENDOR)
        if bare in names or tuple(defined_term(text)) in names:
            return True
    return False


_BRACKETS = re.compile(r"\([^()]*\)")


def should_abstain(
    reading: QueryReading,
    lexical: LexicalIndex,
    closeness: Callable[[], float],
    view: CorpusView,
    disabled: frozenset[str] = frozenset(),
) -> bool:
    """`closeness()`: the best cosine, for the judge model, between the question and the passages
    ranked first (computed only when signal 3 needs it). `disabled`: checks left out, for evaluation."""
    if reading.services:
        return False  # a service of the notes is named: its section answers, at worst partly
    if "abstain-unknown" not in disabled and unknown_products(reading.query, lexical):
        return True
    tokens = tokenize(reading.query)
    if not tokens or all(_nonsense(t) for t in tokens):
        return True
    if "abstain-bare" not in disabled and not _has_function_word(reading.query):
        # Not a sentence ("asdf qwer zxcv", "null undefined NaN", "../../etc/passwd"): bare words, so
        # they are the whole question, and at least half of them are words the notes never write.
        distinct = set(tokens)
        if len(distinct - set(lexical.known(list(distinct)))) >= MAX_UNKNOWN_BARE * len(distinct):
            return True
    # "EKS vs ECS", "CloudTrail ou AWS Config ?": two things the notes write, compared; the question
    # holds nothing else to check against the notes, and the notes say what each one is
    compared = reading.intent == "compare" and len(reading.terms) >= 2
    if (
        "abstain-passing" not in disabled
        and not compared
        and _unsupported_passing_service(reading, tokens, lexical, view)
    ):
        return True
    if "abstain-far" in disabled or lexical.known_fraction(tokens) >= MIN_KNOWN:
        return False
    return closeness() < MIN_COSINE
