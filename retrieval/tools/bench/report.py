"""The benchmark's table: one column per size, then the search breakdown, memory and cold start."""

from __future__ import annotations


def table(res: dict) -> str:
    rows = [
        ("size (chunks)", lambda e: f"{e['serve']['chunks']}"),
        ("index", lambda e: e["serve"]["index_type"]),
        (
            "build",
            lambda e: (
                f"{e['build']['build_s']:.1f} s, {e['build']['chunks_per_s']:.0f}/s"
                if e["build"]["mode"] == "real"
                else f"{e['build']['pipeline_s']:.1f} s w/o embed*"
            ),
        ),
        (
            "refresh 1 file",
            lambda e: (
                f"{e['build']['refresh_s']:.2f} s ({e['build']['refresh_ratio'] * 100:.0f} %)"
                if "refresh_s" in e["build"]
                else "-"
            ),
        ),
        ("load", lambda e: f"{e['serve']['load_s']:.2f} s"),
        ("peak RSS", lambda e: f"{e['serve']['peak_rss_mb']:.0f} MiB"),
        ("embed p50 (floor)", lambda e: f"{e['serve']['latency_ms']['embed']['p50']:.2f} ms"),
        ("search p50/p95", lambda e: "{p50:.2f}/{p95:.2f} ms".format(**e["serve"]["latency_ms"]["search"])),
        ("  no refresh", lambda e: "{p50:.2f}/{p95:.2f} ms".format(**e["serve"]["latency_ms"]["search_no_refresh"])),
        ("ask p50/p95", lambda e: "{p50:.2f}/{p95:.2f} ms".format(**e["serve"]["latency_ms"]["ask"])),
        (
            "search/embed",
            lambda e: f"{e['serve']['latency_ms']['search']['p50'] / e['serve']['latency_ms']['embed']['p50']:.2f}x",
        ),
        ("recall@10 vs exact", lambda e: f"{e['serve']['recall_at_10']:.3f}"),
        ("  ties within .01", lambda e: f"{e['serve']['recall_at_10_within_0.01']:.3f}"),
    ]
    cols = res["sizes"]
    w0 = max(len(r[0]) for r in rows)
    cells = [[f(e) for e in cols] for _, f in rows]
    ws = [max(len(e["size"]), *(len(c[i]) for c in cells)) for i, e in enumerate(cols)]
    lines = [" | ".join([" " * w0] + [e["size"].rjust(w) for e, w in zip(cols, ws)])]
    lines.append("-+-".join(["-" * w0] + ["-" * w for w in ws]))
    for (name, _), row in zip(rows, cells):
        lines.append(" | ".join([name.ljust(w0)] + [c.rjust(w) for c, w in zip(row, ws)]))
    lines.append("")
    lines.append("search components, p50 ms (as retriever.search runs them):")
    comps = list(cols[0]["serve"]["components_ms_p50"]) if cols else []
    for c in comps:
        lines.append(f"  {c:<15}" + "".join(f"{e['serve']['components_ms_p50'][c]:>10.3f}" for e in cols))
    for e in cols:
        if e["build"]["mode"] != "real":
            b = e["build"]
            lines.append(
                f"* {e['size']}: {b['real_embedded']} chunks embedded for real, the others derived "
                f"(+ N(0,{b['noise_sigma']}) noise, renormalized); builder.build took {b['build_s']} s "
                f"of which {b['vectors_s']} s making vectors: parse + BM25 + FAISS + write = {b['pipeline_s']} s"
            )
        if "flat_search_ms_p50" in e["serve"]:
            lines.append(f"  {e['size']}: exact (flat) search would take {e['serve']['flat_search_ms_p50']} ms p50")
        m = e["memory"]
        lines.append(
            f"  {e['size']} memory: chunks {m['chunks_mb']} MiB, FAISS {m['dense_mb']} MiB, "
            f"BM25 {m['lexical_mb']} MiB, model+runtime {e['serve']['rss_model_only_mb']} MiB"
        )
    if res.get("vault"):
        lines.append("")
        lines.append(vault_table(res["vault"]))
    cs = res.get("cold_start")
    if cs:
        lines.append(
            f"cold start to first answer: {cs['first_answer_s']} s (import {cs['import_s']} s) — {cs['method']}"
        )
    mach = res["machine"]
    lines.append(
        f"total bench time: {res['total_s']} s on {mach['cpus']} CPUs "
        f"(load average {mach['loadavg_start'][0]} at start, {mach['loadavg_end'][0]} at end)"
    )
    return "\n".join(lines)


def vault_table(vaults: list[dict]) -> str:
    """A vault opened for the first time, in the background (Retriever.open(..., background=True))."""
    rows = [
        ("passages (distinct)", lambda v: f"{v['chunks']}"),
        ("first answer", lambda v: f"{v['first_answer_s']:.1f} s"),
        ("  of which imports", lambda v: f"{v['import_s']:.1f} s"),
        ("  embedded by then", lambda v: f"{v['embedded_at_first_answer']}"),
        ("full index", lambda v: f"{v['full_index_s']:.0f} s"),
        ("ask while indexing p50", lambda v: f"{v['ask_while_indexing_ms_p50']} ms"),
        ("embedded/s", lambda v: f"{v['embedded_per_s']:.1f}"),
        ("bare engine/s", lambda v: f"{v['bare_per_s']:.1f} ({v['bare_texts']} texts)"),
        ("ratio", lambda v: f"{v['throughput_ratio'] * 100:.0f} %"),
        ("re-embedded on restart", lambda v: f"{v['reembedded_after_restart']}"),
        ("peak RSS", lambda v: f"{v['peak_rss_mb']:.0f} MiB"),
    ]
    w0 = max(len(r[0]) for r in rows)
    cells = [[f(v) for v in vaults] for _, f in rows]
    ws = [max(len(str(v["size"])), *(len(c[i]) for c in cells)) for i, v in enumerate(vaults)]
    lines = ["vault opened for the first time (background open): " + vaults[0]["model"]]
    lines.append(" | ".join([" " * w0] + [str(v["size"]).rjust(w) for v, w in zip(vaults, ws)]))
    lines.append("-+-".join(["-" * w0] + ["-" * w for w in ws]))
    for (name, _), row in zip(rows, cells):
        lines.append(" | ".join([name.ljust(w0)] + [c.rjust(w) for c, w in zip(row, ws)]))
    return "\n".join(lines)
