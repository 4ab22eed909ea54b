"""Questions that are not clean: a clear notice or a normal answer, within a second once warm, never an exception."""

import time

import pytest
from conftest import CORPUS

from retrieval.parsing import split_lines
from retrieval.querytext import MAX_QUERY_CHARS, NOTICE_CUT, NOTICE_EMPTY, NOTICE_NO_WORD, clean_query


def test_clean_query_cases():
    assert clean_query("") == ("", NOTICE_EMPTY)
    assert clean_query(" \n\t\r ") == ("", NOTICE_EMPTY)
    assert clean_query(None) == ("", NOTICE_EMPTY)
    assert clean_query("S3\x00bucket\x07 \x1b versioning") == ("S3 bucket versioning", "")
    assert clean_query("\u202eDrift\u200b Detection\ud800") == (
        "Drift Detection",
        "",
    )  # bidi, zero-width, lone surrogate
    assert clean_query("?!… ;; --") == ("", NOTICE_NO_WORD)
    assert clean_query("🚀🔥👍🏽") == ("", NOTICE_NO_WORD)
    assert clean_query("Lambda 🚀") == ("Lambda 🚀", "")
    assert clean_query("什么是 CloudFormation") == ("什么是 CloudFormation", "")
    assert clean_query("le la les de du") == ("le la les de du", "")
    assert clean_query("cafe\u0301") == ("café", "")  # NFC: decomposed accents typed on macOS
    q, notice = clean_query("mot " * 25_000)
    assert notice == NOTICE_CUT and len(q) <= MAX_QUERY_CHARS and q.endswith("mot")  # cut at a word boundary
    q, notice = clean_query("x" * 1_000_000)
    assert notice == NOTICE_CUT and len(q) == MAX_QUERY_CHARS


QUERIES = {
    "empty": ("", NOTICE_EMPTY),
    "blank": ("   \n\t  ", NOTICE_EMPTY),
    "huge": ("Drift Detection CloudFormation " * 3500, NOTICE_CUT),
    "control": ("Drift\x00Detection\x07\x1b[31m\x7f", ""),
    "stop_words": ("le la les de du et ou", ""),
    "punctuation": ("?!?!... ;;; ---", NOTICE_NO_WORD),
    "emoji": ("🚀🔥😀", NOTICE_NO_WORD),
    "emoji_and_words": ("CloudFormation 🚀 stack ?", ""),
    "chinese": ("什么是 CloudFormation", ""),
    "russian": ("Что такое Amazon SES", ""),
    "arabic": ("ما هو AWS Batch", ""),
    "surrogate": ("\ud800Drift\udfff", ""),
    "bidi": ("\u202eOutposts\u202c", ""),
}


def _verbatim(hits):
    for h in hits:
        lines = split_lines((CORPUS / h.source).read_text(encoding="utf-8"))
        assert h.text in lines[h.line - 1], h


@pytest.mark.parametrize("name", list(QUERIES))
def test_unclean_questions_answer_fast_without_error(retriever, name):
    q, notice = QUERIES[name]
    retriever.search("CloudFormation stack", k=3)  # warm
    t0 = time.perf_counter()
    hits = retriever.search(q, k=5)
    t1 = time.perf_counter()
    ans = retriever.ask(q, k=5)
    t2 = time.perf_counter()
    assert t1 - t0 < 1.0 and t2 - t1 < 1.0, (t1 - t0, t2 - t1)
    _verbatim(hits)
    _verbatim(ans.hits)
    assert ans.notice == notice
    if notice in (NOTICE_EMPTY, NOTICE_NO_WORD):
        assert hits == [] and ans.hits == [] and ans.intent == "none"
    assert len(ans.query) <= MAX_QUERY_CHARS
