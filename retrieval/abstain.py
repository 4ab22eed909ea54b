"""Saying "nothing in your notes" instead of showing weak passages.

Two signals, each cheap and measured on eval/ (see README, "Abstention"):
1. the question names a product the notes never mention (an AWS service from the list below,
   or a CamelCase / upper-case name such as "CloudFront", "SQS") and names no service of the notes;
2. nothing is close: the best cosine is very low and most of the question's words are unknown
   to the notes.
Paraphrases share few words with the notes, so the second signal is kept strict: a wrongly
refused question costs the student more than one weak passage shown.
"""
from __future__ import annotations

import re

import numpy as np

from .lexical import LexicalIndex, tokenize
from .query import QueryReading
from .text import fold

MIN_COSINE = 0.13
MIN_KNOWN = 0.35

# Domain knowledge, not these notes: names of AWS services a student may ask about.
AWS_SERVICES = """
athena aurora appsync backup beanstalk cloudfront cloudhsm cloudtrail cloudwatch codebuild codecommit
codedeploy codepipeline cognito comprehend config datasync detective directconnect dms documentdb dynamodb
ebs ec2 ecr ecs efs eks elasticache elasticsearch emr eventbridge fargate fsx glacier glue guardduty iam
inspector iot kendra kinesis kms lakeformation lambda lex lightsail macie memorydb mq neptune opensearch
organizations polly quicksight rds redshift rekognition route53 s3 sagemaker secretsmanager securityhub shield
sns sqs ssm stepfunctions storagegateway sts textract transcribe translate vpc waf workmail workspaces xray
""".split()
_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:\s?[0-9]+)?\b")


def unknown_products(query: str, lexical: LexicalIndex) -> list[str]:
    """Product-like names in the question that appear nowhere in the notes."""
    out = []
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", query)
    folded = [fold(w) for w in words]
    joined = {a + b for a, b in zip(folded, folded[1:])}  # "Route 53" → "route53"
    for w, f in zip(words, folded):
        camel = len(w) >= 4 and w[0].isupper() and any(c.isupper() for c in w[1:]) and not w.isupper()
        caps = len(w) >= 3 and w.isupper()
        if (camel or caps or f in AWS_SERVICES) and not lexical.known(tokenize(w)):
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
    idf = {t: lexical.idf(t) for t in set(tokens)}
    unknown_weight = float(np.log(1 + (lexical.n_docs + 0.5) / 0.5))  # what an unseen word would weigh
    total = sum(v if v > 0 else unknown_weight for v in idf.values())
    known = sum(v for v in idf.values() if v > 0) / total if total else 0.0
    return best_cosine < MIN_COSINE and known < MIN_KNOWN
