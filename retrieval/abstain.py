"""Saying "nothing in your notes" instead of showing weak passages.

Signals, each cheap and measured on eval/ (see README, "Abstention"), used only when the
question names no service of the notes:
1. it names a product the notes never mention (an AWS service from the list below, a
   CamelCase / upper-case name such as "CloudFront", "SQS", or a capitalised name);
2. it names an AWS service the notes mention only in passing, and most of its other words
   are unknown to the notes ("tarifs Lambda par requête");
3. nothing is close: the best cosine is very low and most of its words are unknown to the notes.
Paraphrases share few words with the notes, so the second signal is kept strict: a wrongly
refused question costs the student more than one weak passage shown.
"""
from __future__ import annotations

import re

from .lexical import LexicalIndex, tokenize
from .query import QueryReading
from .text import fold

MIN_COSINE = 0.12  # below the lowest in-scope best cosine seen on eval/ (0.125)
MIN_KNOWN = 0.35

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
    joined = {a + b for a, b in zip(folded, folded[1:])
              if not (lexical.known(tokenize(a)) and lexical.known(tokenize(b)))}
    for n, (w, f) in enumerate(zip(words, folded)):
        if not w[0].isalpha():
            continue
        camel = len(w) >= 4 and w[0].isupper() and any(c.isupper() for c in w[1:]) and not w.isupper()
        caps = len(w) >= 3 and w.isupper()
        # a capitalised word inside the sentence is a name ("Firehose", "Australie")
        name = n > 0 and len(w) >= 4 and w[0].isupper() and w[1:].islower()
        if (camel or caps or name or f in AWS_SERVICES) and not lexical.known(tokenize(w)):
            out.append(w)
    for j in joined:
        if j in AWS_SERVICES and not lexical.known([j]):
            out.append(j)
    return out


def _nonsense(token: str) -> bool:
    """A "word" no note can hold: a key held down ("xxxxxxxx") or a run longer than any real word."""
    return len(token) > 30 or (len(token) >= 4 and len(set(token)) <= 2)


def should_abstain(reading: QueryReading, lexical: LexicalIndex, best_cosine: float) -> bool:
    if reading.services:
        return False  # a service of the notes is named: its section answers, at worst partly
    if unknown_products(reading.query, lexical):
        return True
    tokens = tokenize(reading.query)
    if not tokens or all(_nonsense(t) for t in tokens):
        return True
    # "tarifs Lambda par requête": a service the notes name only in passing, asked about
    # things the notes do not know. Compared with a service of the notes, it would be named.
    others = [w for w in (fold(x) for x in re.findall(r"[^\W_]+", reading.query)) if w in AWS_SERVICES]
    if others and lexical.known_fraction([t for t in tokens if t not in others]) < MIN_KNOWN:
        return True
    return best_cosine < MIN_COSINE and lexical.known_fraction(tokens) < MIN_KNOWN
