"""Smoke test of `python -m retrieval.bench` at tiny sizes: it runs and its JSON has the fields.

Not a timed test: no figure is compared with a target here (the machine may be busy).
"""

import json

import pytest

from retrieval.parsing import index_text, parse_markdown
from retrieval.tools import bench


def test_generated_corpus_has_unique_chunk_texts(tmp_path):
    info = bench.generate_corpus(tmp_path, 600, 6)
    chunks = [c for f in sorted(tmp_path.glob("*.md")) for c in parse_markdown(f.read_text(encoding="utf-8"), f.name)]
    assert info["files"] == 6 and len(chunks) >= 590
    assert len({index_text(c) for c in chunks}) == len(chunks)  # else the embedding cache would skew the build figure
    before = {f.name: f.read_text(encoding="utf-8") for f in tmp_path.glob("*.md")}
    edited = bench.edit_one_file(tmp_path)
    after = {f.name: f.read_text(encoding="utf-8") for f in tmp_path.glob("*.md")}
    assert [n for n in before if before[n] != after[n]] == [edited]


def test_query_pool_is_distinct():
    qs = bench.query_pool(400)
    assert len(qs) == len(set(qs)) == 400


@pytest.mark.slow  # the benchmark itself: a dozen fresh processes
def test_bench_json_fields(tmp_path, capsys):
    out = tmp_path / "bench.json"
    # 150: real build + one-file refresh; 400 (> --derive-above): derived vectors through builder.build.
    rc = bench.main(
        [
            "--sizes",
            "150,400",
            "--files",
            "5",
            "--derive-above",
            "300",
            "--base-real",
            "60",
            "--queries",
            "4",
            "--no-cold",
            "--vault",
            "120",
            "--bare-sample",
            "30",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "w"),
        ]
    )
    assert rc == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert {"machine", "model", "sizes", "total_s"} <= set(res)
    real, derived = res["sizes"]
    assert real["build"]["mode"] == "real" and derived["build"]["mode"].startswith("derived")
    for key in ("build_s", "chunks_per_s", "refresh_s", "refresh_ratio", "refresh_embedded", "build_peak_rss_mb"):
        assert key in real["build"], key
    assert real["build"]["refresh_rebuilt"] is True and 0 < real["build"]["refresh_embedded"] < real["build"]["chunks"]
    assert derived["build"]["real_embedded"] == 60 and derived["build"]["chunks"] >= 390
    for e in (real, derived):
        s = e["serve"]
        assert s["chunks"] - e["build"]["chunks"] in (
            0,
            1,
        )  # the real size was served after its one-file edit (+1 bullet)
        assert {"load_s", "peak_rss_mb", "rss_after_load_mb", "recall_at_10", "components_ms_p50"} <= set(s)
        for k in ("embed", "search", "search_no_refresh", "ask"):
            assert s["latency_ms"][k]["n"] == 4 and s["latency_ms"][k]["p50"] > 0
        assert s["components_ms_p50"]["total"] > 0 and "embed_query" in s["components_ms_p50"]
        assert s["recall_at_10"] == 1.0  # tiny sizes use the exact (flat) index
        assert {"chunks_mb", "dense_mb", "lexical_mb"} <= set(e["memory"])
    (v,) = res["vault"]  # a vault opened in the background: first answer, full index, throughput, re-embedded
    assert v["chunks"] >= 100 and v["first_answer_hits"] > 0 and v["first_answer_s"] < v["full_index_s"]
    assert v["embedded"] == v["chunks"] and v["reembedded_after_restart"] == 0 and v["bare_texts"] == 30
    assert v["embedded_per_s"] > 0 and v["bare_per_s"] > 0 and v["peak_rss_mb"] > 0
    printed = capsys.readouterr().out
    assert "first answer" in printed and "re-embedded on restart" in printed
    assert "search p50/p95" in printed and "recall@10" in printed


def test_cold_start_finds_the_chat_of_the_multipage_app():
    # the chat lives in ui/chat.py since the app has pages: the bench must still time a real answer,
    # not fall back to its proxy (it did, silently, after the split)
    from retrieval.tools.bench.coldstart import app_has_chat

    assert app_has_chat()
