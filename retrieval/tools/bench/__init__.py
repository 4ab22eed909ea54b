"""Performance benchmark: `python -m retrieval.bench` prints a table and writes JSON.

Not a test: it measures, per corpus size (the shipped notes, ~10,000 and ~100,000 chunks),
build time and throughput, incremental refresh after editing one file, load time, peak
RSS, warm `search`/`ask` latency next to the bare query embedding (the floor), where the
time of one search goes, and recall@10 of the approximate FAISS index against exact search.

Generated corpora are the notes with words substituted so that no two chunks share text
(the embedding cache would otherwise make build figures meaningless). The largest size
(> --derive-above chunks) is not embedded for real: a few thousand chunks are, the other
vectors are those plus noise, renormalized, and the rest of builder.build (parse, BM25,
FAISS, store.write) runs as usual. Its search, load and memory figures are real; its build
figure is not an embedding throughput, and the output says so.

Every measurement that reports memory or load time runs in a fresh subprocess, so that
peak RSS belongs to that phase only.

Modules, one job each:
- generate.py: the queries and the generated corpora (and the one-file edit)
- workers.py: what runs in each fresh process (build, serve, memory, cold-start proxy)
- components.py: where the time of one search goes
- measure.py: the run over the sizes; coldstart.py: `streamlit run` to the first answer
- report.py: the table; cli.py: the flags; common.py: paths, percentiles, RSS, run_worker
"""

from .cli import main
from .generate import edit_one_file, generate_corpus, query_pool

__all__ = ["main", "generate_corpus", "edit_one_file", "query_pool"]
