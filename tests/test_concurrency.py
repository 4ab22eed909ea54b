"""The app under load: ten sessions share one index while a note is edited and the index refreshed."""

import random
import threading
import time

import pytest

from retrieval import Retriever
from retrieval.parsing import split_lines

VERSIONS = [
    "## Amazon SQS\n- file d'attente standard\n- visibilité des messages 30 secondes\n",
    "## Amazon SQS\n\n\n- visibilité des messages réglable\n- file FIFO ordonnée\n- file d'attente standard\n",
    "# Notes\n## Amazon SQS\n- file FIFO ordonnée, déduplication\n\n- file d'attente standard et DLQ\n",
]
QUERIES = ["file d'attente", "visibilité des messages", "FIFO", "Lambda 15 minutes", "stockage objet", "", "🚀"]


@pytest.mark.slow  # ten threads asking through refreshes: ~10 s
def test_ten_sessions_ask_while_a_note_is_edited_and_refreshed(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    (c / "lambda.md").write_text("## AWS Lambda\n- exécution limitée à 15 minutes\n")
    (c / "s3.md").write_text("## Amazon S3\n- stockage objet durable\n")
    (c / "sqs.md").write_text(VERSIONS[0])
    r = Retriever.build(c, tmp_path / "idx")
    stable = {n: split_lines((c / n).read_text()) for n in ("lambda.md", "s3.md")}
    versions = [split_lines(v) for v in VERSIONS]
    errors, answers = [], []
    stop = threading.Event()

    def session(seed):
        rnd = random.Random(seed)
        try:
            while not stop.is_set():
                q = rnd.choice(QUERIES)
                hits = r.search(q, k=5) if rnd.random() < 0.5 else r.ask(q, k=5).hits
                answers.append(hits)
        except Exception as e:  # noqa: BLE001 - any exception is the failure being tested
            errors.append(repr(e))

    def editor():
        try:
            for i in range(1, 10):
                (c / "sqs.md").write_text(VERSIONS[i % 3])
                r.refresh()
                time.sleep(0.1)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            stop.set()

    threads = [threading.Thread(target=session, args=(s,)) for s in range(10)] + [threading.Thread(target=editor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(answers) > 50
    for hits in answers:
        for h in hits:
            if h.source != "sqs.md":
                assert h.text in stable[h.source][h.line - 1]
        sqs = [h for h in hits if h.source == "sqs.md"]
        # All quotes of one answer come from one version of the edited note (one snapshot).
        assert any(all(h.line <= len(v) and h.text in v[h.line - 1] for h in sqs) for v in versions), sqs
    # After the last edit, answers quote the final version.
    final = split_lines(VERSIONS[9 % 3])
    for h in r.search("file FIFO ordonnée déduplication", k=3):
        if h.source == "sqs.md":
            assert h.text in final[h.line - 1]
